//! Who connects to a lattice's NATS, and what each may publish and subscribe to.

use serde_json::{json, Value};

/// One kind of connection, with its own user and credentials file (`<name>.creds`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A wasmCloud host, control and RPC; the providers it starts inherit its RPC credentials.
    Host,
    /// wadm, the deployment controller: the operator's agent, so it commands hosts.
    Wadm,
    /// The policy service: it alone may subscribe to the policy topic.
    Policy,
    /// The owner at the keyboard: `wash` and the scripts that run the lattice.
    Operator,
    /// A caller of components and providers over wRPC (benches, tests): no control subjects.
    Caller,
    /// A leaf NATS server's link to the hub: what it may carry across.
    Leaf,
}

impl Role {
    /// Every role, in the order the credentials are written.
    pub const ALL: [Role; 6] = [
        Role::Host,
        Role::Wadm,
        Role::Policy,
        Role::Operator,
        Role::Caller,
        Role::Leaf,
    ];

    /// The role's name: its user's name and its credentials file's stem.
    ///
    /// ```
    /// assert_eq!(oled_nats_auth::Role::Policy.name(), "policy");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Role::Host => "host",
            Role::Wadm => "wadm",
            Role::Policy => "policy",
            Role::Operator => "operator",
            Role::Caller => "caller",
            Role::Leaf => "leaf",
        }
    }

    /// What this role may publish and subscribe to on `lattice`, whose hosts ask `policy_topic`.
    pub fn permissions(self, lattice: &str, policy_topic: &str) -> Permissions {
        let policy = vec![policy_topic.to_string(), format!("{policy_topic}.>")];
        let control = vec!["wasmbus.ctl.>".to_string()];
        let all = || vec![">".to_string()];
        match self {
            // Hosts publish to the policy topic (their requests) but may never answer it.
            Role::Host | Role::Wadm | Role::Operator | Role::Leaf => Permissions {
                pub_allow: all(),
                pub_deny: vec![],
                sub_allow: all(),
                sub_deny: policy,
            },
            // Answers go to the asking host's inbox.
            Role::Policy => Permissions {
                pub_allow: vec!["_INBOX.>".into()],
                pub_deny: control,
                sub_allow: policy,
                sub_deny: vec![],
            },
            // wRPC: invocations on `<lattice>.<target>.wrpc...`, handshakes and parameters on inboxes.
            Role::Caller => Permissions {
                pub_allow: vec![format!("{lattice}.>"), "_INBOX.>".into()],
                pub_deny: control.iter().cloned().chain(policy.clone()).collect(),
                sub_allow: vec!["_INBOX.>".into()],
                sub_deny: control.into_iter().chain(policy).collect(),
            },
        }
    }

    /// How this role connects: a leaf link, or an ordinary client.
    pub fn connection_types(self) -> &'static [&'static str] {
        match self {
            Role::Leaf => &["LEAFNODE"],
            _ => &["STANDARD"],
        }
    }
}

/// Subjects a user may and may not publish and subscribe to (NATS wildcards `*` and `>`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    /// Subjects it may publish to.
    pub pub_allow: Vec<String>,
    /// Subjects it may not publish to, even if allowed above.
    pub pub_deny: Vec<String>,
    /// Subjects it may subscribe to.
    pub sub_allow: Vec<String>,
    /// Subjects it may not subscribe to, even if allowed above.
    pub sub_deny: Vec<String>,
}

impl Permissions {
    /// The `pub` and `sub` parts of a user JWT's `nats` claim.
    pub fn to_claims(&self) -> (Value, Value) {
        let part = |allow: &[String], deny: &[String]| {
            let mut v = json!({});
            if !allow.is_empty() {
                v["allow"] = json!(allow);
            }
            if !deny.is_empty() {
                v["deny"] = json!(deny);
            }
            v
        };
        (
            part(&self.pub_allow, &self.pub_deny),
            part(&self.sub_allow, &self.sub_deny),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_policy_service_may_subscribe_to_the_policy_topic() {
        for role in Role::ALL {
            let p = role.permissions("default", "wasmcloud.policy.default");
            let denied = p.sub_deny.iter().any(|s| s == "wasmcloud.policy.default");
            let allowed = p
                .sub_allow
                .iter()
                .any(|s| s == ">" || s == "wasmcloud.policy.default");
            assert_eq!(
                allowed && !denied,
                role == Role::Policy,
                "{}: {p:?}",
                role.name()
            );
        }
    }

    #[test]
    fn callers_and_the_policy_service_never_touch_the_control_subjects() {
        for role in [Role::Caller, Role::Policy] {
            let p = role.permissions("default", "wasmcloud.policy.default");
            assert!(p.pub_deny.iter().any(|s| s == "wasmbus.ctl.>"));
            assert!(!p
                .sub_allow
                .iter()
                .any(|s| s == ">" || s.starts_with("wasmbus")));
        }
    }
}
