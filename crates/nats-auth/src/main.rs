//! `oled-nats-auth init --dir DIR --lattice NAME --policy-topic TOPIC`: make (once) and refresh a
//! lattice's NATS operator, accounts and per-role credentials in DIR (see the library's docs).

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use oled_nats_auth::{Role, Setup};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    match args.first().map(String::as_str) {
        Some("init") => {
            let (Some(dir), Some(lattice), Some(topic)) =
                (flag("--dir"), flag("--lattice"), flag("--policy-topic"))
            else {
                bail!("init needs --dir DIR --lattice NAME --policy-topic TOPIC");
            };
            let dir = PathBuf::from(dir);
            let setup = Setup::ensure(&dir, &lattice, &topic)
                .with_context(|| format!("making NATS credentials in {}", dir.display()))?;
            let roles: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
            println!(
                "operator {} account {} users {} in {}",
                setup.operator,
                setup.account,
                roles.join(","),
                dir.display()
            );
            Ok(())
        }
        _ => bail!("usage: oled-nats-auth init --dir DIR --lattice NAME --policy-topic TOPIC"),
    }
}
