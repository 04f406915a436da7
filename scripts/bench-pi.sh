#!/usr/bin/env bash
# The Raspberry Pi part of the benchmarks: size of the aarch64 provider binary, and the provider's
# resident memory while it does its job, measured here under qemu-aarch64 (user-mode emulation)
# and natively on x86_64; and the pi host's own memory with the provider running.
#
# usage: scripts/bench-pi.sh [--settle SECONDS] [--no-host] [--help]
#
# The provider is started the way a wasmCloud host starts it (host data on stdin: a real NATS
# server on loopback, its config, one link), serves 20 updates over wRPC, then idles --settle
# seconds (default 5); VmRSS is read from /proc/PID/status three times 0.5 s apart and the largest
# reported (crates/bench/src/bin/provider_rss.rs). Under qemu-user that RSS is APPROXIMATE: it
# counts the emulator itself and its translated-code cache on top of the provider; the Pi itself
# will show less. To size that overhead, an empty static aarch64 program idling on stdin is
# measured the same way. The figure before connecting (idle on an empty stdin, no NATS yet) is
# printed too, for comparison with earlier releases.
#
# Then (unless --no-host) the local lattice (scripts/lattice.sh, started if it is not up and taken
# down again) with the app deployed: the pi host's and the provider's VmRSS after updates.
#
# Builds the aarch64 binary first (scripts/build-pi.sh: seconds when it is current).
# Last line, exactly: "aarch64 provider: S bytes, RSS R KiB connected and serving"
set -euo pipefail

# shellcheck source=scripts/pi/dev-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pi/dev-lib.sh"

settle=5
host=1
while (($#)); do
    case "$1" in
        --settle) settle="$2"; shift 2 ;;
        --no-host) host=0; shift ;;
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

nats="$(pi_find_nats_server)"
(cd "$PI_REPO" && cargo build -q --release -p oled-bench --bin provider_rss) || pi_die "building the RSS bench failed"
rssbench="$PI_REPO/target/release/provider_rss"

pi_log "under $qemu: connected to NATS, linked, 20 updates, ${settle}s to settle"
line="$("$rssbench" --nats "$nats" --settle "$settle" -- "$qemu" "$bin")" || pi_die "could not measure the aarch64 provider"
rss="$(sed -n 's/.*RSS \([0-9]*\) KiB.*/\1/p' <<<"$line")"
echo "aarch64 under qemu-aarch64, $line (approximate: qemu-user counts the emulator and its translated code too; expect less on the Pi)"

pi_log "before connecting (idle on an empty stdin, as earlier releases measured), for comparison"
if before="$(idle_rss aarch64 "$qemu" "$bin")"; then
    echo "aarch64 under qemu-aarch64, idle before any host data: $before KiB"
fi
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

# Natively: the build the Pi gets (features ${PI_FEATURES[*]:-default}) and the one with traces that the
# laptop and the local lattice run. Cargo keeps both feature sets' artefacts, so switching costs a link.
x86="$(pi_x86_64_bin)"
x86_pi="$PI_CACHE/oled-panel-x86_64-as-pi"
if (cd "$PI_REPO" && cargo build -q --profile "$PI_PROFILE" -p oled-panel-provider "${PI_FEATURES[@]}"); then
    cp "$x86" "$x86_pi"
fi
(cd "$PI_REPO" && cargo build -q --profile "$PI_PROFILE" -p oled-panel-provider) || true
if [[ -x "$x86_pi" ]] && line="$("$rssbench" --nats "$nats" --settle "$settle" -- "$x86_pi")"; then
    echo "native x86_64 as the Pi's build (${PI_FEATURES[*]:-with traces}; $(stat -c %s "$x86_pi") bytes binary), $line"
    native_pi="$(sed -n 's/.*RSS \([0-9]*\) KiB.*/\1/p' <<<"$line")"
fi
if [[ -x "$x86" ]]; then
    if line="$("$rssbench" --nats "$nats" --settle "$settle" -- "$x86")"; then
        echo "native x86_64 with traces, as the laptop runs it ($(stat -c %s "$x86") bytes binary), $line"
    fi
    if x86_before="$(idle_rss x86_64 "$x86")"; then
        echo "native x86_64 with traces, idle before any host data: $x86_before KiB"
    fi
fi

if [[ "$host" == 1 ]]; then
    pi_log "the pi host with the provider running: the local lattice, app deployed"
    # shellcheck source=scripts/lib/app.sh
    source "$PI_REPO/scripts/lib/app.sh"
    if app_bench_lattice; then
        for _ in 1 2 3 4 5 6 7 8 9 10; do wash_call oled-display oled-lattice:display/invoke.demo >/dev/null 2>&1 || true; done
        sleep "$settle"
        state="${OLED_LATTICE_STATE:-$PI_REPO/.state/lattice}"
        host_pid="$(cat "$state/run/host-pi.pid" 2>/dev/null || true)"
        prov_pid="$(pgrep -f "host-pi/.*oled_panel" | head -n1 || true)"
        if [[ -n "$host_pid" && -n "$prov_pid" ]]; then
            echo "pi host (native x86_64 wasmCloud host 1.9) with the provider running: host RSS $(pi_rss_kib "$host_pid") KiB, provider RSS $(pi_rss_kib "$prov_pid") KiB"
        else
            echo "pi host RSS: not measured (no pi host or provider process found)"
        fi
    else
        echo "pi host RSS: not measured (the app did not become ready)"
    fi
    app_bench_done
fi
echo "aarch64 provider: $size bytes, RSS $rss KiB connected and serving (under qemu); the same build natively: ${native_pi:-?} KiB"
