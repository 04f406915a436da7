//! What the tests against other driver crates share: the emulator behind an embedded-hal 0.2 bus
//! (what the `sh1106` and `ssd1309` crates speak).

use virtual_ssd1306::SharedPanel;

/// The emulator behind an embedded-hal 0.2 bus.
pub struct Bus(pub SharedPanel);

impl embedded_hal_02::blocking::i2c::Write for Bus {
    type Error = virtual_ssd1306::BusError;

    fn write(&mut self, address: u8, bytes: &[u8]) -> Result<(), Self::Error> {
        embedded_hal::i2c::I2c::write(&mut self.0, address, bytes)
    }
}
