//! Shared pieces of the benchmarks: the typed wRPC client of the display and the panel's inspect
//! interface (the calls `wash call` makes).

/// Bindings of the `oled-lattice:display/invoker` world: `invoke.*` of the display, `inspect.*` of the
/// panel.
pub mod bindings {
    wit_bindgen_wrpc::generate!({
        path: [
            "../../wit/deps/wasi-io-0.2.2",
            "../../wit/deps/wasi-config-0.2.0-draft",
            "../../wit/rpc",
            "../../wit/bus",
            "../../wit/panel",
            "../../wit/logging",
            "../../wit/display",
        ],
        world: "oled-lattice:display/invoker",
        generate_all,
    });
}
