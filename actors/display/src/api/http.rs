//! HTTP semantics of the display, independent of `wasi:http`.
//!
//! `wash call ... --http-body "Hello"` sends a GET with a body, so a body means "show" for GET too;
//! a GET without one asks for status.

use super::png;
use crate::domain::fleet::{self, NamedPanel, DEFAULT_PANEL};
use crate::domain::{
    style_from, Display, Panel, PanelError, TickerOptions, DEFAULT_TICKER_SPEED, MAX_TEXT_BYTES,
    MAX_TICKER_SPEED,
};
use serde::Deserialize;
use serde_json::json;

/// Largest body read; JSON escaping can make a 4 KiB text larger than 4 KiB of body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub const ALLOW: &str = "GET, POST, PUT, DELETE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
    Other,
}

#[derive(Debug)]
pub struct Request<'a> {
    pub method: Method,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// The body was longer than [`MAX_BODY_BYTES`] and was not read to its end.
    pub body_truncated: bool,
    /// The `Accept` header: a browser's `text/html` gets the live view.
    pub accept: Option<&'a str>,
    /// The `If-None-Match` header: an image the caller has already is a 304.
    pub if_none_match: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// Set on 405, as HTTP asks.
    pub allow: Option<&'static str>,
    pub content_type: &'static str,
    /// A binary body (an image), sent instead of `body`.
    pub bytes: Option<Vec<u8>>,
    /// The entity tag of an image (sent with 200 and 304).
    pub etag: Option<String>,
    /// The change is shown but the panel's state could not be saved: header `oled-state: unsaved`
    /// (the body's `unsaved` says why).
    pub unsaved: bool,
}

impl Default for Response {
    fn default() -> Self {
        Self {
            status: 200,
            body: String::new(),
            allow: None,
            content_type: Self::CONTENT_TYPE,
            bytes: None,
            etag: None,
            unsaved: false,
        }
    }
}

impl Response {
    pub const CONTENT_TYPE: &'static str = "application/json";

    fn ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            body: body.to_string(),
            ..Self::default()
        }
    }

    /// 200 for a change the panel shows; when its state could not be saved, the body says why
    /// (`unsaved`, besides the bus cost's own) and the header `oled-state: unsaved` is set.
    fn changed(shown: serde_json::Value, unsaved: Option<&str>) -> Self {
        match unsaved {
            None => Self::ok(json!({ "shown": shown })),
            Some(why) => Self {
                unsaved: true,
                ..Self::ok(json!({ "shown": shown, "unsaved": why }))
            },
        }
    }

    /// A request whose body could not be read to its end (the stream broke): not the caller's fault
    /// and nothing was shown, so 503 with the reason rather than a misleading "no text".
    pub fn body_unreadable(why: &str) -> Self {
        Self::error(
            503,
            format!("the request body could not be read ({why}); nothing was shown, send it again"),
        )
    }

    /// The component's own configuration cannot be used: 500 with the reason.
    pub fn config_error(why: &str) -> Self {
        Self::error(
            500,
            format!("the display component's configuration is invalid: {why}"),
        )
    }

    /// A write from a browser page of another origin (see `api::origin`): 403 with the reason.
    pub fn cross_origin(why: &str) -> Self {
        Self::error(403, why.to_string())
    }

    /// A write without the display's write token: 401 with the reason.
    pub fn token_required(why: &str) -> Self {
        Self::error(401, why.to_string())
    }

    fn error(status: u16, reason: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": reason.into(), "status": status }).to_string(),
            ..Self::default()
        }
    }
}

/// `application/json` requests: only these fields, so a typo is an error rather than silently ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShowJson {
    text: String,
    align: Option<String>,
    valign: Option<String>,
    font: Option<String>,
    invert: Option<bool>,
    /// Move the text as a ticker: `{"speed": columns a second, "path": "auto" | "software"}`.
    ticker: Option<TickerJson>,
}

/// The `ticker` field of a JSON request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TickerJson {
    speed: Option<u32>,
    path: Option<String>,
}

impl TickerJson {
    fn options(&self) -> Result<TickerOptions, String> {
        let software = match self.path.as_deref() {
            None | Some("auto") | Some("hardware") => false,
            Some("software") => true,
            Some(other) => {
                return Err(format!(
                    "ticker path `{other}` is not one of auto, hardware, software"
                ))
            }
        };
        let speed = self.speed.unwrap_or(u32::from(DEFAULT_TICKER_SPEED));
        match u16::try_from(speed) {
            Ok(speed) if (1..=MAX_TICKER_SPEED).contains(&speed) => {
                Ok(TickerOptions { speed, software })
            }
            _ => Err(format!(
                "ticker speed {speed} is not 1-{MAX_TICKER_SPEED} columns a second"
            )),
        }
    }
}

fn panel_error(e: PanelError) -> Response {
    Response::error(fleet::error_status(&e), e.to_string())
}

/// Where a request goes, by its path (query and a trailing slash ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route<'a> {
    /// `/`: the default panel.
    Default,
    /// `/panels`: the listing.
    List,
    /// `/panels/{name}`.
    One(&'a str),
    /// `/panels/*`: every panel.
    All,
    /// `/panel.png` (the default panel) and `/panels/{name}.png`: the picture it holds.
    Png(&'a str),
    NotFound,
}

pub fn route(path: &str) -> Route<'_> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.strip_suffix('/').unwrap_or(path);
    match path {
        "" => Route::Default,
        "/panels" => Route::List,
        "/panels/*" => Route::All,
        "/panel.png" => Route::Png(DEFAULT_PANEL),
        _ => match path.strip_prefix("/panels/") {
            Some(name) if !name.is_empty() && !name.contains('/') => {
                match name.strip_suffix(".png") {
                    Some(n) if !n.is_empty() => Route::Png(n),
                    _ => Route::One(name),
                }
            }
            _ => Route::NotFound,
        },
    }
}

/// The panels a listing and `/panels/...` know: the declared fleet, or the default panel alone.
fn names(panels: &[NamedPanel]) -> Vec<NamedPanel> {
    if panels.is_empty() {
        vec![NamedPanel {
            name: DEFAULT_PANEL.to_string(),
            room: String::new(),
        }]
    } else {
        panels.to_vec()
    }
}

/// The listing: every panel, asked through its own link (a panel that does not answer is listed
/// with its reason, after its deadline; the others are not held up by it); with each picture if
/// `with_ascii`.
pub fn listing<P: Panel>(
    panels: &[NamedPanel],
    display_for: &dyn Fn(&str) -> Display<P>,
    with_ascii: bool,
) -> serde_json::Value {
    let entries: Vec<_> = names(panels)
        .iter()
        .map(|p| fleet::entry(p, &display_for(&p.name), with_ascii))
        .collect();
    json!({ "panels": entries })
}

/// The live view (`GET /` from a browser): every panel's picture, polled with its entity tag, and a
/// form to send text. Served by this component; no other web server.
pub const LIVE_PAGE: &str = include_str!("assets/live.html");

/// A browser asking for a page: `GET /` without a body, `Accept` naming `text/html`.
fn wants_page(req: &Request<'_>) -> bool {
    req.method == Method::Get
        && req.body.is_empty()
        && req
            .accept
            .is_some_and(|a| a.to_ascii_lowercase().contains("text/html"))
}

/// `GET /panel.png`, `/panels/{name}.png`: the picture the panel holds (from its provider's memory,
/// no bus traffic), with its entity tag; 304 when the caller already has it.
fn image<P: Panel>(display: &Display<P>, req: &Request<'_>) -> Response {
    if req.method != Method::Get {
        return Response {
            allow: Some("GET"),
            ..Response::error(405, "a panel's picture is read with GET")
        };
    }
    let frame = match display.shown() {
        Ok(f) => f,
        Err(e) => return panel_error(e),
    };
    let tag = png::etag(&frame);
    let same = req
        .if_none_match
        .is_some_and(|h| h.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if same {
        return Response {
            status: 304,
            etag: Some(tag),
            content_type: "image/png",
            ..Response::default()
        };
    }
    Response {
        bytes: Some(png::png(&frame)),
        etag: Some(tag),
        content_type: "image/png",
        ..Response::default()
    }
}

/// `?ascii` (or `?ascii=1`) in the query: the listing carries each panel's picture.
fn wants_ascii(path: &str) -> bool {
    path.split_once('?').is_some_and(|(_, q)| {
        q.split('&')
            .any(|kv| kv == "ascii" || kv.strip_prefix("ascii=").is_some_and(|v| v != "0"))
    })
}

/// A request by path: `/` the default panel (as [`handle`]), `GET /panels` the listing,
/// `/panels/{name}` one panel, `/panels/*` all of them, each answering for itself.
pub fn handle_path<P: Panel>(
    path: &str,
    panels: &[NamedPanel],
    display_for: &dyn Fn(&str) -> Display<P>,
    req: &Request<'_>,
) -> Response {
    let known = names(panels);
    let unknown = |name: &str| {
        let list: Vec<&str> = known.iter().map(|p| p.name.as_str()).collect();
        Response {
            status: 404,
            body: json!({
                "error": format!("no panel named `{name}`; the panels are: {}", list.join(", ")),
                "status": 404,
                "panels": list,
            })
            .to_string(),
            ..Response::default()
        }
    };
    match route(path) {
        Route::Default if wants_page(req) => Response {
            body: LIVE_PAGE.to_string(),
            content_type: "text/html; charset=utf-8",
            ..Response::default()
        },
        Route::Default => handle(&display_for(DEFAULT_PANEL), req),
        Route::Png(name) if !known.iter().any(|p| p.name == name) => unknown(name),
        Route::Png(name) => image(&display_for(name), req),
        Route::List => match (req.method, req.body.is_empty()) {
            (Method::Get, true) => Response::ok(listing(panels, display_for, wants_ascii(path))),
            _ => Response {
                allow: Some("GET"),
                ..Response::error(
                    405,
                    "GET /panels lists the panels; POST to /panels/{name} or /panels/* to show text",
                )
            },
        },
        Route::One(name) => {
            if known.iter().any(|p| p.name == name) {
                handle(&display_for(name), req)
            } else {
                unknown(name)
            }
        }
        Route::All => {
            if req.method == Method::Get && req.body.is_empty() {
                return Response::ok(listing(panels, display_for, wants_ascii(path)));
            }
            // Each panel answers for itself; one that is down does not hold up the others' updates.
            let mut statuses = Vec::new();
            let mut per_panel = serde_json::Map::new();
            let mut allow = None;
            for p in &known {
                let r = handle(&display_for(&p.name), req);
                statuses.push(r.status);
                allow = allow.or(r.allow);
                let mut body: serde_json::Value =
                    serde_json::from_str(&r.body).unwrap_or_else(|_| json!({}));
                body["status"] = json!(r.status);
                per_panel.insert(p.name.clone(), body);
            }
            let status = match statuses.first() {
                Some(first) if statuses.iter().all(|s| s == first) => *first,
                _ => 207,
            };
            Response {
                status,
                body: json!({ "panels": per_panel }).to_string(),
                allow,
                ..Response::default()
            }
        }
        Route::NotFound => Response::error(
            404,
            format!("no such path `{path}`: use /, /panels, /panels/{{name}} or /panels/*"),
        ),
    }
}

pub fn handle<P: Panel>(display: &Display<P>, req: &Request<'_>) -> Response {
    let has_body = !req.body.is_empty();
    match (req.method, has_body) {
        (Method::Get, false) => match display.status() {
            Ok(s) => Response::ok(json!({ "status": s })),
            Err(e) => panel_error(e),
        },
        (Method::Delete, _) => match display.clear() {
            Ok(bus) => Response::ok(json!({ "cleared": true, "bus": bus })),
            Err(e) => panel_error(e),
        },
        (Method::Post | Method::Put, false) => Response::error(
            400,
            "no text to show: send it as the body (text/plain or JSON {\"text\": ...}); DELETE clears",
        ),
        (Method::Get | Method::Post | Method::Put, true) => show(display, req),
        (Method::Other, _) => Response {
            allow: Some(ALLOW),
            ..Response::error(405, format!("method not allowed; use {ALLOW}"))
        },
    }
}

fn show<P: Panel>(display: &Display<P>, req: &Request<'_>) -> Response {
    if req.body_truncated {
        return Response::error(
            413,
            format!("body over {MAX_BODY_BYTES} bytes; text may be at most {MAX_TEXT_BYTES} bytes"),
        );
    }
    let media = req.content_type.map(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let mut ticker = None;
    let (text, style) = match media.as_deref() {
        // `curl -d TEXT` labels its raw body as a form; people mean plain text.
        None | Some("") | Some("text/plain") | Some("application/x-www-form-urlencoded") => {
            match std::str::from_utf8(req.body) {
                Ok(t) => (t.to_string(), Default::default()),
                Err(e) => return Response::error(400, format!("body is not UTF-8 text: {e}")),
            }
        }
        Some("application/json") => {
            let parsed: ShowJson = match serde_json::from_slice(req.body) {
                Ok(p) => p,
                Err(e) => return Response::error(400, format!("bad JSON: {e}")),
            };
            if let Some(t) = &parsed.ticker {
                match t.options() {
                    Ok(o) => ticker = Some(o),
                    Err(reason) => return Response::error(400, reason),
                }
            }
            match style_from(
                parsed.font.as_deref(),
                parsed.align.as_deref(),
                parsed.valign.as_deref(),
                parsed.invert,
            ) {
                Ok(style) => (parsed.text, style),
                Err(reason) => return Response::error(400, reason),
            }
        }
        Some(other) => {
            return Response::error(
                415,
                format!(
                    "content type `{other}` is not supported; use text/plain or application/json"
                ),
            )
        }
    };
    if text.len() > MAX_TEXT_BYTES {
        return Response::error(
            413,
            format!(
                "text is {} bytes; at most {MAX_TEXT_BYTES} are shown",
                text.len()
            ),
        );
    }
    if let Some(options) = ticker {
        return match display.ticker(&text, &style, options) {
            Ok(shown) => Response::changed(json!(shown), shown.ticker.bus.unsaved.as_deref()),
            Err(e) => panel_error(e),
        };
    }
    match display.show(&text, &style) {
        Ok(shown) => Response::changed(json!(shown), shown.bus.unsaved.as_deref()),
        Err(e) => panel_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fake::FakePanel;

    fn req<'a>(method: Method, ct: Option<&'a str>, body: &'a [u8]) -> Request<'a> {
        Request {
            method,
            content_type: ct,
            body,
            body_truncated: false,
            accept: None,
            if_none_match: None,
        }
    }

    fn call(panel: &FakePanel, r: Request<'_>) -> (u16, serde_json::Value) {
        let resp = handle(&Display::new(panel), &r);
        (
            resp.status,
            serde_json::from_str(&resp.body).expect("responses are JSON"),
        )
    }

    #[test]
    fn plain_text_is_shown_with_defaults() {
        let p = FakePanel::new(128, 64);
        for m in [Method::Post, Method::Put, Method::Get] {
            let (s, v) = call(&p, req(m, Some("text/plain; charset=utf-8"), b"Hello"));
            assert_eq!(s, 200, "{m:?}");
            assert_eq!(v["shown"]["text"], "Hello");
            assert_eq!(v["shown"]["font"], "large");
        }
        let (s, _) = call(&p, req(Method::Post, None, b"no content type"));
        assert_eq!(s, 200);
        let (s, v) = call(
            &p,
            req(
                Method::Post,
                Some("application/x-www-form-urlencoded"),
                b"curl -d",
            ),
        );
        assert_eq!(s, 200, "curl -d's default content type is plain text to us");
        assert_eq!(v["shown"]["text"], "curl -d");
        assert_eq!(p.frames().len(), 5);
    }

    #[test]
    fn a_change_whose_state_was_not_saved_says_so_in_the_body_and_a_header() {
        let p = FakePanel::new(128, 64);
        let r = handle(
            &Display::new(&p),
            &req(Method::Post, Some("text/plain"), b"Kept?"),
        );
        assert_eq!((r.status, r.unsaved), (200, false));
        assert!(!r.body.contains("unsaved"), "{}", r.body);
        p.unsaved("the disk is full");
        let r = handle(
            &Display::new(&p),
            &req(Method::Post, Some("text/plain"), b"Kept?"),
        );
        assert_eq!((r.status, r.unsaved), (200, true));
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["unsaved"], "the disk is full");
        assert_eq!(v["shown"]["bus"]["unsaved"], "the disk is full");
    }

    #[test]
    fn json_takes_style_fields() {
        let p = FakePanel::new(128, 64);
        let body = br#"{"text":"Hi","align":"left","valign":"top","font":"small","invert":true}"#;
        let (s, v) = call(&p, req(Method::Post, Some("application/json"), body));
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["shown"]["font"], "small");
        let frame = &p.frames()[0];
        assert_eq!(
            frame[frame.len() - 1],
            0xFF,
            "inverted: bottom-right corner lit"
        );
    }

    #[test]
    fn bad_json_and_unknown_fields_are_400_with_the_reason() {
        let p = FakePanel::new(128, 64);
        let (s, v) = call(
            &p,
            req(Method::Post, Some("application/json"), b"{not json"),
        );
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().starts_with("bad JSON"));
        let (s, v) = call(
            &p,
            req(
                Method::Post,
                Some("application/json"),
                br#"{"text":"a","colour":"red"}"#,
            ),
        );
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("colour"), "{v}");
        let (s, v) = call(
            &p,
            req(
                Method::Post,
                Some("application/json"),
                br#"{"font":"large"}"#,
            ),
        );
        assert_eq!(s, 400);
        assert!(v["error"].as_str().unwrap().contains("text"), "{v}");
        let (s, v) = call(
            &p,
            req(
                Method::Post,
                Some("application/json"),
                br#"{"text":"a","font":"huge"}"#,
            ),
        );
        assert_eq!(s, 400);
        assert!(v["error"]
            .as_str()
            .unwrap()
            .contains("small, medium, large, auto"));
        let (s, _) = call(&p, req(Method::Post, Some("text/plain"), &[0xff, 0xfe]));
        assert_eq!(s, 400);
        let (s, _) = call(&p, req(Method::Post, Some("text/plain"), b""));
        assert_eq!(s, 400);
        assert!(p.frames().is_empty(), "nothing reached the panel");
    }

    #[test]
    fn a_ticker_field_makes_a_ticker_and_bad_ones_are_400() {
        let p = FakePanel::new(128, 64);
        let body = br#"{"text":"a line much longer than the panel is wide","ticker":{"speed":40}}"#;
        let (status, v) = call(&p, req(Method::Post, Some("application/json"), body));
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["shown"]["ticker"]["path"], "software", "{v}");
        assert_eq!(v["shown"]["ticker"]["speed"], 40.0);
        assert!(v["shown"]["columns"].as_u64().unwrap() > 128);
        assert_eq!(p.tickers().len(), 1);
        let body = br#"{"text":"short","ticker":{"path":"software"}}"#;
        let (status, v) = call(&p, req(Method::Post, Some("application/json"), body));
        assert_eq!(
            (status, &v["shown"]["ticker"]["path"]),
            (200, &json!("software"))
        );
        assert_eq!(p.tickers()[1].2, DEFAULT_TICKER_SPEED);
        for (bad, why) in [
            (&br#"{"text":"a","ticker":{"speed":0}}"#[..], "speed"),
            (br#"{"text":"a","ticker":{"speed":99999}}"#, "ticker"),
            (br#"{"text":"a","ticker":{"path":"magic"}}"#, "path"),
            (br#"{"text":"a","ticker":{"fast":true}}"#, "fast"),
        ] {
            let (status, v) = call(&p, req(Method::Post, Some("application/json"), bad));
            assert_eq!(status, 400, "{v}");
            assert!(v["error"].as_str().unwrap().contains(why), "{v}");
        }
        assert_eq!(p.tickers().len(), 2, "nothing sent for a refused request");
    }

    #[test]
    fn too_long_is_413() {
        let p = FakePanel::new(128, 64);
        let long = vec![b'a'; MAX_TEXT_BYTES + 1];
        let (s, v) = call(&p, req(Method::Post, Some("text/plain"), &long));
        assert_eq!(s, 413);
        assert!(v["error"].as_str().unwrap().contains("4096"));
        let mut r = req(Method::Post, Some("text/plain"), b"a");
        r.body_truncated = true;
        assert_eq!(call(&p, r).0, 413);
        let exactly = vec![b'a'; MAX_TEXT_BYTES];
        assert_eq!(
            call(&p, req(Method::Post, Some("text/plain"), &exactly)).0,
            200
        );
    }

    #[test]
    fn other_methods_and_media_types_are_refused() {
        let p = FakePanel::new(128, 64);
        let resp = handle(&Display::new(&p), &req(Method::Other, None, b""));
        assert_eq!(resp.status, 405);
        assert_eq!(resp.allow, Some(ALLOW));
        assert_eq!(call(&p, req(Method::Post, Some("image/png"), b"x")).0, 415);
    }

    #[test]
    fn get_without_body_is_status_and_delete_clears() {
        let p = FakePanel::new(128, 32);
        let (s, v) = call(&p, req(Method::Get, None, b""));
        assert_eq!(s, 200);
        assert_eq!(v["status"]["panel"]["height"], 32);
        let (s, v) = call(&p, req(Method::Delete, None, b""));
        assert_eq!(s, 200);
        assert_eq!(v["cleared"], true);
        assert!(p.frames()[0].iter().all(|b| *b == 0));
    }

    #[test]
    fn panel_faults_map_to_5xx() {
        let p = FakePanel::new(128, 64);
        p.fail_with(PanelError::Bus("NACK".into()));
        assert_eq!(call(&p, req(Method::Post, None, b"x")).0, 502);
        let p = FakePanel::absent();
        assert_eq!(call(&p, req(Method::Get, None, b"")).0, 503);
    }

    mod fleet {
        //! Panels by name: the listing, one panel, all of them, unknown names.
        use super::*;
        use crate::domain::fleet::parse_panels;

        struct House {
            left: FakePanel,
            right: FakePanel,
            hall: FakePanel,
        }

        impl House {
            fn new() -> Self {
                Self {
                    left: FakePanel::new(128, 64),
                    right: FakePanel::new(128, 64),
                    hall: FakePanel::absent(),
                }
            }

            fn call(&self, path: &str, r: Request<'_>) -> (u16, serde_json::Value) {
                let panels =
                    parse_panels("kitchen-left:kitchen,kitchen-right:kitchen,hall:hall").unwrap();
                let display_for = |name: &str| {
                    Display::new(match name {
                        "kitchen-right" => &self.right,
                        "hall" => &self.hall,
                        _ => &self.left, // kitchen-left and the default link
                    })
                };
                let resp = handle_path(path, &panels, &display_for, &r);
                (resp.status, serde_json::from_str(&resp.body).unwrap())
            }
        }

        #[test]
        fn routes() {
            assert_eq!(route("/"), Route::Default);
            assert_eq!(route(""), Route::Default);
            assert_eq!(route("/?x=1"), Route::Default);
            assert_eq!(route("/panels"), Route::List);
            assert_eq!(route("/panels/"), Route::List);
            assert_eq!(route("/panels/*"), Route::All);
            assert_eq!(route("/panels/hall?x"), Route::One("hall"));
            assert_eq!(route("/panels/a/b"), Route::NotFound);
            assert_eq!(route("/other"), Route::NotFound);
        }

        #[test]
        fn the_listing_names_every_panel_with_its_health() {
            let h = House::new();
            let (s, v) = h.call("/panels", req(Method::Get, None, b""));
            assert_eq!(s, 200);
            let list = v["panels"].as_array().unwrap();
            assert_eq!(list.len(), 3);
            assert_eq!(list[0]["name"], "kitchen-left");
            assert_eq!(list[0]["room"], "kitchen");
            assert_eq!(list[0]["health"], "ok");
            assert_eq!(list[0]["controller"], "ssd1306");
            assert_eq!(list[0]["size"], "128x64");
            assert_eq!(list[0]["care"]["level"], "awake");
            assert_eq!(list[2]["name"], "hall");
            assert_eq!(list[2]["status"], 503);
            assert!(
                list[2]["health"].as_str().unwrap().contains("absent"),
                "{v}"
            );
            assert_eq!(h.call("/panels", req(Method::Post, None, b"x")).0, 405);
            assert!(list[0].get("ascii").is_none(), "pictures only when asked");
            h.call("/panels/kitchen-left", req(Method::Post, None, b"Hi"));
            let (_, v) = h.call("/panels?ascii=1", req(Method::Get, None, b""));
            let pic = v["panels"][0]["ascii"].as_str().unwrap();
            assert_eq!(pic.lines().count(), 64);
            assert!(pic.contains('#'));
        }

        #[test]
        fn text_goes_to_the_panel_named_and_nowhere_else() {
            let h = House::new();
            let (s, v) = h.call("/panels/kitchen-right", req(Method::Post, None, b"Right"));
            assert_eq!(s, 200, "{v}");
            assert_eq!(h.right.frames().len(), 1);
            assert!(h.left.frames().is_empty());
            let (s, v) = h.call("/panels/kitchen-right", req(Method::Get, None, b""));
            assert_eq!(s, 200);
            assert_eq!(v["status"]["last_text"], "Right");
            assert_eq!(h.call("/panels/hall", req(Method::Post, None, b"x")).0, 503);
            let (s, _) = h.call("/panels/kitchen-right", req(Method::Delete, None, b""));
            assert_eq!(s, 200);
            assert_eq!(h.right.frames().len(), 2);
        }

        #[test]
        fn all_panels_answer_each_for_itself() {
            let h = House::new();
            let (s, v) = h.call("/panels/*", req(Method::Post, None, b"Dinner!"));
            assert_eq!(s, 207, "one panel is down: {v}");
            assert_eq!(v["panels"]["kitchen-left"]["status"], 200);
            assert_eq!(v["panels"]["kitchen-right"]["status"], 200);
            assert_eq!(v["panels"]["hall"]["status"], 503);
            assert!(v["panels"]["hall"]["error"].as_str().is_some());
            assert_eq!((h.left.frames().len(), h.right.frames().len()), (1, 1));
            // The same refusal everywhere is that refusal.
            assert_eq!(
                h.call("/panels/*", req(Method::Post, Some("image/png"), b"x"))
                    .0,
                415
            );
        }

        #[test]
        fn an_unknown_name_is_404_naming_the_panels() {
            let h = House::new();
            let (s, v) = h.call("/panels/attic", req(Method::Post, None, b"x"));
            assert_eq!(s, 404);
            assert!(v["error"]
                .as_str()
                .unwrap()
                .contains("kitchen-left, kitchen-right, hall"));
            assert_eq!(v["panels"].as_array().unwrap().len(), 3);
            assert_eq!(h.call("/nowhere", req(Method::Get, None, b"")).0, 404);
        }

        #[test]
        fn a_browser_gets_the_live_page_and_curl_the_json() {
            let p = FakePanel::new(128, 64);
            let display_for = |_: &str| Display::new(&p);
            let mut r = req(Method::Get, None, b"");
            r.accept = Some("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
            let page = handle_path("/", &[], &display_for, &r);
            assert_eq!(
                (page.status, page.content_type),
                (200, "text/html; charset=utf-8")
            );
            assert!(page.body.contains("<form") && page.body.contains(".png"));
            r.accept = Some("*/*");
            let json = handle_path("/", &[], &display_for, &r);
            assert_eq!(json.content_type, "application/json");
            assert!(json.body.contains("\"status\""));
        }

        #[test]
        fn pictures_come_with_an_entity_tag_and_an_unchanged_one_is_304() {
            let p = FakePanel::new(128, 64);
            let display_for = |_: &str| Display::new(&p);
            let get = |inm: Option<&str>| {
                let mut r = req(Method::Get, None, b"");
                r.if_none_match = inm;
                handle_path("/panel.png", &[], &display_for, &r)
            };
            let first = get(None);
            assert_eq!((first.status, first.content_type), (200, "image/png"));
            assert!(first.bytes.as_ref().unwrap().starts_with(b"\x89PNG"));
            let tag = first.etag.clone().unwrap();
            let again = get(Some(&tag));
            assert_eq!((again.status, again.bytes.is_none()), (304, true));
            assert_eq!(again.etag.as_deref(), Some(tag.as_str()));
            // A change of picture is a new tag.
            handle(&Display::new(&p), &req(Method::Post, None, b"new"));
            let changed = get(Some(&tag));
            assert_eq!(changed.status, 200);
            assert_ne!(changed.etag.unwrap(), tag);
            let r = handle_path(
                "/panel.png",
                &[],
                &display_for,
                &req(Method::Post, None, b"x"),
            );
            assert_eq!((r.status, r.allow), (405, Some("GET")));
        }

        #[test]
        fn each_named_panel_has_its_picture() {
            let h = House::new();
            let panels =
                parse_panels("kitchen-left:kitchen,kitchen-right:kitchen,hall:hall").unwrap();
            let display_for = |name: &str| {
                Display::new(match name {
                    "kitchen-right" => &h.right,
                    "hall" => &h.hall,
                    _ => &h.left,
                })
            };
            let get = |path: &str| {
                handle_path(path, &panels, &display_for, &req(Method::Get, None, b"")).status
            };
            assert_eq!(get("/panels/kitchen-right.png"), 200);
            assert_eq!(
                get("/panels/hall.png"),
                503,
                "absent: the reason, no picture"
            );
            assert_eq!(get("/panels/attic.png"), 404);
            assert_eq!(get("/panel.png"), 404, "a fleet has no `default` name");
        }

        #[test]
        fn without_a_fleet_the_default_panel_is_the_only_one() {
            let p = FakePanel::new(128, 64);
            let display_for = |_: &str| Display::new(&p);
            let r = handle_path("/panels", &[], &display_for, &req(Method::Get, None, b""));
            let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(v["panels"][0]["name"], "default");
            let r = handle_path(
                "/panels/default",
                &[],
                &display_for,
                &req(Method::Post, None, b"x"),
            );
            assert_eq!(r.status, 200);
            let r = handle_path(
                "/panels/hall",
                &[],
                &display_for,
                &req(Method::Post, None, b"x"),
            );
            assert_eq!(r.status, 404);
        }
    }

    mod fuzz {
        //! The HTTP handler under random requests (fixed case count, in the test's name).
        use super::*;
        use proptest::prelude::*;

        fn method() -> impl Strategy<Value = Method> {
            proptest::sample::select(vec![
                Method::Get,
                Method::Post,
                Method::Put,
                Method::Delete,
                Method::Other,
            ])
        }

        fn content_type() -> impl Strategy<Value = Option<String>> {
            prop_oneof![
                Just(None),
                proptest::sample::select(vec![
                    "text/plain",
                    "application/json",
                    "application/json; charset=utf-8",
                    "TEXT/PLAIN",
                    "application/x-www-form-urlencoded",
                    "image/png",
                    "",
                    ";;;",
                ])
                .prop_map(|s| Some(s.to_string())),
                any::<String>().prop_map(Some),
            ]
        }

        fn body() -> impl Strategy<Value = Vec<u8>> {
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                any::<String>().prop_map(String::into_bytes),
                "\\{\"text\":\"[a-z ]{0,20}\"(,\"font\":\"(small|large|huge)\")?\\}"
                    .prop_map(String::into_bytes),
                proptest::collection::vec(any::<u8>(), 4000..6000),
                Just(Vec::new()),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(3000))]

            #[test]
            fn http_handler_3000_random_requests(
                m in method(),
                ct in content_type(),
                b in body(),
                truncated in any::<bool>(),
                path in prop_oneof![Just("/".to_string()), Just("/panels/*".to_string()), "/[a-z/*?]{0,20}"],
            ) {
                let p = FakePanel::new(128, 64);
                let r = Request { method: m, content_type: ct.as_deref(), body: &b, body_truncated: truncated, accept: None, if_none_match: None };
                let resp = handle(&Display::new(&p), &r);
                let v: serde_json::Value = serde_json::from_str(&resp.body).expect("every answer is JSON");
                // Any path, through the router: JSON, never a panic.
                let other = FakePanel::new(128, 64);
                let routed = handle_path(&path, &[], &|_: &str| Display::new(&other), &r);
                prop_assert!(serde_json::from_str::<serde_json::Value>(&routed.body).is_ok());
                prop_assert!(matches!(resp.status, 200 | 400 | 405 | 413 | 415), "{}", resp.status);
                if resp.status == 200 {
                    prop_assert!(p.frames().len() <= 1);
                } else {
                    // A refusal says why, and shows nothing.
                    prop_assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
                    prop_assert!(p.frames().is_empty());
                }
                prop_assert_eq!(resp.allow.is_some(), resp.status == 405);
            }
        }
    }
}
