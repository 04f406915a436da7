//! Panels by name: the fleet the component's `panels` configuration declares, and what a listing says
//! about each. Which provider and device a name reaches is the manifest's business: each name is a
//! link name of the component's links to the panel providers (wasmCloud's `set-link-name`).

use super::{Display, Panel, PanelError};
use serde::Serialize;

/// The link name of the panel `/` and the `invoke` functions draw on.
pub const DEFAULT_PANEL: &str = "default";

/// One panel of the fleet: its name (a link name) and the room it is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedPanel {
    pub name: String,
    pub room: String,
}

/// A name or a room: 1-32 characters of `a-z`, `0-9`, `-`, `_` (what a link name and a host label
/// can carry unchanged).
fn valid_name(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The `panels` configuration: `name:room` entries separated by commas (the room may be left out),
/// e.g. `kitchen-left:kitchen, kitchen-right:kitchen, hall:hall`. Names are unique; `*` is not a
/// name (it means "all"). An empty value is no fleet.
pub fn parse_panels(spec: &str) -> Result<Vec<NamedPanel>, String> {
    let mut panels: Vec<NamedPanel> = Vec::new();
    for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, room) = match entry.split_once(':') {
            Some((n, r)) => (n.trim(), r.trim()),
            None => (entry, ""),
        };
        if !valid_name(name) {
            return Err(format!(
                "panels: `{entry}`: a name is 1-32 characters of a-z, 0-9, - and _"
            ));
        }
        if !room.is_empty() && !valid_name(room) {
            return Err(format!(
                "panels: `{entry}`: a room is 1-32 characters of a-z, 0-9, - and _"
            ));
        }
        if panels.iter().any(|p| p.name == name) {
            return Err(format!("panels: `{name}` is named twice"));
        }
        panels.push(NamedPanel {
            name: name.to_string(),
            room: room.to_string(),
        });
    }
    Ok(panels)
}

/// What `GET /panels` says about one panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PanelEntry {
    pub name: String,
    pub room: String,
    /// `ok`, or why the panel cannot be used now, or why its state is not being saved.
    pub health: String,
    /// HTTP status an update of this panel would get now: 200, or the error's.
    pub status: u16,
    pub controller: Option<String>,
    pub size: Option<String>,
    /// The text on the panel, as the panel remembers it.
    pub shows: Option<String>,
    /// The glass, read back from the panel (`#` lit), when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ascii: Option<String>,
    /// Night mode and burn-in care now.
    pub care: Option<super::Care>,
    /// The ticker running, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticker: Option<super::TickerNow>,
}

/// The HTTP status of a panel error: the panel or its Pi cannot be reached (503), did not answer in
/// time (504), its bus failed (502), or it refused what we sent (500).
pub fn error_status(e: &PanelError) -> u16 {
    match e {
        PanelError::Absent(_) | PanelError::Unreachable(_) => 503,
        PanelError::TimedOut(_) => 504,
        PanelError::Bus(_) => 502,
        PanelError::BadFrame(_) | PanelError::Invalid(_) => 500,
    }
}

/// The listing entry of `panel`, asking it through `display` (with its picture if `with_ascii`).
pub fn entry<P: Panel>(panel: &NamedPanel, display: &Display<P>, with_ascii: bool) -> PanelEntry {
    match display.status() {
        Ok(s) => PanelEntry {
            ascii: with_ascii.then(|| display.ascii().unwrap_or_else(|e| e.to_string())),
            name: panel.name.clone(),
            room: panel.room.clone(),
            health: match &s.panel.unsaved {
                None => "ok".to_string(),
                Some(why) => format!("shows changes, but its state is not being saved: {why}"),
            },
            status: 200,
            controller: Some(s.panel.driver),
            size: Some(format!("{}x{}", s.panel.width, s.panel.height)),
            shows: s.last_text,
            care: s.care,
            ticker: s.ticker,
        },
        Err(e) => PanelEntry {
            name: panel.name.clone(),
            room: panel.room.clone(),
            health: e.to_string(),
            status: error_status(&e),
            controller: None,
            size: None,
            shows: None,
            ascii: None,
            care: None,
            ticker: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_panel_whose_state_is_not_saved_says_so_and_still_takes_updates() {
        let named = parse_panels("kitchen").unwrap().remove(0);
        let fake = super::super::fake::FakePanel::new(128, 64);
        let e = entry(&named, &Display::new(&fake), false);
        assert_eq!((e.health.as_str(), e.status), ("ok", 200));
        fake.unsaved("the disk is full");
        let e = entry(&named, &Display::new(&fake), false);
        assert_eq!(e.status, 200);
        assert!(
            e.health.contains("not being saved: the disk is full"),
            "{}",
            e.health
        );
    }

    #[test]
    fn names_rooms_and_refusals() {
        let p = parse_panels(" kitchen-left:kitchen, kitchen-right : kitchen ,hall").unwrap();
        assert_eq!(
            p.iter()
                .map(|p| (p.name.as_str(), p.room.as_str()))
                .collect::<Vec<_>>(),
            [
                ("kitchen-left", "kitchen"),
                ("kitchen-right", "kitchen"),
                ("hall", "")
            ]
        );
        assert!(parse_panels("").unwrap().is_empty());
        assert!(parse_panels(" , ").unwrap().is_empty());
        for bad in [
            "a,a",
            "*",
            "Kitchen",
            "a:B",
            "a b",
            &"x".repeat(33),
            "a:",
            "a:b:c",
        ] {
            let r = parse_panels(bad);
            if bad == "a:" {
                assert!(r.is_ok(), "an empty room is no room");
                continue;
            }
            assert!(r.is_err(), "{bad:?} -> {r:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Random specs: never a panic; what is accepted has unique valid names and round-trips.
        #[test]
        fn panels_parser_2000_random_specs(spec in "[a-z0-9:, _*A-Z-]{0,60}") {
            if let Ok(panels) = parse_panels(&spec) {
                for p in &panels {
                    prop_assert!(valid_name(&p.name));
                    prop_assert!(p.room.is_empty() || valid_name(&p.room));
                }
                let again: Vec<String> = panels.iter().map(|p| format!("{}:{}", p.name, p.room)).collect();
                prop_assert_eq!(parse_panels(&again.join(",")).unwrap(), panels);
            }
        }
    }
}
