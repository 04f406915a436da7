//! Generated bindings and the adapters that make them the domain's ports. Wasm-only.

pub mod bindings {
    wit_bindgen::generate!({
        path: ["../../wit/logging", "../../wit/panel", "../../wit/display"],
        world: "oled-lattice:display/component",
        pub_export_macro: true,
        generate_all,
    });
}

use crate::domain::{Panel, PanelError, PanelInfo, PresentCost};
use bindings::oled_lattice::panel::{panel as wit, types};
use bindings::wasi::logging::logging::{log, Level};

/// The panel on the other end of the lattice link, reached over wRPC by the host.
pub struct LatticePanel;

impl From<types::PanelError> for PanelError {
    fn from(e: types::PanelError) -> Self {
        match e {
            types::PanelError::BadFrame(m) => PanelError::BadFrame(m),
            types::PanelError::Bus(m) => PanelError::Bus(m),
            types::PanelError::Absent(m) => PanelError::Absent(m),
            types::PanelError::Invalid(m) => PanelError::Invalid(m),
        }
    }
}

impl Panel for LatticePanel {
    fn info(&self) -> Result<PanelInfo, PanelError> {
        let i = wit::info()?;
        Ok(PanelInfo {
            width: i.width,
            height: i.height,
            driver: i.driver,
            backend: i.backend,
            bus: i.bus,
            address: i.address,
            rotation: i.rotation,
        })
    }

    fn last_text(&self) -> Result<Option<String>, PanelError> {
        Ok(wit::last_text()?)
    }

    fn present(&self, frame: &[u8], text: Option<&str>) -> Result<PresentCost, PanelError> {
        let c = match text {
            Some(t) => wit::present_text(frame, t),
            None => wit::present(frame),
        }
        .inspect_err(|e| warn(&format!("present failed: {e:?}")))?;
        Ok(PresentCost {
            bytes: c.bytes,
            transactions: c.transactions,
            pages_touched: c.pages_touched,
            full_refresh: c.full_refresh,
        })
    }
}

const CONTEXT: &str = "oled-display";

pub fn info(msg: &str) {
    log(Level::Info, CONTEXT, msg);
}

pub fn warn(msg: &str) {
    log(Level::Warn, CONTEXT, msg);
}
