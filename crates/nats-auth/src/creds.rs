//! NATS credentials files: a user's JWT and nkey seed, in the sections NATS clients read.

use crate::Error;

const JWT_BEGIN: &str = "-----BEGIN NATS USER JWT-----";
const JWT_END: &str = "------END NATS USER JWT------";
const SEED_BEGIN: &str = "-----BEGIN USER NKEY SEED-----";
const SEED_END: &str = "------END USER NKEY SEED------";

/// The text of a credentials file for `jwt` and `seed`.
///
/// ```
/// let text = oled_nats_auth::creds::format("eyJ.a.b", "SUAB");
/// assert_eq!(oled_nats_auth::creds::parse(&text).unwrap(), ("eyJ.a.b".into(), "SUAB".into()));
/// ```
pub fn format(jwt: &str, seed: &str) -> String {
    format!(
        "{JWT_BEGIN}\n{jwt}\n{JWT_END}\n\n\
         This seed proves the identity of the user above: keep this file secret (mode 600).\n\n\
         {SEED_BEGIN}\n{seed}\n{SEED_END}\n"
    )
}

/// The (JWT, seed) of a credentials file.
pub fn parse(text: &str) -> Result<(String, String), Error> {
    Ok((
        section(text, JWT_BEGIN, JWT_END)?,
        section(text, SEED_BEGIN, SEED_END)?,
    ))
}

fn section(text: &str, begin: &str, end: &str) -> Result<String, Error> {
    let start = text
        .find(begin)
        .ok_or_else(|| Error::Malformed(format!("no {begin}")))?
        + begin.len();
    let len = text[start..]
        .find(end)
        .ok_or_else(|| Error::Malformed(format!("no {end}")))?;
    let value = text[start..start + len].trim();
    if value.is_empty() {
        return Err(Error::Malformed(format!("empty section after {begin}")));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_its_seed_is_refused() {
        let text = format("eyJ.a.b", "SUAB");
        let cut = &text[..text.find(SEED_BEGIN).unwrap()];
        assert!(parse(cut).is_err());
        assert!(parse("").is_err());
    }
}
