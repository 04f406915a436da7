//! NATS decentralized authentication for one small lattice, without `nsc`.
//!
//! nats-server in operator mode trusts one operator; the operator signs accounts, an account signs
//! its users, and a client proves it is a user with the user's JWT and a signature made with the
//! user's nkey seed (a `.creds` file holds both). A connection without them is refused, and each
//! user's JWT says what it may publish and subscribe to.
//!
//! [`Setup::ensure`] makes (once) and keeps in a folder: the operator, a system account, the
//! lattice's account (JetStream enabled), and one user per [`Role`] with least-privilege
//! permissions, written as `<role>.creds` (mode 600). The servers read `operator.jwt` and the
//! account JWTs in `accounts/` (a `full` resolver's folder, `<public key>.jwt`).
//!
//! ```
//! let dir = std::env::temp_dir().join(format!("nats-auth-doc-{}", std::process::id()));
//! let setup = oled_nats_auth::Setup::ensure(&dir, "default", "wasmcloud.policy.default").unwrap();
//! let creds = std::fs::read_to_string(dir.join("policy.creds")).unwrap();
//! let (jwt, _seed) = oled_nats_auth::creds::parse(&creds).unwrap();
//! let claims = oled_nats_auth::jwt::decode(&jwt).unwrap();
//! assert_eq!(claims["iss"], setup.account);
//! assert_eq!(claims["nats"]["sub"]["allow"][0], "wasmcloud.policy.default");
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

pub mod creds;
pub mod jwt;
mod roles;
mod setup;

pub use roles::{Permissions, Role};
pub use setup::Setup;

/// What can go wrong making or reading credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A key could not sign.
    #[error("signing failed: {0}")]
    Sign(String),
    /// A JWT, a seed or a credentials file is not what it should be.
    #[error("malformed: {0}")]
    Malformed(String),
    /// A JWT's signature does not match its issuer.
    #[error("the signature does not match the issuer")]
    BadSignature,
    /// Reading or writing the folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What the filesystem said.
        source: std::io::Error,
    },
}
