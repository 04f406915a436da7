#!/usr/bin/env bash
# Cross-build the oled-panel capability provider for the Raspberry Pi: a static
# aarch64-unknown-linux-musl binary that runs on any 64-bit Raspberry Pi OS.
#
# Toolchain: cargo-zigbuild + zig from PyPI, installed once into
# ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/pi/venv. Why zig and not Debian's cross gcc: Debian
# has no aarch64 *musl* cross compiler (gcc-aarch64-linux-gnu targets glibc), while ring (pulled
# in by rustls / async-nats through wasmcloud-provider-sdk) compiles C and assembly and needs one;
# `zig cc` targets aarch64-linux-musl out of the box. Details in scripts/pi/dev-lib.sh.
#
# usage: scripts/build-pi.sh [--tests] [--host] [--help]
#   (no option)  build -p oled-panel-provider --profile release --target aarch64-unknown-linux-musl
#   --tests      also build the provider's unit-test binaries for aarch64 (cargo test --no-run,
#                same profile, so they share the compiled dependencies)
#   --host       also build the wasmCloud host of tools/ (oled-wasmcloud-host) for aarch64, to
#                copy to the Pi instead of an official wasmcloud binary (long: wasmtime)
#
# Output: ${OLED_PI_TARGET_DIR:-${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/pi/target}/
#   aarch64-unknown-linux-musl/release/oled-panel (a cache dir, so the cross-compiled dependencies
#   outlive a fresh clone). Prints its steps on stderr and the binary's path on stdout (last line).
# Measured on the 2-core dev machine (cold caches, sharing the CPU with another build): the SDK
# tree (tokio, async-nats, rustls + ring) cross-builds in ~11 min; a rebuild with warm caches and
# no changes takes seconds.
set -euo pipefail

# shellcheck source=scripts/pi/dev-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pi/dev-lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

want_tests=0
want_host=0
for arg in "$@"; do
    case "$arg" in
        --tests) want_tests=1 ;;
        --host) want_host=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; pi_die "unknown option: $arg" ;;
    esac
done

pi_ensure_cross_toolchain
cd "$PI_REPO"

if pi_provider_is_stub; then
    pi_log "note: providers/oled-panel is still a stub (no wasmcloud-provider-sdk dependency yet)"
fi

start=$SECONDS
pi_log "==> cargo zigbuild -p $PI_PACKAGE --profile $PI_PROFILE --target $PI_TRIPLE ${PI_FEATURES[*]}   (CARGO_TARGET_DIR=$PI_TARGET_DIR)"
CARGO_TARGET_DIR="$PI_TARGET_DIR" cargo zigbuild -p "$PI_PACKAGE" --profile "$PI_PROFILE" --target "$PI_TRIPLE" "${PI_FEATURES[@]}" >&2
bin="$(pi_aarch64_bin)"
pi_check_aarch64_static "$bin"
pi_log "    built in $((SECONDS - start))s: $bin"
pi_log "    $(file -b "$bin" 2>/dev/null || echo 'static aarch64 ELF')"
pi_log "    size: $(stat -c %s "$bin") bytes"

if ((want_tests)); then
    start=$SECONDS
    pi_log "==> cargo-zigbuild test -p $PI_PACKAGE --profile $PI_PROFILE --target $PI_TRIPLE ${PI_FEATURES[*]} --no-run"
    CARGO_TARGET_DIR="$PI_TARGET_DIR" cargo-zigbuild test -p "$PI_PACKAGE" --profile "$PI_PROFILE" \
        --target "$PI_TRIPLE" "${PI_FEATURES[@]}" --no-run >&2
    pi_log "    test binaries built in $((SECONDS - start))s"
fi

if ((want_host)); then
    start=$SECONDS
    pi_log "==> cargo zigbuild --manifest-path tools/Cargo.toml -p oled-wasmcloud-host --release --target $PI_TRIPLE"
    [[ -f tools/Cargo.toml ]] || pi_die "tools/Cargo.toml not found (the host workspace)"
    # The tools workspace has wash's source package as a member (scripts/lib/common.sh).
    ensure_wash_source
    ensure_wrpc_nats_source
    ensure_http_server_source
    # The tools workspace is separate (its own Cargo.lock), and so is its target dir.
    CARGO_TARGET_DIR="$PI_HOST_TARGET_DIR" \
        cargo zigbuild --manifest-path tools/Cargo.toml -p oled-wasmcloud-host --release --locked \
        --target "$PI_TRIPLE" >&2
    host_bin="$(pi_aarch64_host_bin)"
    pi_check_aarch64_static "$host_bin"
    pi_log "    host built in $((SECONDS - start))s: $host_bin ($(stat -c %s "$host_bin") bytes)"
    pi_log "    copy it to the Pi and pass it to setup-pi.sh --host-bin (docs/raspberry-pi.md)"
fi

printf '%s\n' "$bin"
