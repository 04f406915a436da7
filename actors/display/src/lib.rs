//! The display component, in the Onion's layers from the inside out:
//!
//! - [`core`]: pure text -> frame (layout, fonts, ellipsis): the `oled-text` library.
//! - [`domain`]: the use cases (show, clear, status, demo) against the [`domain::Panel`] port.
//! - `infra` (wasm only): generated WIT bindings; the lattice panel that implements the port; logging.
//! - [`api`]: HTTP and `wash call` semantics, and (wasm only) the exports that wire them up.

pub mod api;
pub use oled_text as core;
pub mod domain;
pub mod infra;
