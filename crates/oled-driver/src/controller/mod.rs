//! What differs between the controllers a panel can have: the SSD1306 is driven through the
//! `ssd1306` crate; the SH1106 and the SSD1309 get their initialisation as one command transaction
//! (the rest of their commands are the SSD1306's).

mod sh1106;
mod ssd1306;
mod ssd1309;

pub(crate) use self::ssd1306::PanelCommands;
pub(crate) use sh1106::sh1106_init;
pub(crate) use ssd1309::ssd1309_init;
