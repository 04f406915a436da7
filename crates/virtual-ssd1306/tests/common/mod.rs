//! What the tests against other driver crates share: the emulator behind an embedded-hal 0.2 bus
//! (what the `sh1106` and `ssd1309` crates speak) and a picture that shows any shift or mirror.

#![allow(dead_code)] // each test file uses what it needs

use virtual_ssd1306::SharedPanel;

/// The emulator behind an embedded-hal 0.2 bus.
pub struct Bus(pub SharedPanel);

impl embedded_hal_02::blocking::i2c::Write for Bus {
    type Error = virtual_ssd1306::BusError;

    fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        embedded_hal::i2c::I2c::write(&mut self.0, address, bytes)
    }
}

/// Something in every corner of a `w` x `h` picture and an asymmetric mark.
pub fn pattern(x: u32, y: u32, w: u32, h: u32) -> bool {
    x == 0 || y == 0 || x == w - 1 || y == h - 1 || (x + 2 * y) % 7 == 0 || (x < 20 && y < 10)
}

/// The panel shows exactly the `w` x `h` pattern.
pub fn assert_shows_pattern(shared: &SharedPanel, w: u32, h: u32, what: &str) {
    let shown = shared.with(|p| p.visible());
    for y in 0..h {
        for x in 0..w {
            assert_eq!(
                shown.pixel(x as u16, y as u16),
                pattern(x, y, w, h),
                "{what}: pixel ({x}, {y})\n{}",
                shown.to_ascii()
            );
        }
    }
}
