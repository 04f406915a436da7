#!/usr/bin/env bash
# S16 on the I2C bus, three systems in one run, all counted by our virtual SSD1306:
#   - the 2022 wasmCloud Pi demo's update path (bench/demo-2022: its crate versions, its own Cargo.lock)
#   - luma.oled (pinned in bench/luma/requirements.txt, in a venv made here and cached)
#   - ours (the component's text core and the oled-driver crate)
#
# usage: scripts/bench-s16.sh [SCENARIO]     (default scenarios/s16.txt)
# Last line, exactly: "S16 total: B bytes, T transactions, K display-off" (ours).
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$OLED_REPO"
export PATH="$HOME/.cargo/bin:$PATH"
scenario="${1:-$OLED_REPO/scenarios/s16.txt}"

# luma.oled's venv: made once, remade when the pins change.
venv="$OLED_HOME/luma-venv"
pins="$OLED_REPO/bench/luma/requirements.txt"
if ! cmp -s "$pins" "$venv/requirements.txt" 2>/dev/null; then
    ensure_package python3 python3
    log "making the luma.oled venv in $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (apt-get install python3-venv)"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$pins" >&2 || die "pip install of $pins failed"
    cp "$pins" "$venv/requirements.txt"
fi

# The 2022 demo's harness, in its own workspace and target dir.
cargo build -q --release --locked --manifest-path bench/demo-2022/Cargo.toml \
    --target-dir "$OLED_REPO/target/demo-2022" || die "building bench/demo-2022 failed"
cargo build -q --release -p oled-bench --bin s16

OLED_S16_DEMO="$OLED_REPO/target/demo-2022/release/demo-2022-s16" \
OLED_S16_LUMA="$venv/bin/python $OLED_REPO/bench/luma/s16.py" \
    "$OLED_REPO/target/release/s16" "$scenario"
