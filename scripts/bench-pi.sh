#!/usr/bin/env bash
# The Raspberry Pi part of the benchmarks: size of the aarch64 provider binary, and its idle
# resident memory, measured here under qemu-aarch64 (user-mode emulation).
#
# usage: scripts/bench-pi.sh [--settle SECONDS] [--help]
#
# The provider is started the way a wasmCloud host starts it, but left idle before any host data
# arrives: stdin is a pipe that stays open and empty, so the provider sits in its first read of
# the host data (runtime, logging and the SDK initialised, no NATS connection yet). After
# --settle seconds (default 5) VmRSS is read from /proc/PID/status, three times 0.5 s apart; the
# largest is reported. Under qemu-user that RSS is APPROXIMATE: it counts the emulator itself
# and its translated-code cache on top of the provider; the Pi itself will show less. To size
# that overhead, the same is measured for an empty static aarch64 program (built once into the
# cache); the x86_64 binary's idle RSS is printed for comparison when it is built.
#
# Builds the aarch64 binary first (scripts/build-pi.sh: seconds when it is current).
# Last line, exactly: "aarch64 provider: S bytes, idle RSS R KiB"
set -euo pipefail

# shellcheck source=scripts/pi/dev-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pi/dev-lib.sh"

settle=5
while (($#)); do
    case "$1" in
        --settle) settle="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) pi_die "unknown option: $1" ;;
    esac
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/oled-bench-pi.XXXXXX")"
PIDS=()
cleanup() {
    local p
    exec 3>&- 2>/dev/null || true
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# idle_rss LABEL CMD...: start CMD with an open, empty stdin; print its idle VmRSS in KiB.
idle_rss() {
    local label="$1" fifo pid rss=0 r i
    shift
    fifo="$TMP/stdin-$label"
    mkfifo "$fifo"
    "$@" <"$fifo" >"$TMP/$label.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    # Open the writing end (and keep it open, writing nothing): the provider's read blocks.
    exec 3>"$fifo"
    sleep "$settle"
    if ! kill -0 "$pid" 2>/dev/null; then
        pi_log "$label exited before it was idle; its output:"
        sed 's/^/    /' "$TMP/$label.out" >&2
        exec 3>&-
        return 1
    fi
    for i in 1 2 3; do
        r="$(pi_rss_kib "$pid")"
        ((r > rss)) && rss=$r
        [[ $i == 3 ]] || sleep 0.5
    done
    exec 3>&-
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf '%s\n' "$rss"
}

if pi_provider_is_stub; then
    pi_die "providers/oled-panel is still a stub (it exits at once): nothing idle to measure yet"
fi

qemu="$(pi_find_qemu)"
bin="$("$PI_REPO/scripts/build-pi.sh")"
size="$(stat -c %s "$bin")"
pi_log "aarch64 binary: $bin"
echo "aarch64 binary: $size bytes ($(awk -v s="$size" 'BEGIN {printf "%.2f MiB", s / 1048576}')), static, stripped"

pi_log "starting it under $qemu, idle on an empty stdin, ${settle}s to settle"
rss="$(idle_rss aarch64 "$qemu" "$bin")" || pi_die "could not measure the idle RSS"
echo "idle RSS under qemu-aarch64: $rss KiB (approximate: qemu-user counts the emulator and its translated code too; expect less on the Pi)"

# What qemu-user itself costs: the smallest static aarch64 program idling the same way (built
# once into the cache, seconds).
baseline_dir="$PI_CACHE/qemu-baseline"
baseline_bin="$baseline_dir/target/$PI_TRIPLE/release/idle-stdin"
if [[ ! -x "$baseline_bin" ]]; then
    pi_log "building the qemu baseline program (an empty Rust main that reads stdin) in $baseline_dir"
    pi_ensure_cross_toolchain
    mkdir -p "$baseline_dir/src"
    printf '[package]\nname = "idle-stdin"\nversion = "0.0.0"\nedition = "2021"\n\n[workspace]\n\n[profile.release]\nstrip = true\n' \
        >"$baseline_dir/Cargo.toml"
    printf 'fn main() {\n    let mut line = String::new();\n    let _ = std::io::stdin().read_line(&mut line);\n}\n' \
        >"$baseline_dir/src/main.rs"
    (cd "$baseline_dir" && cargo zigbuild --release --target "$PI_TRIPLE" --quiet >&2)
fi
if base="$(idle_rss baseline "$qemu" "$baseline_bin")"; then
    echo "qemu-aarch64 baseline (an empty static program idling on stdin): $base KiB; the provider's own share is about $((rss - base)) KiB"
fi

x86="$(pi_x86_64_bin)"
if [[ -x "$x86" ]]; then
    if x86_rss="$(idle_rss x86_64 "$x86")"; then
        echo "for comparison, native x86_64 idle RSS: $x86_rss KiB ($(stat -c %s "$x86") bytes binary)"
    fi
fi
echo "aarch64 provider: $size bytes, idle RSS $rss KiB"
