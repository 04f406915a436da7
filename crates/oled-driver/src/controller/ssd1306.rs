//! The SSD1306, through the `ssd1306` crate's driver.

use display_interface::{DisplayError, WriteOnlyDataCommand};
use ssd1306::command::AddrMode;
use ssd1306::mode::BasicMode;
use ssd1306::prelude::{Brightness, DisplayRotation};
use ssd1306::Ssd1306;

/// The driver calls the panel uses, object-safe so one closure serves both glass sizes.
pub(crate) trait PanelCommands {
    fn init_horizontal(&mut self) -> Result<(), DisplayError>;
    fn set_brightness(&mut self, b: Brightness) -> Result<(), DisplayError>;
    fn set_display_on(&mut self, on: bool) -> Result<(), DisplayError>;
    fn set_invert(&mut self, inverted: bool) -> Result<(), DisplayError>;
    fn set_rotation(&mut self, rotation: DisplayRotation) -> Result<(), DisplayError>;
}

impl<DI, SIZE> PanelCommands for Ssd1306<DI, SIZE, BasicMode>
where
    DI: WriteOnlyDataCommand,
    SIZE: ssd1306::size::DisplaySize,
{
    fn init_horizontal(&mut self) -> Result<(), DisplayError> {
        self.init_with_addr_mode(AddrMode::Horizontal)
    }

    fn set_brightness(&mut self, b: Brightness) -> Result<(), DisplayError> {
        Ssd1306::set_brightness(self, b)
    }

    fn set_display_on(&mut self, on: bool) -> Result<(), DisplayError> {
        Ssd1306::set_display_on(self, on)
    }

    fn set_invert(&mut self, inverted: bool) -> Result<(), DisplayError> {
        Ssd1306::set_invert(self, inverted)
    }

    fn set_rotation(&mut self, rotation: DisplayRotation) -> Result<(), DisplayError> {
        Ssd1306::set_rotation(self, rotation)
    }
}
