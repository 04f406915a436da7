//! Decisions of the oled-lattice policy service.
//!
//! A wasmCloud 1.x host configured with `WASMCLOUD_POLICY_TOPIC` asks, before it starts a component or
//! a provider (and before the first invocation of each component function), whether it may. This
//! crate answers: start requests are permitted only when the artefact's claims are signed by an issuer
//! in the [`AllowList`]; unsigned artefacts and strangers are denied with a reason the host logs and
//! wadm shows in `wash app status`. Invocations are not restricted (what may run was decided at start).
//!
//! ```
//! use oled_policy::{decide, AllowList};
//!
//! let allow = AllowList::parse("ACZ5RPNMTQB4T7KKXZFFELYMEAJMXIRRLXOWZHQU5KT6QI5MOUZ22EY6\n").unwrap();
//! let request = br#"{"requestId":"r1","kind":"startComponent","version":"v1",
//!     "request":{"componentId":"x","imageRef":"reg/x:1","maxInstances":1,"annotations":{},"claims":null},
//!     "host":{"publicKey":"N","lattice":"default","labels":{}}}"#;
//! let answer = decide(request, &allow);
//! assert!(!answer.permitted);
//! assert!(answer.message.unwrap().contains("unsigned"));
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::collections::BTreeSet;

use serde_json::{json, Value};

/// Why an allow-list was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowListError {
    /// A line is not an account public key (56 characters, starting with `A`).
    #[error("line {line}: {value:?} is not an issuer's account public key (A..., 56 characters)")]
    BadKey {
        /// 1-based line number.
        line: usize,
        /// What the line held.
        value: String,
    },
    /// The list names no issuer at all: every start would be denied.
    #[error("the allow-list names no issuer")]
    Empty,
    /// A seed file could not be read or is not a seed.
    #[error("{0}")]
    Seed(String),
}

/// The issuers whose signatures are trusted: account public keys, one per line (`#` comments).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllowList {
    issuers: BTreeSet<String>,
}

fn is_account_key(s: &str) -> bool {
    s.len() == 56
        && s.starts_with('A')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
}

impl AllowList {
    /// Parses the allow-list file's text.
    pub fn parse(text: &str) -> Result<Self, AllowListError> {
        let mut issuers = BTreeSet::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if !is_account_key(line) {
                return Err(AllowListError::BadKey {
                    line: i + 1,
                    value: line.chars().take(60).collect(),
                });
            }
            issuers.insert(line.to_string());
        }
        if issuers.is_empty() {
            return Err(AllowListError::Empty);
        }
        Ok(Self { issuers })
    }

    /// The account public key of an account seed (`SA...`), as wash keeps it in `*_account.nk`.
    pub fn issuer_of_seed(seed: &str) -> Result<String, AllowListError> {
        let kp = nkeys::KeyPair::from_seed(seed.trim())
            .map_err(|e| AllowListError::Seed(format!("not an nkeys seed: {e}")))?;
        let public = kp.public_key();
        if !is_account_key(&public) {
            return Err(AllowListError::Seed(format!(
                "{public} is not an account key (only account seeds sign components and providers)"
            )));
        }
        Ok(public)
    }

    /// True when `issuer` is trusted.
    pub fn contains(&self, issuer: &str) -> bool {
        self.issuers.contains(issuer)
    }

    /// How many issuers are trusted.
    pub fn len(&self) -> usize {
        self.issuers.len()
    }

    /// True when no issuer is trusted.
    pub fn is_empty(&self) -> bool {
        self.issuers.is_empty()
    }

    /// The list as the file holds it.
    pub fn to_text(&self) -> String {
        self.issuers.iter().map(|i| format!("{i}\n")).collect()
    }
}

/// The answer to one policy request, in the shape the host reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The request's id, copied (empty when the request had none).
    pub request_id: String,
    /// Whether the action may go ahead.
    pub permitted: bool,
    /// Why not (or a note); the host logs it and includes it in its error.
    pub message: Option<String>,
}

impl Answer {
    /// The JSON body of the reply.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = json!({ "requestId": self.request_id, "permitted": self.permitted });
        if let Some(m) = &self.message {
            v["message"] = json!(m);
        }
        v.to_string().into_bytes()
    }
}

/// Decides one request (the bytes the host sent). Never panics: a request that cannot be read is
/// denied, saying so.
pub fn decide(request: &[u8], allow: &AllowList) -> Answer {
    let v: Value = match serde_json::from_slice(request) {
        Ok(v) => v,
        Err(e) => {
            return Answer {
                request_id: String::new(),
                permitted: false,
                message: Some(format!("unreadable policy request: {e}")),
            }
        }
    };
    let request_id = v["requestId"].as_str().unwrap_or_default().to_string();
    let kind = v["kind"].as_str().unwrap_or("unknown");
    let what = match kind {
        "startComponent" => "component",
        "startProvider" => "provider",
        // What runs was decided when it started.
        _ => {
            return Answer {
                request_id,
                permitted: true,
                message: None,
            }
        }
    };
    let body = &v["request"];
    let id = body["componentId"]
        .as_str()
        .or_else(|| body["providerId"].as_str())
        .unwrap_or("?");
    let image = body["imageRef"].as_str().unwrap_or("?");
    let denied = |message: String| Answer {
        request_id: request_id.clone(),
        permitted: false,
        message: Some(message),
    };
    let claims = &body["claims"];
    if claims.is_null() {
        return denied(format!(
            "{what} `{id}` ({image}) is unsigned: only artefacts signed by the project's keys may run"
        ));
    }
    let Some(issuer) = claims["issuer"].as_str() else {
        return denied(format!(
            "{what} `{id}` ({image}): its claims name no issuer"
        ));
    };
    if claims["expired"].as_bool() == Some(true) {
        return denied(format!(
            "{what} `{id}` ({image}): its signature has expired"
        ));
    }
    if !allow.contains(issuer) {
        return denied(format!(
            "{what} `{id}` ({image}) is signed by issuer {issuer}, which is not in the allow-list \
             ({} trusted issuers)",
            allow.len()
        ));
    }
    Answer {
        request_id,
        permitted: true,
        message: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "ACZ5RPNMTQB4T7KKXZFFELYMEAJMXIRRLXOWZHQU5KT6QI5MOUZ22EY6";
    const STRANGER: &str = "ABWD3EGF5DS3ZJEMQRML6YEIVI6E67LWAM7YDQKN3Q4L2U2DLUQMBT3O";

    fn start(kind: &str, claims: Value) -> Vec<u8> {
        json!({
            "requestId": "r-1",
            "kind": kind,
            "version": "v1",
            "request": { "providerId": "oled-panel", "imageRef": "127.0.0.1:5000/oled-lattice/oled-panel:0.1.0",
                         "annotations": {}, "claims": claims },
            "host": { "publicKey": "N", "lattice": "default", "labels": {} }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn allow_list_parsing() {
        let a = AllowList::parse(&format!("# ours\n{OURS}\n\n  {OURS}  # again\n")).unwrap();
        assert_eq!(a.len(), 1);
        assert!(a.contains(OURS) && !a.contains(STRANGER));
        assert_eq!(AllowList::parse("# nothing\n"), Err(AllowListError::Empty));
        let e = AllowList::parse(&format!("{OURS}\nNBAD\n")).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert_eq!(AllowList::parse(&a.to_text()).unwrap(), a);
    }

    #[test]
    fn seeds_give_their_account_keys() {
        let kp = nkeys::KeyPair::new_account();
        let seed = kp.seed().unwrap();
        assert_eq!(AllowList::issuer_of_seed(&seed).unwrap(), kp.public_key());
        let server = nkeys::KeyPair::new_server().seed().unwrap();
        assert!(AllowList::issuer_of_seed(&server).is_err());
        assert!(AllowList::issuer_of_seed("nonsense").is_err());
    }

    #[test]
    fn starts_are_permitted_for_our_issuers_only() {
        let allow = AllowList::parse(OURS).unwrap();
        let ok = decide(
            &start("startProvider", json!({"issuer": OURS, "expired": false})),
            &allow,
        );
        assert!(ok.permitted && ok.message.is_none());
        assert_eq!(ok.request_id, "r-1");

        let stranger = decide(&start("startProvider", json!({"issuer": STRANGER})), &allow);
        assert!(!stranger.permitted);
        let m = stranger.message.unwrap();
        assert!(
            m.contains(STRANGER) && m.contains("not in the allow-list"),
            "{m}"
        );

        let unsigned = decide(&start("startComponent", Value::Null), &allow);
        assert!(!unsigned.permitted && unsigned.message.unwrap().contains("unsigned"));

        let expired = decide(
            &start("startProvider", json!({"issuer": OURS, "expired": true})),
            &allow,
        );
        assert!(!expired.permitted && expired.message.unwrap().contains("expired"));
    }

    #[test]
    fn invocations_pass_and_garbage_is_denied() {
        let allow = AllowList::parse(OURS).unwrap();
        let inv = decide(
            br#"{"requestId":"x","kind":"performInvocation","request":{}}"#,
            &allow,
        );
        assert!(inv.permitted);
        for bad in [&b""[..], b"{", b"[]", b"null", &[0xFF, 0xFE]] {
            let a = decide(bad, &allow);
            // Unreadable: denied with a reason; readable but not a start: permitted.
            assert!(a.permitted || a.message.is_some());
        }
        let json: Value = serde_json::from_slice(&inv.to_json()).unwrap();
        assert_eq!(json["requestId"], "x");
        assert_eq!(json["permitted"], true);
    }
}
