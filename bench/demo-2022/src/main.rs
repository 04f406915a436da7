//! The update path of the 2022 wasmCloud Raspberry Pi OLED demo, for the S16 comparison: the crate
//! versions it used (ssd1306 0.7, embedded-graphics 0.7, embedded-text 0.5, embedded-hal 0.2) and what
//! its provider did for every update: initialise the panel, clear the buffer, draw the wrapped text,
//! flush the whole buffer.
//!
//! It talks to no hardware: every I2C write is printed as `w <address> <hex payload>`, after a line
//! `init` (the driver built, once) or `step <n>`; `oled-bench`'s `s16` replays them into our virtual
//! SSD1306 and counts them exactly as it counts ours.
//!
//! `cargo run --release --manifest-path bench/demo-2022/Cargo.toml -- scenarios/s16.txt`

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::Write as _;
use std::rc::Rc;

use embedded_graphics::mono_font::{ascii::FONT_6X10, MonoTextStyle};
use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use embedded_hal::blocking::i2c::Write;
use embedded_text::alignment::HorizontalAlignment;
use embedded_text::style::{HeightMode, TextBoxStyleBuilder};
use embedded_text::TextBox;
use ssd1306::prelude::*;
use ssd1306::{I2CDisplayInterface, Ssd1306};

/// An embedded-hal 0.2 I2C bus that writes down what it is asked to write, in the log it shares
/// with the step markers.
struct Recorder(Rc<RefCell<String>>);

impl Write for Recorder {
    type Error = std::fmt::Error;

    fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        let mut log = self.0.borrow_mut();
        write!(log, "w {address:02x} ")?;
        for b in bytes {
            write!(log, "{b:02x}")?;
        }
        writeln!(log)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: demo-2022-s16 SCENARIO")?;
    let scenario = std::fs::read_to_string(&path)?;
    let log = Rc::new(RefCell::new(String::from("init\n")));
    let interface = I2CDisplayInterface::new(Recorder(Rc::clone(&log)));
    let mut display = Ssd1306::new(interface, DisplaySize128x64, DisplayRotation::Rotate0)
        .into_buffered_graphics_mode();
    let character_style = MonoTextStyle::new(&FONT_6X10, BinaryColor::On);
    let textbox_style = TextBoxStyleBuilder::new()
        .height_mode(HeightMode::FitToText)
        .alignment(HorizontalAlignment::Left)
        .build();
    let bounds = Rectangle::new(Point::zero(), Size::new(128, 64));

    let mut step = 0;
    for line in scenario.lines() {
        let text = if let Some(t) = line.strip_prefix("show:") {
            t
        } else if line.trim() == "clear" {
            ""
        } else {
            continue;
        };
        step += 1;
        writeln!(log.borrow_mut(), "step {step}")?;
        display.init().map_err(|e| format!("init: {e:?}"))?;
        display.clear();
        TextBox::with_textbox_style(text, bounds, character_style, textbox_style)
            .draw(&mut display)
            .map_err(|e| format!("draw: {e:?}"))?;
        display.flush().map_err(|e| format!("flush: {e:?}"))?;
    }
    std::io::stdout().write_all(log.borrow().as_bytes())?;
    Ok(())
}
