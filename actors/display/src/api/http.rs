//! HTTP semantics of the display, independent of `wasi:http`.
//!
//! `wash call ... --http-body "Hello"` sends a GET with a body, so a body means "show" for GET too;
//! a GET without one asks for status.

use crate::domain::{style_from, Display, Panel, PanelError, MAX_TEXT_BYTES};
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// Set on 405, as HTTP asks.
    pub allow: Option<&'static str>,
}

impl Response {
    pub const CONTENT_TYPE: &'static str = "application/json";

    fn ok(body: serde_json::Value) -> Self {
        Self {
            status: 200,
            body: body.to_string(),
            allow: None,
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

    fn error(status: u16, reason: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "error": reason.into(), "status": status }).to_string(),
            allow: None,
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
}

fn panel_error(e: PanelError) -> Response {
    let status = match e {
        PanelError::Absent(_) | PanelError::Unreachable(_) => 503,
        PanelError::TimedOut(_) => 504,
        PanelError::Bus(_) => 502,
        PanelError::BadFrame(_) | PanelError::Invalid(_) => 500,
    };
    Response::error(status, e.to_string())
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
    match display.show(&text, &style) {
        Ok(shown) => Response::ok(json!({ "shown": shown })),
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
            ) {
                let p = FakePanel::new(128, 64);
                let r = Request { method: m, content_type: ct.as_deref(), body: &b, body_truncated: truncated };
                let resp = handle(&Display::new(&p), &r);
                let v: serde_json::Value = serde_json::from_str(&resp.body).expect("every answer is JSON");
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
