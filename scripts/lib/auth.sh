# shellcheck shell=bash
# NATS in operator mode for a local lattice (sourced after common.sh). crates/nats-auth makes, once,
# the operator, a system account, the lattice's account and one user per role (host, wadm, policy,
# operator, caller, leaf), each in DIR/<role>.creds (mode 600), and keeps their seeds in DIR/keys so
# that a second `up` changes no identity. Nothing of it is committed or passed in an argument.

NATS_AUTH_BIN="$OLED_REPO/target/release/oled-nats-auth"

# nats_auth_ensure DIR LATTICE POLICY_TOPIC: build the tool when its sources changed, then make or
# refresh DIR. Dies with the reason.
nats_auth_ensure() {
    if [[ ! -x "$NATS_AUTH_BIN" || -n "$(find "$OLED_REPO/crates/nats-auth" -newer "$NATS_AUTH_BIN" -type f 2>/dev/null | head -n1)" ]]; then
        log "building the NATS credentials tool (cargo build --release -p oled-nats-auth)"
        (cd "$OLED_REPO" && cargo build -q --release -p oled-nats-auth) || die "could not build oled-nats-auth"
    fi
    "$NATS_AUTH_BIN" init --dir "$1" --lattice "$2" --policy-topic "$3" >/dev/null ||
        die "could not make the lattice's NATS credentials in $1"
}

# registry_auth_ensure DIR: logins for the lattice's OCI registry in DIR/registry: `owner` (wash
# push) and `host` (the hosts' pulls), each a random 128-bit password in <user>.password (mode 600),
# and the registry's htpasswd file (bcrypt) made from them. Passwords go to htpasswd on stdin, never
# in an argument. Distribution's htpasswd logins are all alike: `host` could push too.
registry_auth_ensure() {
    local dir="$1/registry" user
    command -v htpasswd >/dev/null || die "htpasswd is missing: run scripts/install-tools.sh (Debian package apache2-utils)"
    mkdir -p "$dir" && chmod 700 "$dir"
    for user in owner host; do
        [[ -s "$dir/$user.password" ]] ||
            (umask 077 && od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/$user.password")
    done
    if [[ ! -s "$dir/htpasswd" || "$dir/owner.password" -nt "$dir/htpasswd" || "$dir/host.password" -nt "$dir/htpasswd" ]]; then
        (
            umask 077
            : >"$dir/htpasswd.new"
            for user in owner host; do
                htpasswd -iB "$dir/htpasswd.new" "$user" <"$dir/$user.password" 2>/dev/null || exit 1
            done
        ) || die "could not make the registry's htpasswd file in $dir"
        mv "$dir/htpasswd.new" "$dir/htpasswd"
    fi
}

# nats_auth_var DIR NAME: a value of DIR/server.env (OLED_NATS_OPERATOR, _SYSTEM_ACCOUNT, _ACCOUNT).
nats_auth_var() {
    sed -n "s/^$2=//p" "$1/server.env"
}

# nats_resolver_dir DIR SERVER_DIR: SERVER_DIR/jwt, a server's own folder of the account JWTs (its
# `full` resolver manages that folder alone), filled from DIR/accounts. Prints its path.
nats_resolver_dir() {
    mkdir -p "$2/jwt"
    cp "$1"/accounts/*.jwt "$2/jwt/"
    echo "$2/jwt"
}
