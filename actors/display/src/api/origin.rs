//! Browser-safe writes: a web page the user visits may not change the panels.
//!
//! A page on any site can make the user's browser send a `POST` with a `text/plain` body to
//! `http://127.0.0.1:8080/` (a "simple" request: no CORS preflight, the browser sends it and only
//! hides the answer). What tells such a request apart is what browsers add to it: an `Origin` header
//! naming the page's site, and `Sec-Fetch-Site: cross-site`. A request that writes (shows text,
//! clears, starts a ticker) is refused with 403 when a browser says it comes from another origin
//! than the display's own (the live view's form is same-origin), unless that origin is in the
//! component's `allowed_origins` config. Tools (`curl`, `wash call`, a home automation server) send
//! neither header and are not affected.

use super::http::Method;

/// What a request says about where it comes from.
#[derive(Debug, Default, Clone, Copy)]
pub struct Provenance<'a> {
    /// The `Origin` header (`scheme://host[:port]`, or `null`).
    pub origin: Option<&'a str>,
    /// The `Sec-Fetch-Site` header: `same-origin`, `same-site`, `cross-site` or `none`.
    pub fetch_site: Option<&'a str>,
    /// The authority the request was sent to (`Host`).
    pub host: Option<&'a str>,
}

/// Whether a request with this method and body would change a panel.
pub fn writes(method: Method, has_body: bool) -> bool {
    match method {
        Method::Post | Method::Put | Method::Delete => true,
        // `wash call --http-body` sends a GET with a body, which shows it.
        Method::Get => has_body,
        Method::Other => false,
    }
}

/// The reason to refuse a write from a browser page of another origin, or `None` to let it through.
/// `allowed` are extra origins trusted to write (`scheme://host[:port]`, or `*` for any).
pub fn refuse_write(p: &Provenance<'_>, allowed: &[String]) -> Option<String> {
    let trusted = |o: &str| {
        allowed
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(o))
    };
    let origin = p.origin.map(str::trim).filter(|o| !o.is_empty());
    let same = origin.is_some_and(|o| same_origin(o, p.host));
    if origin.is_some_and(|o| same || trusted(o)) {
        return None;
    }
    match (origin, p.fetch_site.map(str::trim)) {
        (Some(o), _) => Some(format!(
            "a page at {o} may not change the panels: writes from a browser must come from the display's own page (or an origin in the allowed_origins config)"
        )),
        (None, Some(site @ ("cross-site" | "same-site"))) => {
            if allowed.iter().any(|a| a == "*") {
                None
            } else {
                Some(format!(
                    "a {site} page may not change the panels: writes from a browser must come from the display's own page"
                ))
            }
        }
        _ => None,
    }
}

/// The reason to refuse a write without the display's write token, or `None` to let it through.
/// With no token configured (`write_token` unset or empty), every write passes this check.
/// `authorization` is the request's `Authorization` header, `Bearer <token>`.
///
/// ```
/// use oled_display::api::origin::refuse_without_token;
/// assert_eq!(refuse_without_token(None, None), None);
/// assert_eq!(refuse_without_token(Some("s3cret"), Some("Bearer s3cret")), None);
/// assert!(refuse_without_token(Some("s3cret"), Some("Bearer guess")).is_some());
/// assert!(refuse_without_token(Some("s3cret"), None).is_some());
/// ```
pub fn refuse_without_token(expected: Option<&str>, authorization: Option<&str>) -> Option<String> {
    let expected = expected.map(str::trim).filter(|t| !t.is_empty())?;
    let given = authorization
        .map(str::trim)
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("bearer "))
        })
        .map(str::trim);
    match given {
        Some(t) if same_secret(t.as_bytes(), expected.as_bytes()) => None,
        Some(_) => Some("the write token is wrong: nothing was changed".into()),
        None => Some(
            "this display needs its write token for every change: send `Authorization: Bearer <token>`"
                .into(),
        ),
    }
}

/// Compares two secrets in time that depends only on their lengths.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Origin` names the same scheme-less authority as `Host` (the display serves plain HTTP; a TLS
/// front end in front of it keeps the `Host`).
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host.map(str::trim).filter(|h| !h.is_empty()) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| a.eq_ignore_ascii_case(host))
}

/// The `allowed_origins` config: origins separated by commas or spaces.
pub fn parse_allowed(spec: &str) -> Vec<String> {
    spec.split([',', ' '])
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p<'a>(
        origin: Option<&'a str>,
        site: Option<&'a str>,
        host: Option<&'a str>,
    ) -> Provenance<'a> {
        Provenance {
            origin,
            fetch_site: site,
            host,
        }
    }

    #[test]
    fn tools_without_browser_headers_pass() {
        assert_eq!(
            refuse_write(&p(None, None, Some("127.0.0.1:8080")), &[]),
            None
        );
        assert_eq!(refuse_write(&p(None, Some("none"), None), &[]), None);
    }

    #[test]
    fn the_display_s_own_page_passes() {
        let own = p(
            Some("http://127.0.0.1:8080"),
            Some("same-origin"),
            Some("127.0.0.1:8080"),
        );
        assert_eq!(refuse_write(&own, &[]), None);
        let named = p(Some("http://LocalHost:8080"), None, Some("localhost:8080"));
        assert_eq!(refuse_write(&named, &[]), None);
    }

    #[test]
    fn another_site_is_refused_with_its_name() {
        let evil = p(
            Some("http://evil.example"),
            Some("cross-site"),
            Some("127.0.0.1:8080"),
        );
        let why = refuse_write(&evil, &[]).unwrap();
        assert!(why.contains("http://evil.example"), "{why}");
        // Another port of the same machine is another origin.
        let port = p(
            Some("http://127.0.0.1:9999"),
            Some("same-site"),
            Some("127.0.0.1:8080"),
        );
        assert!(refuse_write(&port, &[]).is_some());
        // A sandboxed page or a file: says `null`.
        assert!(refuse_write(&p(Some("null"), None, Some("127.0.0.1:8080")), &[]).is_some());
        // Only Sec-Fetch-Site (no Origin): refused too.
        assert!(refuse_write(&p(None, Some("cross-site"), Some("127.0.0.1:8080")), &[]).is_some());
    }

    #[test]
    fn allowed_origins_let_a_dashboard_write() {
        let dash = p(
            Some("http://ha.local:8123"),
            Some("cross-site"),
            Some("127.0.0.1:8080"),
        );
        let allowed = parse_allowed("http://ha.local:8123/, https://other.example");
        assert_eq!(
            allowed,
            vec!["http://ha.local:8123", "https://other.example"]
        );
        assert_eq!(refuse_write(&dash, &allowed), None);
        assert!(refuse_write(&dash, &parse_allowed("https://other.example")).is_some());
        assert_eq!(refuse_write(&dash, &parse_allowed("*")), None);
    }

    #[test]
    fn the_write_token() {
        assert_eq!(refuse_without_token(Some(""), None), None);
        assert_eq!(refuse_without_token(Some("abc"), Some("bearer abc")), None);
        assert!(refuse_without_token(Some("abc"), Some("Bearer abcd")).is_some());
        assert!(refuse_without_token(Some("abc"), Some("Basic abc")).is_some());
        assert!(refuse_without_token(Some("abc"), Some("abc")).is_some());
    }

    #[test]
    fn which_requests_write() {
        assert!(writes(Method::Post, false));
        assert!(writes(Method::Delete, false));
        assert!(writes(Method::Get, true));
        assert!(!writes(Method::Get, false));
        assert!(!writes(Method::Other, true));
    }
}
