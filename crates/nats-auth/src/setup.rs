//! The folder that holds a lattice's NATS identities: made once, kept, read by servers and clients.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nkeys::KeyPair;
use serde_json::json;

use crate::{creds, jwt, Error, Role};

/// A lattice's NATS identities, as written by [`Setup::ensure`].
#[derive(Debug, Clone)]
pub struct Setup {
    /// The folder.
    pub dir: PathBuf,
    /// The operator's public key.
    pub operator: String,
    /// The system account's public key (the servers' `system_account`).
    pub system_account: String,
    /// The lattice's account's public key: every user belongs to it.
    pub account: String,
}

impl Setup {
    /// Makes what is missing in `dir` and (re)writes the JWTs and credentials from the kept seeds,
    /// so a second run changes no identity: `keys/*.nk` (seeds), `operator.jwt`,
    /// `accounts/<public key>.jwt`, `<role>.creds` for each [`Role`], and `server.env` (the
    /// variables the NATS configs read). Files are mode 600, folders 700.
    pub fn ensure(dir: &Path, lattice: &str, policy_topic: &str) -> Result<Self, Error> {
        make_dir(dir)?;
        make_dir(&dir.join("keys"))?;
        make_dir(&dir.join("accounts"))?;
        let iat = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let operator = key(dir, "operator", KeyPair::new_operator)?;
        let system = key(dir, "system", KeyPair::new_account)?;
        let account = key(dir, "account", KeyPair::new_account)?;

        let op_jwt = jwt::encode(
            json!({"type": "operator", "version": 2, "system_account": system.public_key()}),
            "oled-lattice",
            &operator.public_key(),
            &operator,
            iat,
        )?;
        write_private(&dir.join("operator.jwt"), &op_jwt)?;
        let sys_jwt = jwt::encode(
            json!({"type": "account", "version": 2, "limits": {"subs": -1, "data": -1,
                "payload": -1, "imports": -1, "exports": -1, "wildcards": true, "conn": -1,
                "leaf": -1}}),
            "SYS",
            &system.public_key(),
            &operator,
            iat,
        )?;
        write_private(&accounts_file(dir, &system.public_key()), &sys_jwt)?;
        // JetStream is on for the lattice's account (hosts keep their config and lattice data there,
        // wadm its state): -1 is unlimited, within the server's own limits.
        let acct_jwt = jwt::encode(
            json!({"type": "account", "version": 2, "limits": {"subs": -1, "data": -1,
                "payload": -1, "imports": -1, "exports": -1, "wildcards": true, "conn": -1,
                "leaf": -1, "mem_storage": -1, "disk_storage": -1, "streams": -1,
                "consumer": -1}}),
            lattice,
            &account.public_key(),
            &operator,
            iat,
        )?;
        write_private(&accounts_file(dir, &account.public_key()), &acct_jwt)?;

        for role in Role::ALL {
            let user = key(dir, &format!("user-{}", role.name()), KeyPair::new_user)?;
            let (publish, subscribe) = role.permissions(lattice, policy_topic).to_claims();
            let user_jwt = jwt::encode(
                json!({"type": "user", "version": 2, "pub": publish, "sub": subscribe,
                    "subs": -1, "data": -1, "payload": -1,
                    "allowed_connection_types": role.connection_types()}),
                role.name(),
                &user.public_key(),
                &account,
                iat,
            )?;
            let seed = user.seed().map_err(|e| Error::Malformed(e.to_string()))?;
            write_private(
                &dir.join(format!("{}.creds", role.name())),
                &creds::format(&user_jwt, &seed),
            )?;
        }
        let env = format!(
            "OLED_NATS_OPERATOR={}\nOLED_NATS_SYSTEM_ACCOUNT={}\nOLED_NATS_ACCOUNT={}\n",
            dir.join("operator.jwt").display(),
            system.public_key(),
            account.public_key()
        );
        write_private(&dir.join("server.env"), &env)?;
        Ok(Setup {
            dir: dir.to_path_buf(),
            operator: operator.public_key(),
            system_account: system.public_key(),
            account: account.public_key(),
        })
    }

    /// The credentials file of `role`.
    pub fn creds(&self, role: Role) -> PathBuf {
        self.dir.join(format!("{}.creds", role.name()))
    }
}

fn accounts_file(dir: &Path, public_key: &str) -> PathBuf {
    dir.join("accounts").join(format!("{public_key}.jwt"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn make_dir(dir: &Path) -> Result<(), Error> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))
}

/// The key pair kept in `keys/<name>.nk`, made by `new` the first time.
fn key(dir: &Path, name: &str, new: fn() -> KeyPair) -> Result<KeyPair, Error> {
    let path = dir.join("keys").join(format!("{name}.nk"));
    match fs::read_to_string(&path) {
        Ok(seed) => KeyPair::from_seed(seed.trim())
            .map_err(|e| Error::Malformed(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pair = new();
            let seed = pair.seed().map_err(|e| Error::Malformed(e.to_string()))?;
            write_private(&path, &seed)?;
            Ok(pair)
        }
        Err(e) => Err(io(&path)(e)),
    }
}

/// Writes `text` to `path` with mode 600, through a temporary file and a rename.
fn write_private(path: &Path, text: &str) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io(path))
}
