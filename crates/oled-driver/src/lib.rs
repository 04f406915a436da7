//! An SSD1306 OLED over any embedded-hal 1.0 [`I2c`](embedded_hal::i2c::I2c) bus that sends only
//! what changed, at the least cost on the bus.
//!
//! - [`Panel`]: one panel with the frame it holds; initialisation, contrast, power, inversion and
//!   rotation through the `ssd1306` crate; updates through [`plan`].
//! - [`plan`]: which GDDRAM blocks to send and how to address each one (page or horizontal
//!   addressing, commands in the data transaction when cheaper), costed byte for byte.
//! - [`care`]: night mode and burn-in care, decided from a given moment (tests use a fake clock).
//! - [`ticker`]: text wider than the panel on the move, by the controller's own scroll where it can.
//! - [`PanelError`]: bus errors keep embedded-hal's [`ErrorKind`](embedded_hal::i2c::ErrorKind).
//!
//! Frames come from [`oled_frame`]: page-major bytes, the controller's own layout. The crate has no
//! dependency on any runtime; the tests and examples run it against the `virtual-ssd1306` emulator.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bus;
pub mod care;
mod controller;
mod error;
mod panel;
pub mod plan;
mod settings;
mod stats;
pub mod ticker;

pub use error::PanelError;
pub use oled_frame::{Frame, PanelSize};
pub use panel::Panel;
pub use settings::{Controller, PanelGeometry, PanelSettings, Rotation, DEFAULT_CONTRAST};
pub use stats::{PanelStats, PresentCost};

/// Control byte that starts a transaction of commands (Co=0, D/C#=0).
pub const CONTROL_COMMANDS: u8 = 0x00;
/// Control byte that starts a transaction of GDDRAM data (Co=0, D/C#=1).
pub const CONTROL_DATA: u8 = 0x40;
