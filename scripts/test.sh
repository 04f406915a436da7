#!/usr/bin/env bash
# The project's test command: installs what it needs (idempotent, cached), then runs every check.
#
#   ./scripts/test.sh            all stages
#   ./scripts/test.sh unit e2e   only those stages
#
# Stages: tools lint unit component provider pi lattice e2e. Each prints its time and its own checks
# (scripts/lib/check.sh); the last line reads "stages: N passed, M failed, K skipped", followed by
# every check inside a stage that could not run ("; inside them 1 skipped: pi: pihost (0s)"). Caches live in ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}; first run about 45 min
# on 2 cores (building wash, the host and wadm from crates.io), later runs a few minutes.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export OLED_LATTICE_HOME=${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}
export PATH="$HOME/.cargo/bin:$PATH"

ALL=(tools lint unit component provider pi lattice e2e)
if [ $# -gt 0 ]; then STAGES=("$@"); else STAGES=("${ALL[@]}"); fi

# shellcheck source=scripts/lib/check.sh
source "$ROOT/scripts/lib/check.sh"

# The stages' own scripts write here every check they skipped, for the closing line.
OLED_CHECK_SKIPS=$(mktemp)
export OLED_CHECK_SKIPS
trap 'rm -f "$OLED_CHECK_SKIPS"' EXIT

stage_tools() { bash scripts/install-tools.sh; }

stage_lint() {
    if ! command -v shellcheck >/dev/null && [[ $EUID -eq 0 ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null ||
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }
    fi
    echo "shellcheck on every script"
    shellcheck -x scripts/*.sh scripts/lib/*.sh scripts/pi/*.sh .ci/run &&
        cargo fmt --all -- --check &&
        cargo clippy --workspace --all-targets --quiet -- -D warnings &&
        cargo clippy -p oled-panel-provider --all-targets --no-default-features --quiet -- -D warnings &&
        cargo clippy -p oled-display --target wasm32-wasip2 --quiet -- -D warnings
}

stage_unit() { cargo test --workspace; }

stage_component() {
    bash scripts/build-component.sh &&
        OLED_DISPLAY_WASM="$ROOT/actors/display/build/oled_display_s.wasm" \
            cargo test -p oled-display --test component_shape -- --ignored --nocapture
}

stage_provider() { bash scripts/build-par.sh; }

stage_pi() { bash scripts/test-pi.sh; }

stage_lattice() { bash scripts/test-lattice-tools.sh; }

# The e2e checks, the fleet (3 hosts, 2 leaf NATS, 3 panels by name, one Pi cut off and back), then
# the fault bench with shorter cuts: a scenario that is not survived fails it. Each runs even when
# one before it failed, so one run reports all three.
stage_e2e() {
    local rc=0
    bash scripts/test-e2e.sh || rc=1
    bash scripts/test-fleet.sh || rc=1
    OLED_FAULTS_SHORT=1 bash scripts/bench-faults.sh || rc=1
    return "$rc"
}

for s in "${STAGES[@]}"; do
    if ! declare -F "stage_$s" >/dev/null; then
        echo "unknown stage '$s'; stages: ${ALL[*]}" >&2
        exit 2
    fi
    echo
    echo "=== stage $s ==="
    start=$(date +%s)
    if "stage_$s"; then
        echo "=== stage $s: ok ($(($(date +%s) - start)) s)"
        pass "stage $s"
    else
        echo "=== stage $s: FAILED ($(($(date +%s) - start)) s)"
        fail "stage $s"
        # Later stages build on the tools; without them they can only fail for the same reason.
        if [ "$s" = tools ]; then break; fi
    fi
done

echo
if [[ -s "$OLED_CHECK_SKIPS" ]]; then
    CHECK_REPORT_NOTE="; inside them $(wc -l <"$OLED_CHECK_SKIPS") skipped: $(paste -sd, "$OLED_CHECK_SKIPS" | sed 's/,/, /g')"
fi
check_report stages
