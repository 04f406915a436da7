#!/usr/bin/env bash
# Benchmarks that print figures (they never fail on a timing):
#   ./scripts/bench.sh s16       S16 on the I2C bus: the 2022 demo, luma.oled and ours, counted by the emulator
#   ./scripts/bench.sh lattice   wRPC invocations of the component through hub -> leaf: p50/p99 latency, updates/s
#   ./scripts/bench.sh pi        the aarch64 provider: size and idle RSS under qemu-aarch64
#   ./scripts/bench.sh faults    faults injected into a live lattice under load: answers, losses, recovery
#   ./scripts/bench.sh ticker    tickers: bus bytes a second on the controller's scroll and on the provider's steps
#   ./scripts/bench.sh soak      minutes of steady updates: memory, file descriptors and threads of every process
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
case "${1:-}" in
    s16) bash scripts/bench-s16.sh "${@:2}" ;;
    lattice) bash scripts/bench-lattice.sh "${@:2}" ;;
    pi) bash scripts/bench-pi.sh "${@:2}" ;;
    faults) bash scripts/bench-faults.sh "${@:2}" ;;
    ticker) bash scripts/bench-ticker.sh "${@:2}" ;;
    soak) bash scripts/bench-soak.sh "${@:2}" ;;
    *)
        echo "usage: $0 s16|lattice|pi|faults|ticker|soak" >&2
        exit 2
        ;;
esac
