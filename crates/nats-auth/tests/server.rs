//! Against a real nats-server (`NATS_SERVER`, `PATH`, or the installed one): the servers refuse
//! anonymous clients, and each role gets what it needs and no more. Every attack is first shown to
//! work against the same server without authentication.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::StreamExt as _;
use oled_nats_auth::{Role, Setup};

const LATTICE: &str = "default";
const POLICY: &str = "wasmcloud.policy.default";

struct Server {
    child: Child,
    url: String,
    _dir: Tmp,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Tmp(PathBuf);
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tmp(name: &str) -> Tmp {
    let dir = std::env::temp_dir().join(format!("oled-nats-auth-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Tmp(dir)
}

/// `$NATS_SERVER`, else `nats-server` on `PATH`, else the one `scripts/install-tools.sh` installs.
fn nats_server() -> PathBuf {
    let on_path = || {
        std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("nats-server"))
                .find(|f| f.is_file())
        })
    };
    let installed = || {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/oled-lattice/tools/venv/bin/nats-server"))
            .filter(|p| p.is_file())
    };
    std::env::var_os("NATS_SERVER")
        .map(PathBuf::from)
        .or_else(on_path)
        .or_else(installed)
        .expect("nats-server: set NATS_SERVER, put it on PATH or run scripts/install-tools.sh")
}

/// A server on a free port; with `setup`, in operator mode trusting its operator.
async fn start(name: &str, setup: Option<&Setup>) -> Server {
    let dir = tmp(name);
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut conf = format!(
        "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {}, domain: core }}\n",
        dir.0.join("js").display()
    );
    if let Some(s) = setup {
        let resolver = dir.0.join("jwt");
        std::fs::create_dir_all(&resolver).unwrap();
        for f in std::fs::read_dir(s.dir.join("accounts")).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, resolver.join(f.file_name().unwrap())).unwrap();
        }
        conf += &format!(
            "operator: {}\nsystem_account: {}\nresolver: {{ type: full, dir: {}, allow_delete: false }}\n",
            s.dir.join("operator.jwt").display(),
            s.system_account,
            resolver.display()
        );
    }
    let conf_file = dir.0.join("nats.conf");
    std::fs::write(&conf_file, conf).unwrap();
    let child = Command::new(nats_server())
        .arg("-c")
        .arg(&conf_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server");
    let url = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(&url).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Server {
        child,
        url,
        _dir: dir,
    }
}

async fn connect(url: &str, creds: Option<&Path>) -> Result<async_nats::Client, String> {
    let opts = match creds {
        Some(c) => async_nats::ConnectOptions::with_credentials_file(c)
            .await
            .map_err(|e| e.to_string())?,
        None => async_nats::ConnectOptions::new(),
    };
    opts.max_reconnects(Some(1))
        .connection_timeout(Duration::from_secs(2))
        .connect(url)
        .await
        .map_err(|e| e.to_string())
}

/// Whether a subscriber of `who` on `subject` hears a message that `from` publishes there. The
/// server takes a subscription some time after the client's flush returns: published a few times.
async fn hears(who: &async_nats::Client, from: &async_nats::Client, subject: &str) -> bool {
    let Ok(mut sub) = who.subscribe(subject.to_string()).await else {
        return false;
    };
    who.flush().await.ok();
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        from.publish(subject.to_string(), "probe".into()).await.ok();
        from.flush().await.ok();
        if let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(350), sub.next()).await {
            return true;
        }
    }
    false
}

fn setup(name: &str) -> (Setup, Tmp) {
    let dir = tmp(&format!("{name}-creds"));
    let s = Setup::ensure(&dir.0.join("auth"), LATTICE, POLICY).unwrap();
    (s, dir)
}

#[tokio::test]
async fn an_anonymous_client_is_refused_only_when_locked() {
    let open = start("open-anon", None).await;
    assert!(
        connect(&open.url, None).await.is_ok(),
        "the attack must work on an open server"
    );
    let (s, _d) = setup("anon");
    let locked = start("locked-anon", Some(&s)).await;
    let err = connect(&locked.url, None).await.err();
    assert!(
        err.as_deref().is_some_and(|e| e.contains("authorization")),
        "{err:?}"
    );
    for role in [
        Role::Host,
        Role::Wadm,
        Role::Policy,
        Role::Operator,
        Role::Caller,
    ] {
        assert!(
            connect(&locked.url, Some(&s.creds(role))).await.is_ok(),
            "{} must connect",
            role.name()
        );
    }
}

#[tokio::test]
async fn only_the_policy_service_hears_the_policy_topic() {
    let open = start("open-policy", None).await;
    let a = connect(&open.url, None).await.unwrap();
    let b = connect(&open.url, None).await.unwrap();
    assert!(
        hears(&a, &b, POLICY).await,
        "the attack must work on an open server"
    );

    let (s, _d) = setup("policy");
    let locked = start("locked-policy", Some(&s)).await;
    let host = connect(&locked.url, Some(&s.creds(Role::Host)))
        .await
        .unwrap();
    let policy = connect(&locked.url, Some(&s.creds(Role::Policy)))
        .await
        .unwrap();
    assert!(hears(&policy, &host, POLICY).await, "the policy service");
    for role in [Role::Caller, Role::Host, Role::Operator, Role::Wadm] {
        let other = connect(&locked.url, Some(&s.creds(role))).await.unwrap();
        assert!(
            !hears(&other, &host, POLICY).await,
            "{} must not hear the policy topic",
            role.name()
        );
    }
    // And the policy service's answer reaches the asking host.
    let mut requests = policy.subscribe(POLICY.to_string()).await.unwrap();
    policy.flush().await.unwrap();
    // `flush` does not wait for the server to take the subscription: ask until it has.
    let answer = tokio::spawn(async move {
        while let Some(m) = requests.next().await {
            if let Some(reply) = m.reply {
                policy.publish(reply, "permitted".into()).await.unwrap();
                policy.flush().await.unwrap();
                return;
            }
        }
    });
    let mut reply = None;
    for _ in 0..30 {
        match tokio::time::timeout(Duration::from_secs(1), host.request(POLICY, "ask".into())).await
        {
            Ok(Ok(r)) => {
                reply = Some(r);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let reply = reply.expect("the policy service's answer reaches the host");
    assert_eq!(&reply.payload[..], b"permitted");
    answer.await.unwrap();
}

#[tokio::test]
async fn a_caller_cannot_use_the_control_subjects() {
    let ctl = "wasmbus.ctl.v1.default.host.ping";
    let open = start("open-ctl", None).await;
    let a = connect(&open.url, None).await.unwrap();
    let b = connect(&open.url, None).await.unwrap();
    assert!(
        hears(&b, &a, ctl).await,
        "the attack must work on an open server"
    );

    let (s, _d) = setup("ctl");
    let locked = start("locked-ctl", Some(&s)).await;
    let host = connect(&locked.url, Some(&s.creds(Role::Host)))
        .await
        .unwrap();
    let caller = connect(&locked.url, Some(&s.creds(Role::Caller)))
        .await
        .unwrap();
    let operator = connect(&locked.url, Some(&s.creds(Role::Operator)))
        .await
        .unwrap();
    assert!(
        hears(&host, &operator, ctl).await,
        "the operator commands hosts"
    );
    assert!(!hears(&host, &caller, ctl).await, "a caller must not");
    // A caller still reaches components: wRPC subjects under the lattice's name, and inboxes.
    assert!(hears(&host, &caller, "default.oled-display.wrpc.0.0.1.x.y").await);
}

#[tokio::test]
async fn a_second_setup_keeps_every_identity() {
    let dir = tmp("again");
    let a = Setup::ensure(&dir.0, LATTICE, POLICY).unwrap();
    let first = std::fs::read_to_string(a.creds(Role::Host)).unwrap();
    let b = Setup::ensure(&dir.0, LATTICE, POLICY).unwrap();
    assert_eq!((&a.operator, &a.account), (&b.operator, &b.account));
    let second = std::fs::read_to_string(b.creds(Role::Host)).unwrap();
    let seed = |t: &str| oled_nats_auth::creds::parse(t).unwrap().1;
    assert_eq!(seed(&first), seed(&second));
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(b.creds(Role::Host))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
