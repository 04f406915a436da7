#!/usr/bin/env bash
# Builds and signs the display component with wash, then shows its claims.
# Keys are kept outside the repo: $WASH_KEYS, default ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/keys.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export OLED_LATTICE_HOME=${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}
export WASH_KEYS=${WASH_KEYS:-$OLED_LATTICE_HOME/keys}
export PATH="$HOME/.cargo/bin:$PATH"
mkdir -p "$WASH_KEYS"
if ! command -v wash >/dev/null; then
    echo "wash is missing: run ./scripts/install-tools.sh (cargo install wash --version 0.43.0 --locked)" >&2
    exit 1
fi
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
    echo "+ rustup target add wasm32-wasip2"
    rustup target add wasm32-wasip2
fi
cd "$ROOT/actors/display"
echo "+ wash build (actors/display, keys in $WASH_KEYS)"
# --skip-fetch: our WIT is all in the repo; nothing is fetched from a registry.
wash build --skip-fetch
out="$ROOT/actors/display/build/oled_display_s.wasm"
echo "signed component: $out ($(stat -c %s "$out") bytes)"
wash claims inspect "$out"
