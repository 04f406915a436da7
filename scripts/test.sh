#!/usr/bin/env bash
# The project's test command: installs what it needs (idempotent, cached), then runs every check.
#
#   ./scripts/test.sh            all stages
#   ./scripts/test.sh unit e2e   only those stages
#
# Stages: tools harness lint unit component pi provider lattice demo e2e. Each prints its time and its
# own checks (scripts/lib/check.sh). The closing report lists every stage with its time, then
# "stages: N passed, M failed, K skipped" (a stage that never ran, because the tools could not be
# built, counts as skipped and is named), followed by every check inside a stage that could not run.
# `demo` is the README's first command, run (or found running) before the tests, as a user would:
# the e2e stage ends by checking that the demo lattice still runs and shows what it showed.
# Caches live in ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}; first run about 45 min on 2 cores
# (building wash, the host and wadm from crates.io), later runs a few minutes.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export OLED_LATTICE_HOME=${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}
export PATH="$HOME/.cargo/bin:$PATH"

ALL=(tools harness lint unit component pi provider lattice demo e2e)
if [ $# -gt 0 ]; then STAGES=("$@"); else STAGES=("${ALL[@]}"); fi

# shellcheck source=scripts/lib/check.sh
source "$ROOT/scripts/lib/check.sh"

# The stages' own scripts write here every check they skipped, for the closing line.
OLED_CHECK_SKIPS=$(mktemp)
export OLED_CHECK_SKIPS
trap 'rm -f "$OLED_CHECK_SKIPS"' EXIT

stage_tools() { bash scripts/install-tools.sh; }

# Planted faults, each of which must turn its check red (scripts/test-harness.sh).
stage_harness() { bash scripts/test-harness.sh; }

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

# The archive the README promises: x86_64 and aarch64 (the pi stage, before it, built the aarch64
# binary; --require-aarch64 fails without it rather than leave it out).
stage_provider() { bash scripts/build-par.sh --require-aarch64; }

stage_pi() { bash scripts/test-pi.sh; }

# The README's first command. Its lattice stays up through the e2e stage, which checks it last.
DEMO_RAN=0
stage_demo() {
    DEMO_RAN=1
    bash scripts/test-readme-flow.sh begin
}

stage_lattice() { bash scripts/test-lattice-tools.sh; }

# The e2e checks, the fleet (3 hosts, 2 leaf NATS, 3 panels by name, one Pi cut off and back), then
# the fault bench with shorter cuts: a scenario that is not survived fails it. Each runs even when
# one before it failed, so one run reports all three.
stage_e2e() {
    local rc=0
    bash scripts/test-e2e.sh || rc=1
    bash scripts/test-fleet.sh || rc=1
    OLED_FAULTS_SHORT=1 bash scripts/bench-faults.sh || rc=1
    if ((DEMO_RAN)); then bash scripts/test-readme-flow.sh end || rc=1; fi
    return "$rc"
}

for s in "${STAGES[@]}"; do
    if ! declare -F "stage_$s" >/dev/null; then
        echo "unknown stage '$s'; stages: ${ALL[*]}" >&2
        exit 2
    fi
done

# run_stage NAME: stage_NAME, or (the harness stage's plant) a failure without running it.
run_stage() {
    if [[ "${OLED_HARNESS_PLANT:-}" == "stage-fails:$1" ]]; then
        echo "(planted by the harness stage: stage $1 fails)"
        return 1
    fi
    "stage_$1"
}

TIMES=()
run_start=$(date +%s)
tools_failed=0
for s in "${STAGES[@]}"; do
    if ((tools_failed)); then
        # Later stages build on the tools; without them they can only fail for the same reason.
        skip "stage $s" "not run: the tools stage failed"
        TIMES+=("$s: not run")
        continue
    fi
    echo
    echo "=== stage $s ==="
    start=$(date +%s)
    if run_stage "$s"; then
        took=$(($(date +%s) - start))
        echo "=== stage $s: ok ($took s)"
        pass "stage $s"
    else
        took=$(($(date +%s) - start))
        echo "=== stage $s: FAILED ($took s)"
        fail "stage $s"
        if [ "$s" = tools ]; then tools_failed=1; fi
    fi
    TIMES+=("$s: $took s")
done

echo
echo "stage times: $(printf '%s, ' "${TIMES[@]}" | sed 's/, $//'); all: $(($(date +%s) - run_start)) s"
if [[ -s "$OLED_CHECK_SKIPS" ]]; then
    CHECK_REPORT_NOTE="; inside them $(wc -l <"$OLED_CHECK_SKIPS") skipped: $(paste -sd, "$OLED_CHECK_SKIPS" | sed 's/,/, /g')"
fi
check_report stages
