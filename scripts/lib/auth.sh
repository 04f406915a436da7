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
