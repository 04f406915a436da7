//! Answers for `wash call oled-display oled-lattice:display/invoke.<fn>`: always a JSON string, errors
//! included, because `wash call` can only show what comes back.

use crate::domain::{Display, Panel};
use serde_json::json;

pub fn status<P: Panel>(d: &Display<P>) -> String {
    match d.status() {
        Ok(s) => json!({ "status": s }),
        Err(e) => json!({ "error": e.to_string() }),
    }
    .to_string()
}

pub fn clear<P: Panel>(d: &Display<P>) -> String {
    match d.clear() {
        Ok(bus) => json!({ "cleared": true, "bus": bus }),
        Err(e) => json!({ "error": e.to_string() }),
    }
    .to_string()
}

pub fn demo<P: Panel>(d: &Display<P>) -> String {
    match d.demo() {
        Ok(bus) => json!({ "demo": true, "bus": bus }),
        Err(e) => json!({ "error": e.to_string() }),
    }
    .to_string()
}

/// What `invoke.ticker` moves across the panel.
pub const TICKER_DEMO: &str =
    "oled-lattice: the logic is a Wasm component, the panel a native provider, one lattice between them";

/// A ticker for `wash call` (no arguments there): the demo line, moved by the panel's provider.
pub fn ticker<P: Panel>(d: &Display<P>) -> String {
    match d.ticker(TICKER_DEMO, &Default::default(), Default::default()) {
        Ok(shown) => json!({ "shown": shown }),
        Err(e) => json!({ "error": e.to_string() }),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{fake::FakePanel, PanelError};

    #[test]
    fn answers_are_json_including_errors() {
        let p = FakePanel::new(128, 64);
        let d = Display::new(&p);
        assert!(status(&d).contains("\"ssd1306\""));
        assert!(clear(&d).contains("\"cleared\":true"));
        assert!(demo(&d).contains("\"demo\":true"));
        let v: serde_json::Value = serde_json::from_str(&ticker(&d)).unwrap();
        assert_eq!(v["shown"]["text"], TICKER_DEMO);
        assert_eq!(v["shown"]["ticker"]["path"], "software");
        p.fail_with(PanelError::Bus("gone".into()));
        let v: serde_json::Value = serde_json::from_str(&demo(&d)).unwrap();
        assert_eq!(v["error"], "I2C bus error: gone");
    }
}
