//! The outside of the component: HTTP and `wash call`. Routing is plain Rust over the domain, so it is
//! tested natively; only `export` (wasm-only) touches the generated bindings.

pub mod http;
pub mod invoke;
pub mod origin;
pub mod png;

#[cfg(target_arch = "wasm32")]
mod export;
