//! The OLED capability provider of oled-lattice: an SSD1306 on a Raspberry Pi's I2C bus (or the virtual
//! SSD1306), served to components over wRPC as `oled-lattice:panel`.
//!
//! The update path itself (frame shadow, planning, bus, init, errors) is the `oled-driver` library;
//! this crate wires it to wasmCloud.
//!
//! - [`config`]: named config and link config.
//! - [`backend`]: `i2c` and `virtual` behind one trait.
//! - [`owner`]: the single task that owns a panel's bus.
//! - [`bindings`]: the `oled-lattice:panel` contract (generated) and its wRPC instance names.
//! - [`provider`]: the wasmCloud provider: config, link routing and the devices it reconciles;
//!   `handlers` (private) implements the contract on it, and `serve` (private) serves any handler of
//!   the contract, one task per invocation.
//! - [`state`]: the durable panel state (last picture, contrast, power, inversion, text).
//! - [`journal`]: what reached the glass, and when (for the fault bench's judge).

#![forbid(unsafe_code)]

pub mod backend;
pub mod bindings;
pub mod config;
mod handlers;
pub mod journal;
pub mod owner;
pub mod provider;
mod serve;
pub mod state;

pub use oled_driver::{
    Panel, PanelError, PanelSettings, PanelSize, PanelStats, PresentCost, Rotation,
};
pub use oled_frame::Frame;
