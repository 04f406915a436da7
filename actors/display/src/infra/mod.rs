//! Infrastructure: how the domain's port reaches the panel over the lattice.
//!
//! - [`wire`]: the wRPC encoding of the panel calls (pure, tested natively).
//! - `lattice` (wasm only): generated bindings, the panel port over `wrpc:rpc` with a deadline, logging.

pub mod wire;

#[cfg(target_arch = "wasm32")]
mod lattice;
#[cfg(target_arch = "wasm32")]
pub use lattice::{bindings, config, info, panel_size_hint, warn, LatticePanel};
