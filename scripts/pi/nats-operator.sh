# shellcheck shell=bash
# NATS operator mode for the laptop + Pi setup, sourced by setup-laptop.sh (the hub) and by
# setup-pi.sh (the Pi's leaf; install.sh copies this file beside it). Both servers trust the same
# operator, made once on the laptop by crates/nats-auth (`setup-laptop.sh init`): a client must
# present a user JWT of the lattice's account and prove it holds that user's seed (a .creds file),
# and each user's JWT limits what it may publish and subscribe to. Anonymous clients are refused.
#
# The folder the functions read (the laptop's ~/.config/oled-lattice/nats, or the Pi's
# /etc/oled-lattice/nats): operator.jwt, server.env (the accounts' public keys) and
# accounts/<public key>.jwt. Account JWTs are signed, not secret: the configs carry them inline
# (the MEMORY resolver), so no server keeps a resolver folder of its own.

# oled_nats_var DIR NAME: a value of DIR/server.env (OLED_NATS_SYSTEM_ACCOUNT, OLED_NATS_ACCOUNT).
oled_nats_var() {
    sed -n "s/^$2=//p" "$1/server.env" 2>/dev/null
}

# oled_nats_operator_block DIR: the lines of a server config that put it in operator mode with the
# operator and accounts in DIR (see above); its JWT paths are DIR's. Fails, saying why, when DIR
# has no operator.
oled_nats_operator_block() {
    local dir="$1" sys f n=0
    sys="$(oled_nats_var "$dir" OLED_NATS_SYSTEM_ACCOUNT)"
    if [[ -z "$sys" || ! -s "$dir/operator.jwt" ]]; then
        echo "error: no NATS operator in $dir (scripts/pi/setup-laptop.sh init makes it)" >&2
        return 1
    fi
    printf '%s\n' "# Operator mode: only users of the lattice's account get in, each within its JWT's permissions." \
        "operator: \"$dir/operator.jwt\"" "system_account: $sys" "resolver: MEMORY" "resolver_preload: {"
    for f in "$dir"/accounts/*.jwt; do
        [[ -s "$f" ]] || continue
        printf '    %s: "%s"\n' "$(basename "$f" .jwt)" "$(tr -d '\n' <"$f")"
        n=$((n + 1))
    done
    printf '}\n'
    ((n >= 2)) || { echo "error: $dir/accounts holds $n account JWTs, not the system's and the lattice's" >&2; return 1; }
}
