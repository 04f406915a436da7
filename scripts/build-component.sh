#!/usr/bin/env bash
# Builds and signs the display component with wash, then shows its claims.
# Keys are kept outside the repo: $WASH_KEYS, default ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/wash/keys.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
ROOT="$OLED_REPO"
# The wash that install-tools.sh builds comes first: it is the pinned version.
export PATH="$OLED_TOOLS/bin:$HOME/.cargo/bin:$PATH"
# wash keeps its config, caches and signing keys in the cache folder, never in the user's home.
keys_override="${WASH_KEYS:-}"
wash_isolate "$OLED_HOME/wash"
[ -z "$keys_override" ] || export WASH_KEYS="$keys_override"
if ! command -v wash >/dev/null; then
    echo "wash is missing: run ./scripts/install-tools.sh (it builds wash $OLED_WASH_VERSION into $OLED_TOOLS/bin)" >&2
    exit 1
fi
if ! grep -qx wasm32-wasip2 <<<"$(rustup target list --installed 2>/dev/null)"; then
    echo "+ rustup target add wasm32-wasip2"
    rustup target add wasm32-wasip2
fi
cd "$ROOT/actors/display"
echo "+ wash build (actors/display, keys in $WASH_KEYS)"
# --skip-fetch: our WIT is all in the repo; nothing is fetched from a registry.
wash_quiet wash build --skip-fetch
out="$ROOT/actors/display/build/oled_display_s.wasm"
# The unsigned build beside it (e2e signs it with a stranger's key, and pushes it unsigned, to show
# the policy refusing both): wash copies it there only for its own cargo command, not for ours
# (wasmcloud.toml's build_command, the `component` profile).
cp "$ROOT/target/wasm32-wasip2/component/oled_display.wasm" "$ROOT/actors/display/build/oled_display.wasm"
echo "signed component: $out ($(stat -c %s "$out") bytes)"
wash claims inspect "$out"
# The claims must name the component and carry its WIT; a signing failure would not.
wash claims inspect "$out" --output json | python3 -c '
import json, sys
c = json.load(sys.stdin)
flat = json.dumps(c).lower()
assert "oled-display" in flat, "claims do not name oled-display: %s" % c
print("claims ok: component", c.get("component") or c.get("module") or "?")
'
