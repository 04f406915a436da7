#!/usr/bin/env bash
# Bring up, inspect and tear down a local wasmCloud 1.x lattice with the topology of the real
# thing, all on loopback:
#
# Every NATS connection authenticates (operator mode, one user per role: scripts/lib/auth.sh), and
# the registry wants a login.
#
#   hub NATS  "laptop"  127.0.0.1:$OLED_HUB_PORT (4222), JetStream domain `core`,
#                       leafnode listener 127.0.0.1:$OLED_LEAFNODE_PORT (7422)
#   leaf NATS "pi"      127.0.0.1:$OLED_LEAF_PORT (4223), JetStream domain `pi`,
#                       leaf remote tls://127.0.0.1:$OLED_LEAFNODE_PORT (mutual TLS, CA in the state dir)
#   wadm                on the hub (JetStream domain core), started before the hosts
#   host "laptop"       on the hub,  label device=laptop
#   host "pi"           on the leaf, labels device=pi room=kitchen
#
# OLED_FLEET=1 adds a second Pi, the shape of a small house (kept for `down` and `status` until `down`):
#   leaf NATS "hall"    127.0.0.1:$OLED_HALL_LEAF_PORT (4224), JetStream domain `hall`, leaf of the hub
#   host "hall"         on that leaf, labels device=pi room=hall
#
# Both hosts use the hub's JetStream domain (WASMCLOUD_JS_DOMAIN=core), may load file://
# images, and keep their provider cache (TMPDIR) in the state dir. The NATS servers read their
# config files from scripts/lattice/ (nats-server's own format; the addresses come in as variables).
#
# Every service gets exactly its own settings: it starts from an empty environment (PATH, HOME and
# the locale only) plus its own variables, so nothing of the caller's shell (for example the
# WASMCLOUD_CTL_*/RPC_* of a sourced env.sh, which would override WASMCLOUD_NATS_*) reaches it.
# `up` and `status` check the topology: the pi host's connections must be on the leaf NATS.
#
# The pi side (leaf NATS and pi host) can run in a network namespace, as on another machine:
# OLED_PI_NETNS=<name> with OLED_LEAFNODE_HOST=<the hub's address on the link into it> (the fault
# bench makes the namespace and a veth pair, scripts/lib/netns.sh).
#
# usage: [OLED_FLEET=1] scripts/lattice.sh up|down|status|env|clean
#
# State (configs, pid files, logs, JetStream stores, wash's config): $OLED_LATTICE_STATE,
# default <repo>/.state/lattice. Ports and the lattice name are overridable for parallel use:
# OLED_HUB_PORT, OLED_LEAF_PORT, OLED_LEAFNODE_PORT, OLED_HUB_HTTP_PORT, OLED_LEAF_HTTP_PORT,
# OLED_LATTICE_NAME. Timeouts: OLED_LATTICE_UP_TIMEOUT (s, default 60),
# OLED_LATTICE_STOP_TIMEOUT (s per service, default 15). Traces: OLED_OTLP_ENDPOINT (OTLP/HTTP).
#
# Tools come from scripts/install-tools.sh (${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/tools).
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/tls.sh
source "$OLED_REPO/scripts/lib/tls.sh"
# shellcheck source=scripts/lib/supervise.sh
source "$OLED_REPO/scripts/lib/supervise.sh"
# shellcheck source=scripts/lib/auth.sh
source "$OLED_REPO/scripts/lib/auth.sh"

STATE="${OLED_LATTICE_STATE:-$OLED_REPO/.state/lattice}"
HUB_PORT="${OLED_HUB_PORT:-4222}"
LEAF_PORT="${OLED_LEAF_PORT:-4223}"
LEAFNODE_PORT="${OLED_LEAFNODE_PORT:-7422}"
HUB_HTTP_PORT="${OLED_HUB_HTTP_PORT:-8222}"
LEAF_HTTP_PORT="${OLED_LEAF_HTTP_PORT:-8223}"
HALL_LEAF_PORT="${OLED_HALL_LEAF_PORT:-4224}"
HALL_LEAF_HTTP_PORT="${OLED_HALL_LEAF_HTTP_PORT:-8224}"
LATTICE="${OLED_LATTICE_NAME:-default}"
LEAFNODE_HOST="${OLED_LEAFNODE_HOST:-127.0.0.1}"
# The OCI registry the manifests' images come from (scripts/lattice/registry.yml).
REGISTRY="${OLED_REGISTRY:-127.0.0.1:5000}"
PI_NETNS="${OLED_PI_NETNS:-}"
UP_TIMEOUT="${OLED_LATTICE_UP_TIMEOUT:-60}"
STOP_TIMEOUT="${OLED_LATTICE_STOP_TIMEOUT:-15}"
JS_DOMAIN="core"
# The lattice's NATS identities (scripts/lib/auth.sh): every connection authenticates.
AUTH="$STATE/nats-auth"

BIN="$OLED_TOOLS/bin"
CONF_DIR="$OLED_REPO/scripts/lattice"
# Settings of each host beyond its NATS connection and labels (see start_host).
# The laptop host runs the display component: no invocation of it may take longer than this (a call
# to a Pi that stopped answering ends instead of holding one of the component's instances forever).
# The display component calls the panel through wrpc:rpc (its own deadline): experimental feature
# `rpc-interface` of the 1.x host.
LAPTOP_HOST_SETTINGS=(
    WASMCLOUD_EXPERIMENTAL_FEATURES=rpc-interface
    WASMCLOUD_MAX_EXECUTION_TIME_MS="${OLED_MAX_EXECUTION_TIME_MS:-10000}"
)
PI_HOST_SETTINGS=()
# OLED_PI_HOST_BIN: another host binary for the "pi" host, such as the Pi's own aarch64 build
# (scripts/build-pi.sh --host), run through qemu-user by binfmt_misc (the pi stage registers it).
# Under qemu-user, a small component pool: wasmtime's pooling allocator reserves address space per
# slot, which costs nothing on a Pi but real memory under emulation.
PI_HOST_BIN="${OLED_PI_HOST_BIN:-}"
if [[ -n "$PI_HOST_BIN" ]]; then
    PI_HOST_SETTINGS=(WASMCLOUD_MAX_COMPONENTS=8 WASMCLOUD_MAX_CORE_INSTANCES_PER_COMPONENT=8)
fi
# Traces: OLED_OTLP_ENDPOINT=http://host:4318 turns on the hosts' OpenTelemetry export (OTLP over
# HTTP); the hosts pass it on to the providers they start, so an update is one trace from the HTTP
# server through the display component to the panel provider and its bus.
OTEL_SETTINGS=()
if [[ -n "${OLED_OTLP_ENDPOINT:-}" ]]; then
    OTEL_SETTINGS=(
        WASMCLOUD_OBSERVABILITY_ENABLED=true
        OTEL_EXPORTER_OTLP_ENDPOINT="$OLED_OTLP_ENDPOINT"
        WASMCLOUD_OBSERVABILITY_PROTOCOL=http
    )
fi
# Both hosts ask our policy service (crates/policy) before they start anything: only components and
# providers signed by the project's keys may run.
POLICY_TOPIC="wasmcloud.policy.$LATTICE"
POLICY_BIN="$OLED_REPO/target/release/oled-policy"
# The allow-list (OLED_SIGNING_KEYS, common.sh) is made at `up`, never committed.
NATS_SERVER="$BIN/nats-server"
HOST_BIN="$BIN/oled-wasmcloud-host"
WADM_BIN="$BIN/oled-wadm"
WASH="$BIN/wash"

# The services in start order; `down` stops them in reverse. The fleet's second Pi is part of them
# while OLED_FLEET=1 or a fleet brought up in this state dir is still there.
SERVICES=(registry nats-hub nats-leaf policy wadm host-laptop host-pi)
FLEET_MARK="$STATE/fleet"
FLEET=0
if [[ "${OLED_FLEET:-0}" == 1 || -f "$FLEET_MARK" ]]; then
    FLEET=1
    SERVICES+=(nats-leaf-hall host-hall)
fi

pidfile() { echo "$STATE/run/$1.pid"; }
# What the command line of each service's process contains.
program_of() {
    case "$1" in
        nats-*) echo "nats-server" ;;
        registry) echo "docker-registry" ;;
        policy) echo "oled-policy" ;;
        wadm) echo "oled-wadm" ;;
        host-*) echo "oled-wasmcloud-host" ;;
    esac
}
# running SERVICE: true when the service's pid file names its live process, or its supervisor lives
# (between a crash and the restart its policy makes).
running() {
    pid_alive "$(pidfile "$1")" "$(program_of "$1")" || pid_alive "$(suppidfile "$1")" oled-supervise
}
logfile() { echo "$STATE/logs/$1.log"; }

usage() {
    cat <<EOF
usage: $0 up|down|status|env|clean

  up      start hub NATS, leaf NATS, wadm, the laptop host and the pi host (what is not
          running yet), then wait until both hosts are seen on the lattice
  down    stop everything this state dir started (SIGTERM, SIGKILL after ${STOP_TIMEOUT}s)
  status  print what runs; exit 0 when all services run, 3 when none, 1 when only some
  env     print the path of the file to source for wash (WASH_*, WASMCLOUD_* and PATH)
  clean   down, then delete the state dir (JetStream stores, wadm manifests, logs)

state dir: $STATE
EOF
}

require_tools() {
    local t
    for t in "$NATS_SERVER" "$HOST_BIN" "$WADM_BIN" "$WASH"; do
        [[ -x "$t" ]] || die "$t is missing: run scripts/install-tools.sh first"
    done
    command -v docker-registry >/dev/null ||
        die "docker-registry is missing: run scripts/install-tools.sh (or apt-get install docker-registry)"
}

# pi_side CMD...: run CMD where the pi side lives (its network namespace, if any).
pi_side() {
    if [[ -n "$PI_NETNS" ]]; then
        ip netns exec "$PI_NETNS" "$@"
    else
        "$@"
    fi
}

# clean_env VAR=VALUE... -- CMD...: CMD with an empty environment plus the basics and VAR=VALUE.
clean_env() {
    local vars=(PATH="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="$HOME" LANG=C.UTF-8)
    while [[ $# -gt 0 && "$1" != "--" ]]; do
        vars+=("$1")
        shift
    done
    shift
    exec_args=(env -i "${vars[@]}" "$@")
}

# Environment for wash (and the user's shell) talking to this lattice through the hub.
write_env_file() {
    cat >"$STATE/env.sh" <<EOF
# Generated by scripts/lattice.sh: source it to use wash against the local lattice.
export PATH="$BIN:\$PATH"
$(wash_isolate_env "$STATE/wash")
export WASMCLOUD_CTL_HOST=127.0.0.1
export WASMCLOUD_CTL_PORT=$HUB_PORT
# \`wash call\` reads the RPC connection; here it is the hub too.
export WASMCLOUD_RPC_HOST=127.0.0.1
export WASMCLOUD_RPC_PORT=$HUB_PORT
export WASMCLOUD_LATTICE=$LATTICE
export WASMCLOUD_JS_DOMAIN=$JS_DOMAIN
export OLED_LATTICE_STATE="$STATE"
# The servers refuse anonymous clients: wash is the operator; benches and tests are callers.
export WASH_CTL_CREDS="$AUTH/operator.creds"
export WASH_RPC_CREDS="$AUTH/operator.creds"
export OLED_NATS_CREDS="$AUTH/caller.creds"
# The lattice's OCI registry (plain HTTP, local, a login for everything): \`wash push --insecure
# $REGISTRY/...\` logs in as the owner with these.
export OLED_REGISTRY=$REGISTRY
export WASH_REG_USER=owner
WASH_REG_PASSWORD="\$(cat "$AUTH/registry/owner.password" 2>/dev/null)"
export WASH_REG_PASSWORD
EOF
}

# wash against this lattice, with its config isolated in the state dir.
lwash() {
    (
        wash_isolate "$STATE/wash"
        export WASMCLOUD_CTL_HOST=127.0.0.1 WASMCLOUD_CTL_PORT="$HUB_PORT"
        export WASMCLOUD_LATTICE="$LATTICE" WASMCLOUD_JS_DOMAIN="$JS_DOMAIN"
        export WASH_CTL_CREDS="$AUTH/operator.creds" WASH_RPC_CREDS="$AUTH/operator.creds"
        exec "$WASH" "$@"
    )
}

# The variables the NATS config files in scripts/lattice/ read: the server's own, then operator mode's.
nats_vars() {
    local server_dir="$STATE/nats-$1"
    echo "OLED_NATS_OPERATOR=$(nats_auth_var "$AUTH" OLED_NATS_OPERATOR)" \
        "OLED_NATS_SYSTEM_ACCOUNT=$(nats_auth_var "$AUTH" OLED_NATS_SYSTEM_ACCOUNT)" \
        "OLED_NATS_ACCOUNT=$(nats_auth_var "$AUTH" OLED_NATS_ACCOUNT)" \
        "OLED_NATS_RESOLVER_DIR=$(nats_resolver_dir "$AUTH" "$server_dir")" \
        "OLED_LEAF_CREDS=$AUTH/leaf.creds"
    case "$1" in
        hub)
            echo "OLED_HUB_LISTEN=127.0.0.1:$HUB_PORT" "OLED_HUB_HTTP=127.0.0.1:$HUB_HTTP_PORT" \
                "OLED_HUB_PID=$STATE/nats-hub/nats.pid" "OLED_HUB_STORE=$STATE/nats-hub/jetstream" \
                "OLED_LEAFNODE_LISTEN=$LEAFNODE_HOST:$LEAFNODE_PORT" \
                "OLED_HUB_TLS_CERT=$STATE/tls/hub.pem" "OLED_HUB_TLS_KEY=$STATE/tls/hub.key" \
                "OLED_TLS_CA=$STATE/tls/ca.pem"
            ;;
        leaf)
            echo "OLED_LEAF_NAME=oled-leaf" "OLED_LEAF_DOMAIN=pi" \
                "OLED_LEAF_LISTEN=127.0.0.1:$LEAF_PORT" "OLED_LEAF_HTTP=127.0.0.1:$LEAF_HTTP_PORT" \
                "OLED_LEAF_PID=$STATE/nats-leaf/nats.pid" "OLED_LEAF_STORE=$STATE/nats-leaf/jetstream" \
                "OLED_LEAF_REMOTE=tls://$LEAFNODE_HOST:$LEAFNODE_PORT" \
                "OLED_LEAF_TLS_CERT=$STATE/tls/leaf.pem" "OLED_LEAF_TLS_KEY=$STATE/tls/leaf.key" \
                "OLED_TLS_CA=$STATE/tls/ca.pem"
            ;;
        leaf-hall)
            echo "OLED_LEAF_NAME=oled-leaf-hall" "OLED_LEAF_DOMAIN=hall" \
                "OLED_LEAF_LISTEN=127.0.0.1:$HALL_LEAF_PORT" "OLED_LEAF_HTTP=127.0.0.1:$HALL_LEAF_HTTP_PORT" \
                "OLED_LEAF_PID=$STATE/nats-leaf-hall/nats.pid" "OLED_LEAF_STORE=$STATE/nats-leaf-hall/jetstream" \
                "OLED_LEAF_REMOTE=tls://$LEAFNODE_HOST:$LEAFNODE_PORT" \
                "OLED_LEAF_TLS_CERT=$STATE/tls/leaf.pem" "OLED_LEAF_TLS_KEY=$STATE/tls/leaf.key" \
                "OLED_TLS_CA=$STATE/tls/ca.pem"
            ;;
    esac
}

# died_service: print the first service that has a pid file but no longer runs.
died_service() {
    local name
    for name in "${SERVICES[@]}"; do
        if [[ -s "$(pidfile "$name")" ]] && ! running "$name"; then
            echo "$name"
            return 0
        fi
    done
    return 1
}

# wait_for DESCRIPTION LOGS COMMAND...: poll COMMAND until it succeeds or UP_TIMEOUT passes;
# give up at once when a service that was started has exited.
wait_for() {
    local what="$1" logs="$2" deadline=$((SECONDS + UP_TIMEOUT)) dead
    shift 2
    until "$@"; do
        if dead="$(died_service)"; then
            tail -n 15 "$(logfile "$dead")" >&2 || true
            die "$dead exited while waiting for $what; see $(logfile "$dead")"
        fi
        if ((SECONDS >= deadline)); then
            die "timed out after ${UP_TIMEOUT}s waiting for $what; see $logs"
        fi
        sleep 0.5
    done
}

# A service's port must be ours or free: refuse to start next to a stranger.
check_port_free() {
    local port="$1" name="$2"
    if tcp_open "$port"; then
        die "port $port (for $name) is already in use by another process; stop it or set the OLED_*_PORT variables (see $0 --help)"
    fi
}

leaf_connected() {
    grep -q '"leafnodes": *[1-9]' <<<"$(pi_side curl -fsS --max-time 2 "http://127.0.0.1:$LEAF_HTTP_PORT/leafz" 2>/dev/null)"
}

hall_leaf_connected() {
    grep -q '"leafnodes": *[1-9]' <<<"$(curl -fsS --max-time 2 "http://127.0.0.1:$HALL_LEAF_HTTP_PORT/leafz" 2>/dev/null)"
}

# jetstream_ready PORT [pi]: the monitoring endpoint on PORT says JetStream is up.
jetstream_ready() {
    if [[ "${2:-}" == pi ]]; then
        pi_side curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz?js-enabled-only=true" >/dev/null 2>&1
    else
        curl -fsS --max-time 2 "http://127.0.0.1:$1/healthz?js-enabled-only=true" >/dev/null 2>&1
    fi
}

# The registry answers (401 without a login: it wants one).
registry_ready() {
    [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 2 "http://$REGISTRY/v2/" 2>/dev/null)" =~ ^(200|401)$ ]]
}

wadm_ready() {
    lwash app list >/dev/null 2>&1
}

# Every host seen, each with its labels: device=laptop, device=pi room=kitchen (and room=hall in
# the fleet).
hosts_seen() {
    local json
    json="$(lwash get hosts -o json 2>/dev/null)" || return 1
    python3 - "$json" "$FLEET" <<'EOF'
import json, sys
hosts = json.loads(sys.argv[1]).get("hosts", [])
seen = {(h.get("labels", {}).get("device"), h.get("labels", {}).get("room")) for h in hosts}
want = {("laptop", None), ("pi", "kitchen")} | ({("pi", "hall")} if sys.argv[2] == "1" else set())
sys.exit(0 if want <= seen else 1)
EOF
}

# start_service NAME VAR=VALUE... -- CMD...: start CMD as NAME with a clean environment (clean_env).
start_service() {
    local name="$1" exec_args=()
    shift
    if running "$name"; then
        log "$name is already running (pid $(<"$(pidfile "$name")"))"
        return 0
    fi
    clean_env "$@"
    # The supervisor inside the clean environment, so it passes exactly that on.
    local i=2
    while [[ "${exec_args[i]}" == *=* ]]; do i=$((i + 1)); done
    exec_args=("${exec_args[@]:0:i}" "$SUPERVISE_BIN" --unit "$(unit_of "$name")" --name "$name"
        --pidfile "$(pidfile "$name")" -- "${exec_args[@]:i}")
    case "$name" in
        nats-leaf | host-pi) [[ -n "$PI_NETNS" ]] && exec_args=(ip netns exec "$PI_NETNS" "${exec_args[@]}") ;;
        *) ;;
    esac
    log "starting $name under oled-supervise (log: $(logfile "$name"))"
    printf '\n===== %s start %s =====\n' "$name" "$(date -Is)" >>"$(logfile "$name")"
    rm -f "$(pidfile "$name")"
    start_detached "$(suppidfile "$name")" "$(logfile "$name")" "${exec_args[@]}"
    for ((i = 0; i < 100; i++)); do
        [[ -s "$(pidfile "$name")" ]] && return 0
        sleep 0.05
    done
    die "$name did not start under its supervisor: see $(logfile "$name")"
}


# The pi host's NATS connections are on the leaf: the leaf's monitoring endpoint lists a client
# subscribed to subjects that carry the pi host's id (the control interface of the host).
# pi_host_on_leaf [ROOM HTTP_PORT]: the same for the host of ROOM on the leaf at HTTP_PORT (default:
# the kitchen Pi on the first leaf).
pi_host_on_leaf() {
    local room="${1:-kitchen}" port="${2:-$LEAF_HTTP_PORT}" json pi_id
    json="$(lwash get hosts -o json 2>/dev/null)" || return 1
    pi_id="$(python3 -c '
import json, sys
hosts = json.loads(sys.argv[1]).get("hosts", [])
print(next((h.get("id", "") for h in hosts
            if h.get("labels", {}).get("device") == "pi" and h.get("labels", {}).get("room") == sys.argv[2]), ""))
' "$json" "$room")"
    [[ -n "$pi_id" ]] || return 1
    if [[ "$room" == kitchen ]]; then
        grep -qF "$pi_id" <<<"$(pi_side curl -fsS --max-time 2 "http://127.0.0.1:$port/connz?subs=1" 2>/dev/null)"
    else
        grep -qF "$pi_id" <<<"$(curl -fsS --max-time 2 "http://127.0.0.1:$port/connz?subs=1" 2>/dev/null)"
    fi
}

# Hosts send a heartbeat every OLED_HEARTBEAT_INTERVAL seconds (default 5; wasmCloud's is 30): wadm
# reconciles on heartbeats, so a host that lost its provider (the host restarted after a crash) gets it
# back within seconds. The cost is a small message every 5 s per host.
#
# host_seed NAME: the host's own server key seed, made once and kept in the state dir. A host that
# restarts after a crash (kill -9, power loss) comes back with the same id, so wadm sees at once
# that its provider is gone and places it again, instead of waiting about 90 s to reap the old id.
host_seed() {
    local file="$STATE/$1/host.seed"
    if [[ ! -s "$file" ]]; then
        (umask 077 && lwash keys gen server -o json |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["seed"])' >"$file.tmp") &&
            mv "$file.tmp" "$file"
    fi
    cat "$file"
}

# start_host NAME DEVICE NATS_PORT [ROOM]
start_host() {
    local name="$1" device="$2" port="$3" room="${4:-}"
    local tmp="$STATE/$name/tmp" labels=()
    [[ -n "$room" ]] && labels=(WASMCLOUD_LABEL_room="$room")
    # A 1.x host keeps each provider's binary unpacked under its image reference and reuses it even
    # when the archive under that tag changed (wasmcloud-core par::read, UseParFileCache::Use): a
    # rebuilt provider pushed under the same version would run the old binary. A host that starts
    # unpacks afresh (the OCI cache still checks digests, so nothing is downloaded needlessly).
    running "$name" || rm -rf "$tmp/wasmcloudcache"
    mkdir -p "$tmp"
    # Hosts (and the providers they start) work in the repo root, so relative paths in provider config,
    # such as the virtual panel's `snapshot: build/oled-panel.png`, mean the same wherever `up` was run.
    cd "$OLED_REPO"
    start_service "$name" \
        TMPDIR="$tmp" \
        WASMCLOUD_LATTICE="$LATTICE" \
        WASMCLOUD_NATS_HOST=127.0.0.1 \
        WASMCLOUD_NATS_PORT="$port" \
        WASMCLOUD_NATS_CREDS="$AUTH/host.creds" \
        WASMCLOUD_JS_DOMAIN="$JS_DOMAIN" \
        WASMCLOUD_ALLOW_FILE_LOAD=true \
        WASMCLOUD_OCI_ALLOWED_INSECURE="$REGISTRY" \
        WASMCLOUD_OCI_REGISTRY="$REGISTRY" \
        WASMCLOUD_OCI_REGISTRY_USER=host \
        WASMCLOUD_OCI_REGISTRY_PASSWORD="$(<"$AUTH/registry/host.password")" \
        WASMCLOUD_LABEL_device="$device" \
        "${labels[@]}" \
        WASMCLOUD_HOST_SEED="$(host_seed "$name")" \
        WASMCLOUD_HEARTBEAT_INTERVAL="${OLED_HEARTBEAT_INTERVAL:-5}" \
        WASMCLOUD_POLICY_TOPIC="$POLICY_TOPIC" \
        WASMCLOUD_POLICY_TIMEOUT=3000 \
        WASMCLOUD_LOG_LEVEL="${OLED_HOST_LOG_LEVEL:-info}" \
        ${OLED_HOST_RUST_LOG:+RUST_LOG="$OLED_HOST_RUST_LOG"} \
        "${HOST_SETTINGS[@]}" \
        "${OTEL_SETTINGS[@]}" \
        -- "${HOST_EXEC:-$HOST_BIN}"
}

cmd_up() {
    require_tools
    mkdir -p "$STATE"/{run,logs,nats-hub,nats-leaf,wash}
    wash_isolate "$STATE/wash"
    write_env_file
    local up_start=$SECONDS

    supervise_ensure_built
    if ! running registry && [[ "$REGISTRY" == 127.0.0.1:* ]]; then
        check_port_free "${REGISTRY##*:}" "OCI registry"
    fi
    mkdir -p "$STATE/registry"
    tls_ensure "$STATE/tls" "$LEAFNODE_HOST"
    nats_auth_ensure "$AUTH" "$LATTICE" "$POLICY_TOPIC"
    registry_auth_ensure "$AUTH"
    start_service registry \
        REGISTRY_HTTP_ADDR="$REGISTRY" \
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$STATE/registry" \
        REGISTRY_AUTH_HTPASSWD_REALM=oled-lattice \
        REGISTRY_AUTH_HTPASSWD_PATH="$AUTH/registry/htpasswd" \
        -- docker-registry serve "$CONF_DIR/registry.yml"
    wait_for "the OCI registry on $REGISTRY" "$(logfile registry)" registry_ready

    if ! running nats-hub; then
        check_port_free "$HUB_PORT" "hub NATS"
        [[ "$LEAFNODE_HOST" == 127.0.0.1 ]] && check_port_free "$LEAFNODE_PORT" "hub leafnode listener"
        check_port_free "$HUB_HTTP_PORT" "hub NATS monitoring"
    fi
    # shellcheck disable=SC2046 # one word per VAR=VALUE
    start_service nats-hub $(nats_vars hub) -- "$NATS_SERVER" -c "$CONF_DIR/nats-hub.conf"
    wait_for "hub NATS JetStream on 127.0.0.1:$HUB_PORT" "$(logfile nats-hub)" jetstream_ready "$HUB_HTTP_PORT"

    if ! running nats-leaf && [[ -z "$PI_NETNS" ]]; then
        check_port_free "$LEAF_PORT" "leaf NATS"
        check_port_free "$LEAF_HTTP_PORT" "leaf NATS monitoring"
    fi
    # shellcheck disable=SC2046
    start_service nats-leaf $(nats_vars leaf) -- "$NATS_SERVER" -c "$CONF_DIR/nats-leaf.conf"
    wait_for "leaf NATS JetStream on 127.0.0.1:$LEAF_PORT" "$(logfile nats-leaf)" jetstream_ready "$LEAF_HTTP_PORT" pi
    wait_for "the leaf NATS to connect to the hub" "$(logfile nats-leaf) and $(logfile nats-hub)" leaf_connected

    # The policy service and its allow-list: the issuers of the project's signing keys. A list that
    # changed (new keys) restarts a running service.
    local keys=() k
    for k in "${OLED_SIGNING_KEYS[@]}"; do [[ -d "$k" ]] && keys+=("$k"); done
    [[ ${#keys[@]} -gt 0 ]] || die "no signing keys yet (${OLED_SIGNING_KEYS[*]}): run scripts/install-tools.sh"
    if [[ ! -x "$POLICY_BIN" || -n "$(find "$OLED_REPO/crates/policy" -newer "$POLICY_BIN" -type f 2>/dev/null | head -n1)" ]]; then
        log "building the policy service (cargo build --release -p oled-policy)"
        (cd "$OLED_REPO" && cargo build -q --release -p oled-policy) || die "could not build the policy service"
    fi
    mkdir -p "$STATE/policy"
    "$POLICY_BIN" issuers "${keys[@]}" >"$STATE/policy/issuers.new" || die "could not make the policy allow-list"
    if ! cmp -s "$STATE/policy/issuers.new" "$STATE/policy/issuers.txt"; then
        mv "$STATE/policy/issuers.new" "$STATE/policy/issuers.txt"
        if running policy; then
            log "the signing keys changed: restarting the policy service"
            stop_service policy
        fi
    fi
    rm -f "$STATE/policy/issuers.new"
    start_service policy RUST_LOG=info -- "$POLICY_BIN" serve --nats "127.0.0.1:$HUB_PORT" \
        --topic "$POLICY_TOPIC" --allow "$STATE/policy/issuers.txt" --creds "$AUTH/policy.creds"

    start_service wadm \
        WADM_NATS_SERVER="127.0.0.1:$HUB_PORT" \
        WADM_JETSTREAM_DOMAIN="$JS_DOMAIN" \
        WADM_NATS_CREDS_FILE="$AUTH/wadm.creds" \
        -- "$WADM_BIN"
    wait_for "wadm to answer" "$(logfile wadm)" wadm_ready

    HOST_SETTINGS=("${LAPTOP_HOST_SETTINGS[@]}")
    start_host host-laptop laptop "$HUB_PORT"
    HOST_SETTINGS=("${PI_HOST_SETTINGS[@]}")
    HOST_EXEC="${PI_HOST_BIN:-$HOST_BIN}" start_host host-pi pi "$LEAF_PORT" kitchen
    if ((FLEET)); then
        touch "$FLEET_MARK"
        mkdir -p "$STATE/nats-leaf-hall"
        if ! running nats-leaf-hall; then
            check_port_free "$HALL_LEAF_PORT" "hall leaf NATS"
            check_port_free "$HALL_LEAF_HTTP_PORT" "hall leaf NATS monitoring"
        fi
        # shellcheck disable=SC2046
        start_service nats-leaf-hall $(nats_vars leaf-hall) -- "$NATS_SERVER" -c "$CONF_DIR/nats-leaf.conf"
        wait_for "hall leaf NATS JetStream on 127.0.0.1:$HALL_LEAF_PORT" "$(logfile nats-leaf-hall)" jetstream_ready "$HALL_LEAF_HTTP_PORT"
        wait_for "the hall leaf NATS to connect to the hub" "$(logfile nats-leaf-hall)" hall_leaf_connected
        start_host host-hall pi "$HALL_LEAF_PORT" hall
    fi
    wait_for "every host (device=laptop; device=pi room=kitchen$( ((FLEET)) && echo "; device=pi room=hall")) in \`wash get hosts\`" \
        "$(logfile host-laptop) and $(logfile host-pi)" hosts_seen
    wait_for "the pi host's connections on the leaf NATS (127.0.0.1:$LEAF_PORT)" \
        "$(logfile host-pi)" pi_host_on_leaf
    if ((FLEET)); then
        wait_for "the hall host's connections on the hall leaf NATS (127.0.0.1:$HALL_LEAF_PORT)" \
            "$(logfile host-hall)" pi_host_on_leaf hall "$HALL_LEAF_HTTP_PORT"
    fi

    log "lattice up in $((SECONDS - up_start))s"
    lwash get hosts
    print_usage
}

print_usage() {
    cat <<EOF

Lattice "$LATTICE" is up (state: $STATE).
  hub NATS (laptop)  nats://127.0.0.1:$HUB_PORT   JetStream domain core, monitoring http://127.0.0.1:$HUB_HTTP_PORT
  leaf NATS (pi)     nats://127.0.0.1:$LEAF_PORT   JetStream domain pi, leaf of tls://$LEAFNODE_HOST:$LEAFNODE_PORT (mutual TLS), monitoring http://127.0.0.1:$LEAF_HTTP_PORT
  NATS identities    operator mode on both servers: one user per role in $AUTH/<role>.creds (mode 600)
  OCI registry       http://$REGISTRY, a login for every request, no deletes (wash push --insecure
                     $REGISTRY/oled-lattice/<name>:<version> <file> logs in as owner from env.sh)
  policy service     on the hub, topic $POLICY_TOPIC: only artefacts signed by the project's keys start
  wadm               on the hub
  hosts              device=laptop on the hub, device=pi room=kitchen on the leaf (file:// loading allowed)
$( ((FLEET)) && echo "  fleet              leaf NATS (hall) nats://127.0.0.1:$HALL_LEAF_PORT, JetStream domain hall; host device=pi room=hall on it")

Use wash with its config kept in the state dir:
  source $STATE/env.sh
  wash get hosts
  wash get inventory
  wash app deploy <manifest.yaml>     # spread with label selectors device=laptop / device=pi
  wash start provider file://<abs path>.par.gz <id> --constraint device=laptop
  wash call <component-id> <wit-function>

Logs:
$(for s in "${SERVICES[@]}"; do printf '  %-12s %s\n' "$s" "$(logfile "$s")"; done)
Stop it with: $0 down
EOF
}

cmd_down() {
    local i name
    if [[ ! -d "$STATE/run" ]]; then
        log "nothing to stop (no $STATE/run)"
        return 0
    fi
    for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
        name="${SERVICES[i]}"
        stop_service "$name"
    done
    rm -f "$FLEET_MARK"
    log "lattice down"
}

cmd_status() {
    local name pf count=0
    echo "state: $STATE   lattice: $LATTICE"
    for name in "${SERVICES[@]}"; do
        pf="$(pidfile "$name")"
        if running "$name" && [[ ! -s "$pf" ]]; then
            count=$((count + 1))
            printf '  %-12s restarting (its supervisor waits out RestartSec=; see %s)\n' "$name" "$(logfile "$name")"
        elif running "$name"; then
            count=$((count + 1))
            printf '  %-12s running  pid %-7s %s\n' "$name" "$(<"$pf")" \
                "$(group_pids "$(<"$pf")" | wc -l | tr -d ' ') process(es) in its group"
        elif [[ -s "$pf" ]]; then
            printf '  %-12s DEAD     (stale pid file; see %s)\n' "$name" "$(logfile "$name")"
        else
            printf '  %-12s stopped\n' "$name"
        fi
    done
    echo "ports: hub $HUB_PORT, leaf $LEAF_PORT, leafnode $LEAFNODE_PORT, monitoring $HUB_HTTP_PORT/$LEAF_HTTP_PORT"
    if running nats-hub && [[ -x "$WASH" ]]; then
        echo
        lwash get hosts 2>&1 || true
        if running host-pi; then
            if pi_host_on_leaf; then
                echo "topology: ok (the pi host's connections are on the leaf NATS)"
            else
                echo "topology: WRONG: the pi host is not connected through the leaf NATS (127.0.0.1:$LEAF_PORT)"
                return 1
            fi
        fi
        if ((FLEET)) && running host-hall; then
            if pi_host_on_leaf hall "$HALL_LEAF_HTTP_PORT"; then
                echo "topology: ok (the hall host's connections are on the hall leaf NATS)"
            else
                echo "topology: WRONG: the hall host is not connected through the hall leaf NATS (127.0.0.1:$HALL_LEAF_PORT)"
                return 1
            fi
        fi
    fi
    if ((count == ${#SERVICES[@]})); then
        return 0
    elif ((count == 0)); then
        return 3
    fi
    return 1
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env)
        [[ -f "$STATE/env.sh" ]] || { mkdir -p "$STATE"; write_env_file; }
        echo "$STATE/env.sh"
        ;;
    clean)
        cmd_down
        rm -rf "$STATE"
        log "removed $STATE"
        ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
esac
