//! NATS JWTs: claims signed with an nkey (`alg: ed25519-nkey`), as nats-server verifies them.

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD};
use nkeys::KeyPair;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::Error;

/// The JWT header every NATS JWT carries.
const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;

/// Signs `nats` (the claim's NATS-specific part, with its `type` and `version`) for `subject` (a
/// public key), issued by `issuer` (a key pair with its seed), named `name`, issued at `iat` (seconds
/// since the Unix epoch).
///
/// ```
/// use nkeys::KeyPair;
/// let operator = KeyPair::new_operator();
/// let jwt = oled_nats_auth::jwt::encode(
///     serde_json::json!({"type": "operator", "version": 2}),
///     "me",
///     &operator.public_key(),
///     &operator,
///     1_700_000_000,
/// )
/// .unwrap();
/// let claims = oled_nats_auth::jwt::decode(&jwt).unwrap();
/// assert_eq!(claims["iss"], operator.public_key());
/// ```
pub fn encode(
    nats: Value,
    name: &str,
    subject: &str,
    issuer: &KeyPair,
    iat: u64,
) -> Result<String, Error> {
    let mut claims = json!({
        "jti": "",
        "iat": iat,
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    // The claim's id: a hash of the claims without it, as NATS's own tools make it.
    let digest = Sha256::digest(claims.to_string().as_bytes());
    claims["jti"] = Value::String(BASE32_NOPAD.encode(&digest));
    let signing_input = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(HEADER.as_bytes()),
        BASE64URL_NOPAD.encode(claims.to_string().as_bytes())
    );
    let signature = issuer
        .sign(signing_input.as_bytes())
        .map_err(|e| Error::Sign(e.to_string()))?;
    Ok(format!(
        "{signing_input}.{}",
        BASE64URL_NOPAD.encode(&signature)
    ))
}

/// The claims of a JWT, after checking its signature against its issuer (`iss`).
pub fn decode(jwt: &str) -> Result<Value, Error> {
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Malformed("not three dot-separated parts".into()));
    };
    let b64 = |s: &str| {
        BASE64URL_NOPAD
            .decode(s.as_bytes())
            .map_err(|e| Error::Malformed(e.to_string()))
    };
    let claims: Value = serde_json::from_slice(&b64(claims)?)
        .map_err(|e| Error::Malformed(format!("claims: {e}")))?;
    let issuer = claims["iss"]
        .as_str()
        .ok_or_else(|| Error::Malformed("no issuer".into()))?;
    let key = KeyPair::from_public_key(issuer).map_err(|e| Error::Malformed(e.to_string()))?;
    key.verify(
        format!("{header}.{}", jwt.split('.').nth(1).unwrap_or_default()).as_bytes(),
        &b64(signature)?,
    )
    .map_err(|_| Error::BadSignature)?;
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_claim_breaks_the_signature() {
        let op = KeyPair::new_operator();
        let jwt = encode(
            json!({"type":"operator","version":2}),
            "x",
            &op.public_key(),
            &op,
            1,
        )
        .unwrap();
        assert!(decode(&jwt).is_ok());
        let mut parts: Vec<String> = jwt.split('.').map(String::from).collect();
        let mut claims: Value =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(parts[1].as_bytes()).unwrap()).unwrap();
        claims["name"] = json!("y");
        parts[1] = BASE64URL_NOPAD.encode(claims.to_string().as_bytes());
        assert!(matches!(decode(&parts.join(".")), Err(Error::BadSignature)));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for s in ["", "a.b", "a.b.c.d", "!.!.!", "e30.e30.e30"] {
            assert!(decode(s).is_err(), "{s}");
        }
    }
}
