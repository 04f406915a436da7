#!/usr/bin/env bash
# Latency through the lattice: a wRPC client on the hub invokes the display component on the laptop host,
# which draws on the pi host's panel through the leaf NATS. Uses a running local lattice (./scripts/demo.sh)
# or brings one up with the app deployed, and takes down only what it started.
#
#   ./scripts/bench.sh lattice [N]          last line: lattice: p50 X ms, p99 Y ms, R updates/s
#   (p50/p99: one caller; updates/s: OLED_BENCH_CALLERS callers at once, default 4)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
cd "$OLED_REPO"
N="${1:-200}"

cargo build -q --release -p oled-bench --bin lattice
trap app_bench_done EXIT
app_bench_lattice
# It also measures a bare NATS round trip on a subject of its own: the operator's user may, a caller
# may not (scripts/lib/auth.sh).
OLED_NATS_CREDS="${WASH_CTL_CREDS:-${OLED_NATS_CREDS:-}}" \
    "$OLED_REPO/target/release/lattice" "nats://127.0.0.1:${WASMCLOUD_CTL_PORT:-4222}" "${WASMCLOUD_LATTICE:-default}" "$N" \
    "nats://127.0.0.1:${OLED_LEAF_PORT:-4223}" "${OLED_BENCH_CALLERS:-4}"
