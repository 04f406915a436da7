//! What the fleet's listing says a panel shows, checked against the text engine.
//!
//! `GET /panels?ascii=1` lists every panel with `name`, `size` (`"128x64"`), `shows` (the text it
//! was last given) and `ascii` (its glass, read back over its own link). [`check_shows`] passes when
//! the panel says it shows the text *and* its glass is exactly what the text engine renders for it.
//!
//! ```
//! let glass = oled_text::render("Hi", &oled_text::Style::default(), 128, 64).frame.to_ascii();
//! let listing = serde_json::json!({"panels": [
//!     {"name": "hall", "size": "128x64", "shows": "Hi", "ascii": glass}
//! ]}).to_string();
//! assert!(oled_bench::listing::check_shows(&listing, "hall", "Hi").is_ok());
//! assert!(oled_bench::listing::check_shows(&listing, "hall", "Ho").is_err());
//! ```

use oled_text::{blank, demo, demo_titled, render, Style, DEMO_TEXT};
use serde_json::Value;

/// `Ok` when panel `name` of `listing` (the JSON of `GET /panels?ascii=1`) shows `text`, word and
/// picture; otherwise what it shows instead.
pub fn check_shows(listing: &str, name: &str, text: &str) -> Result<(), String> {
    let root: Value = serde_json::from_str(listing).map_err(|e| format!("not JSON: {e}"))?;
    let panels = root
        .get("panels")
        .and_then(Value::as_array)
        .ok_or("no 'panels' array in the listing")?;
    let panel = panels
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| format!("no panel named {name:?} in the listing"))?;
    let (w, h) = panel
        .get("size")
        .and_then(Value::as_str)
        .and_then(|s| s.split_once('x'))
        .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
        .unwrap_or((128, 64));
    let shows = panel.get("shows").and_then(Value::as_str);
    let glass = panel.get("ascii").and_then(Value::as_str).unwrap_or("");
    let want = render(text, &Style::default(), w, h).frame.to_ascii();
    let mut wrong = Vec::new();
    if shows != Some(text) {
        wrong.push(format!("it says it shows {shows:?}, not {text:?}"));
    }
    if glass.trim_end_matches('\n') != want.trim_end_matches('\n') {
        wrong.push(format!(
            "its glass differs from the rendering of {text:?}:\n{}",
            glass.lines().take(20).collect::<Vec<_>>().join("\n")
        ));
    }
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("panel {name}: {}", wrong.join("; ")))
    }
}

/// The pictures (text art) a `w` x `h` panel may show after an update that left `expect` as its
/// text: the text engine's rendering, a blank panel for "", or the demo screen (one picture per demo
/// title a rollout may show; the default title when `titles` is empty).
///
/// ```
/// let pictures = oled_bench::listing::expected_ascii("", 128, 64, &[]);
/// assert!(!pictures[0].contains('#'));
/// ```
pub fn expected_ascii(expect: &str, w: u16, h: u16, titles: &[String]) -> Vec<String> {
    if expect == DEMO_TEXT {
        if titles.is_empty() {
            return vec![demo(w, h).to_ascii()];
        }
        return titles
            .iter()
            .map(|t| demo_titled(w, h, t).to_ascii())
            .collect();
    }
    let frame = if expect.is_empty() {
        blank(w, h)
    } else {
        render(expect, &Style::default(), w, h).frame
    };
    vec![frame.to_ascii()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(name: &str, shows: &str, glass_of: &str) -> String {
        let glass = render(glass_of, &Style::default(), 128, 64)
            .frame
            .to_ascii();
        serde_json::json!({"panels": [
            {"name": "other", "size": "128x64", "shows": "x", "ascii": ""},
            {"name": name, "size": "128x64", "shows": shows, "ascii": glass},
        ]})
        .to_string()
    }

    #[test]
    fn the_right_text_on_the_right_glass_passes() {
        assert_eq!(
            check_shows(&listing("hall", "Hall way", "Hall way"), "hall", "Hall way"),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_word_a_wrong_glass_or_a_missing_panel_fails() {
        let e =
            check_shows(&listing("hall", "Dinner!", "Dinner!"), "hall", "Hall way").unwrap_err();
        assert!(
            e.contains("says it shows") && e.contains("glass differs"),
            "{e}"
        );
        let e =
            check_shows(&listing("hall", "Hall way", "Dinner!"), "hall", "Hall way").unwrap_err();
        assert!(
            !e.contains("says it shows") && e.contains("glass differs"),
            "{e}"
        );
        let e = check_shows(
            &listing("hall", "Hall way", "Hall way"),
            "kitchen",
            "Hall way",
        )
        .unwrap_err();
        assert!(e.contains("no panel named"), "{e}");
        assert!(check_shows("[]", "hall", "x")
            .unwrap_err()
            .contains("'panels'"));
    }
}
