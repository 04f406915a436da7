//! The `oled-lattice:panel` contract as this provider serves it: the bindings generated from
//! `wit/panel` (world `provider`) and the wRPC instance names components call.

wit_bindgen_wrpc::generate!({
    world: "provider",
    path: "../../wit/panel",
});

/// The wRPC instances this provider serves, as components name them (with the package version).
pub const PANEL_INSTANCE: &str = "oled-lattice:panel/panel@0.1.0";
pub const INSPECT_INSTANCE: &str = "oled-lattice:panel/inspect@0.1.0";
/// `wash call` names a function without the package version (`oled-lattice:panel/inspect.ascii` invokes
/// instance `oled-lattice:panel/inspect`), so the inspect functions are served under this name too.
pub const INSPECT_ALIAS: &str = "oled-lattice:panel/inspect";
