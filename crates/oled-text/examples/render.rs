//! Renders text with the text engine (the component's core), natively, as the panel would show it (ASCII art).
//! `cargo run -p oled-text --example render -- "Hello" [WIDTH HEIGHT]`; the e2e tests compare
//! the lattice's panel with this.

use oled_text::{render, Style};

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let text = args.next().ok_or("usage: render TEXT [WIDTH HEIGHT]")?;
    let mut dim = |d: u16| -> Result<u16, String> {
        args.next().map_or(Ok(d), |v| {
            v.parse().map_err(|e| format!("bad size {v}: {e}"))
        })
    };
    let (w, h) = (dim(128)?, dim(64)?);
    print!(
        "{}",
        render(&text, &Style::default(), w, h).frame.to_ascii()
    );
    Ok(())
}
