#!/usr/bin/env bash
# A soak: the local lattice under steady updates for minutes, and what every process holds over time.
# A panel on a shelf runs for months; a leak of a few KiB an update, a file descriptor or a thread a
# minute shows here long before it shows there. Uses a running local lattice or brings one up, like
# the lattice bench, and takes down only what it started. Never fails on a figure: exit 1 only when
# an update was lost or never answered.
#
#   ./scripts/bench.sh soak [MINUTES]    (default 10; a sample every 30 s, or 20 samples if shorter)
#   last line: soak: M min, U updates, provider RSS A -> B KiB, fds F0 -> F1, threads T0 -> T1, lost L
#
# Load: 2 HTTP callers and 1 wRPC caller (invoke.demo/clear), each starting an update every 100 ms
# (30 a second offered), and a viewer polling GET /panel.png every 0.5 s with its ETag, as the live
# view does. Samples: VmRSS, open file descriptors and threads of the panel's provider, the HTTP
# server provider, both hosts, both NATS servers and wadm (from /proc). The first sample is taken
# after one minute of load, so start-up allocations are not counted as growth.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
cd "$OLED_REPO"
MINUTES="${1:-10}"
[[ "$MINUTES" =~ ^[0-9]+$ && "$MINUTES" -ge 2 ]] || die "MINUTES must be a whole number >= 2"
SAMPLE_S=30
if ((MINUTES * 60 / SAMPLE_S < 20)); then SAMPLE_S=$((MINUTES * 60 / 20)); fi
WARMUP_S=60

STATE="${OLED_LATTICE_STATE:-$OLED_REPO/.state/lattice}"
WORK="$(mktemp -d)"
driver="" viewer=""
finish() {
    touch "$WORK/stop"
    # The viewer may have ended already (it stops at the stop file): not an error.
    if [[ -n "$viewer" ]]; then kill "$viewer" 2>/dev/null || true; fi
    if [[ -n "$driver" ]]; then wait "$driver" 2>/dev/null || true; fi
    app_bench_done
    rm -rf "$WORK"
}
trap finish EXIT

cargo build -q --release -p oled-bench --bin faults
app_bench_lattice
app_wait_http 90 >/dev/null

# pid_of NAME: the process sampled under NAME, or nothing.
pid_of() {
    case "$1" in
        provider) pgrep -f "$STATE/host-pi/tmp/.*oled_panel" | head -n1 ;;
        http-server) pgrep -f "$STATE/host-laptop/tmp/.*http" | head -n1 ;;
        *) cat "$STATE/run/$1.pid" 2>/dev/null ;;
    esac
}
# proc_figures PID: "RSS_KiB FDS THREADS", or "- - -" for a process that is gone.
proc_figures() {
    local pid="$1" rss threads fds
    if [[ -z "$pid" || ! -r "/proc/$pid/status" ]]; then
        echo "- - -"
        return
    fi
    rss="$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
    threads="$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")"
    fds="$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
    echo "${rss:--} $fds ${threads:--}"
}
provider_updates() {
    wash_call oled-panel oled-lattice:panel/inspect.stats 2>/dev/null |
        python3 -c 'import json,sys; print(json.loads([l for l in sys.stdin if l.strip()][-1])["updates"])' 2>/dev/null || echo "-"
}

PROCS=(provider http-server host-pi host-laptop nats-hub nats-leaf wadm)

# The load: the fault bench's callers with no fault, until the stop file appears.
"$OLED_REPO/target/release/faults" --name "soak-${MINUTES}min" --http-addr "127.0.0.1:8080" \
    --nats "nats://127.0.0.1:${OLED_HUB_PORT:-4222}" --lattice "${OLED_LATTICE_NAME:-default}" \
    --http 2 --wrpc 1 --interval-ms 100 --stop-file "$WORK/stop" --check-stats \
    >"$WORK/driver.out" 2>"$WORK/driver.err" &
driver=$!
# The viewer: GET /panel.png with the last ETag, counting 200s and 304s.
(
    etag="" ok=0 same=0 other=0
    while [[ ! -e "$WORK/stop" ]]; do
        code="$(curl -s -m 5 -o /dev/null -D "$WORK/headers" -w '%{http_code}' \
            ${etag:+-H "If-None-Match: $etag"} http://127.0.0.1:8080/panel.png || echo 000)"
        case "$code" in
            200) ok=$((ok + 1)) etag="$(awk 'tolower($1) == "etag:" { print $2 }' "$WORK/headers" | tr -d '\r')" ;;
            304) same=$((same + 1)) ;;
            *) other=$((other + 1)) ;;
        esac
        echo "$ok $same $other" >"$WORK/viewer"
        sleep 0.5
    done
) &
viewer=$!

echo "Soak: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg) at start; $MINUTES min, a sample every $SAMPLE_S s after ${WARMUP_S} s of load"
echo "Each cell: RSS KiB / open fds / threads"
echo
printf '| min | updates |'
for p in "${PROCS[@]}"; do printf ' %s |' "$p"; done
echo
printf '|---:|---:|'
for _ in "${PROCS[@]}"; do printf -- '---:|'; done
echo

start=$(date +%s)
sleep "$WARMUP_S"
first=() last=()
while :; do
    now=$(date +%s)
    row="$(awk -v s=$((now - start)) 'BEGIN { printf "%.1f", s / 60 }')"
    line="| $row | $(provider_updates) |"
    i=0
    for p in "${PROCS[@]}"; do
        read -r rss fds threads < <(proc_figures "$(pid_of "$p")")
        line+=" $rss / $fds / $threads |"
        [[ ${#first[@]} -gt $i ]] || first+=("$rss $fds $threads")
        last[i]="$rss $fds $threads"
        i=$((i + 1))
    done
    echo "$line"
    if ((now - start >= MINUTES * 60)); then break; fi
    sleep "$((SAMPLE_S - ($(date +%s) - now) > 0 ? SAMPLE_S - ($(date +%s) - now) : 0))"
done

touch "$WORK/stop"
wait "$driver" || true
driver=""
echo
grep -v '^RESULT' "$WORK/driver.out" | sed 's/^/  /' || true
if [[ -s "$WORK/driver.err" ]]; then sed 's/^/  /' "$WORK/driver.err" | tail -n 3; fi
read -r v_ok v_same v_other <"$WORK/viewer" || true
echo "  viewer: GET /panel.png ${v_ok:-0} x 200, ${v_same:-0} x 304 (unchanged), ${v_other:-0} other"
echo
echo "From the first sample (after ${WARMUP_S} s) to the last; the rate is the straight line through the two, not a forecast:"
i=0
for p in "${PROCS[@]}"; do
    read -r r0 f0 t0 <<<"${first[i]}"
    read -r r1 f1 t1 <<<"${last[i]}"
    if [[ "$r0" =~ ^[0-9]+$ && "$r1" =~ ^[0-9]+$ ]]; then
        awk -v p="$p" -v r0="$r0" -v r1="$r1" -v f0="$f0" -v f1="$f1" -v t0="$t0" -v t1="$t1" -v m="$MINUTES" -v w="$WARMUP_S" '
            BEGIN { h = (m * 60 - w) / 3600; printf "  %-12s RSS %d -> %d KiB (%+d KiB, %+.0f KiB/h), fds %d -> %d, threads %d -> %d\n", p, r0, r1, r1 - r0, (h > 0 ? (r1 - r0) / h : 0), f0, f1, t0, t1 }'
    else
        echo "  $p: not running at the first or the last sample (${first[i]} -> ${last[i]})"
    fi
    i=$((i + 1))
done
result="$(grep '^RESULT' "$WORK/driver.out" || echo "RESULT soak survived=0 lost=-1 recovery_s=-1")"
lost="$(sed -n 's/.* lost=\([-0-9]*\).*/\1/p' <<<"$result")"
survived="$(sed -n 's/.* survived=\([01]\).*/\1/p' <<<"$result")"
updates="$(provider_updates)"
read -r r0 f0 t0 <<<"${first[0]}"
read -r r1 f1 t1 <<<"${last[0]}"
echo
echo "soak: $MINUTES min, $updates updates, provider RSS $r0 -> $r1 KiB, fds $f0 -> $f1, threads $t0 -> $t1, lost $lost"
[[ "$survived" == 1 ]]
