//! Wiring: the component's exports, each a thin call into `api::http` / `api::invoke` over the lattice panel.

use super::http::{self, Method, Request, MAX_BODY_BYTES};
use super::origin;
use crate::domain::fleet::{parse_panels, NamedPanel};
use crate::domain::Display;
use crate::infra::{self, bindings, LatticePanel};
use wasi::http::types::{
    Fields, IncomingBody, IncomingRequest, Method as WasiMethod, OutgoingBody, OutgoingResponse,
    ResponseOutparam,
};

struct Component;

/// A display for one request: its panel calls share one deadline; it draws for the configured
/// `panel-size` when there is one.
fn display() -> Display<LatticePanel> {
    decorate(LatticePanel::new())
}

fn decorate(panel: LatticePanel) -> Display<LatticePanel> {
    Display::new(panel)
        .with_size_hint(infra::panel_size_hint())
        .with_title(infra::config("title"))
}

/// The fleet the component's `panels` configuration declares (none: the default panel alone).
fn fleet() -> Result<Vec<NamedPanel>, String> {
    infra::config("panels").map_or(Ok(Vec::new()), |spec| parse_panels(&spec))
}

/// Origins besides the display's own that may write from a browser (config `allowed_origins`).
fn allowed_origins() -> Vec<String> {
    infra::config("allowed_origins").map_or(Vec::new(), |s| origin::parse_allowed(&s))
}

/// The display of the panel `name`: over the link of that name when there is a fleet, else over
/// the default link as always.
fn display_for(fleet: &[NamedPanel]) -> impl Fn(&str) -> Display<LatticePanel> + '_ {
    move |name| {
        if fleet.is_empty() {
            display()
        } else {
            decorate(LatticePanel::named(name))
        }
    }
}

/// GET /panels and `invoke.panels`: the listing, or why the fleet's configuration is unusable.
fn panels_listing() -> Result<serde_json::Value, String> {
    let fleet = fleet()?;
    let listing = http::listing(&fleet, &display_for(&fleet), false);
    Ok(listing)
}

/// Reads at most `MAX_BODY_BYTES + 1` bytes, so an oversized body is noticed without being held whole.
/// `Err` when the body could not be read to its end (the stream failed before it closed).
fn read_body(req: &IncomingRequest) -> Result<(Vec<u8>, bool), String> {
    let mut body = Vec::new();
    let incoming = req
        .consume()
        .map_err(|()| "the body was already taken".to_string())?;
    let stream = incoming
        .stream()
        .map_err(|()| "no body stream".to_string())?;
    let mut failed = None;
    while body.len() <= MAX_BODY_BYTES {
        match stream.blocking_read(8192) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(wasi::io::streams::StreamError::Closed) => break, // the whole body is in
            Err(wasi::io::streams::StreamError::LastOperationFailed(e)) => {
                failed = Some(e.to_debug_string());
                break;
            }
        }
    }
    drop(stream);
    let _ = IncomingBody::finish(incoming);
    if let Some(why) = failed {
        return Err(why);
    }
    let truncated = body.len() > MAX_BODY_BYTES;
    Ok((body, truncated))
}

fn respond(out: ResponseOutparam, resp: http::Response) {
    let mut headers = vec![(
        "content-type".to_string(),
        resp.content_type.as_bytes().to_vec(),
    )];
    if let Some(allow) = resp.allow {
        headers.push(("allow".to_string(), allow.as_bytes().to_vec()));
    }
    if resp.unsaved {
        headers.push(("oled-state".to_string(), b"unsaved".to_vec()));
    }
    if let Some(tag) = &resp.etag {
        headers.push(("etag".to_string(), tag.as_bytes().to_vec()));
        // Pictures change at any moment: ask again each time (a 304 when unchanged).
        headers.push(("cache-control".to_string(), b"no-cache".to_vec()));
    }
    let Ok(fields) = Fields::from_list(&headers) else {
        return;
    };
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(resp.status);
    let Ok(body) = response.body() else { return };
    ResponseOutparam::set(out, Ok(response));
    let payload: &[u8] = match &resp.bytes {
        Some(b) => b,
        None => resp.body.as_bytes(),
    };
    if let Ok(stream) = body.write() {
        for chunk in payload.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                break;
            }
        }
        drop(stream);
    }
    let _ = OutgoingBody::finish(body, None);
}

/// The first value of header `name`, as text.
fn header(request: &IncomingRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get(&name.to_string())
        .into_iter()
        .next()
        .and_then(|v| String::from_utf8(v).ok())
}

impl wasi::exports::http::incoming_handler::Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = match request.method() {
            WasiMethod::Get => Method::Get,
            WasiMethod::Post => Method::Post,
            WasiMethod::Put => Method::Put,
            WasiMethod::Delete => Method::Delete,
            _ => Method::Other,
        };
        let content_type = header(&request, "content-type");
        let accept = header(&request, "accept");
        let if_none_match = header(&request, "if-none-match");
        let path = request.path_with_query().unwrap_or_default();
        let origin = header(&request, "origin");
        let fetch_site = header(&request, "sec-fetch-site");
        let host = request.authority().or_else(|| header(&request, "host"));
        let provenance = origin::Provenance {
            origin: origin.as_deref(),
            fetch_site: fetch_site.as_deref(),
            host: host.as_deref(),
        };
        let body = read_body(&request);
        let authorization = header(&request, "authorization");
        let refused = match &body {
            Ok((b, _)) if origin::writes(method, !b.is_empty()) => {
                origin::refuse_write(&provenance, &allowed_origins())
                    .map(|why| http::Response::cross_origin(&why))
                    .or_else(|| {
                        origin::refuse_without_token(
                            infra::config("write_token").as_deref(),
                            authorization.as_deref(),
                        )
                        .map(|why| http::Response::token_required(&why))
                    })
            }
            _ => None,
        };
        let resp = match (body, fleet()) {
            _ if refused.is_some() => {
                let resp = refused.unwrap_or_else(|| http::Response::cross_origin("refused"));
                infra::warn(&format!("http {method:?} {path}: refused: {}", resp.body));
                resp
            }
            (Ok((body, body_truncated)), fleet) => {
                let req = Request {
                    method,
                    content_type: content_type.as_deref(),
                    body: &body,
                    body_truncated,
                    accept: accept.as_deref(),
                    if_none_match: if_none_match.as_deref(),
                };
                match fleet {
                    Ok(fleet) => http::handle_path(&path, &fleet, &display_for(&fleet), &req),
                    // A broken `panels` config: `/` still works; the named routes say why not.
                    Err(why) if http::route(&path) == http::Route::Default => {
                        infra::warn(&why);
                        http::handle(&display(), &req)
                    }
                    Err(why) => http::Response::config_error(&why),
                }
            }
            (Err(why), _) => {
                infra::warn(&format!("http {method:?}: request body unreadable: {why}"));
                http::Response::body_unreadable(&why)
            }
        };
        infra::info(&format!("http {method:?} {path} -> {}", resp.status));
        respond(response_out, resp);
    }
}

wasi::http::proxy::export!(Component);

impl bindings::exports::oled_lattice::display::invoke::Guest for Component {
    fn status() -> String {
        super::invoke::status(&display())
    }

    fn clear() -> String {
        super::invoke::clear(&display())
    }

    fn demo() -> String {
        super::invoke::demo(&display())
    }

    fn ticker() -> String {
        super::invoke::ticker(&display())
    }

    fn panels() -> String {
        match panels_listing() {
            Ok(v) => v.to_string(),
            Err(why) => serde_json::json!({ "error": why }).to_string(),
        }
    }
}

bindings::export!(Component with_types_in bindings);
