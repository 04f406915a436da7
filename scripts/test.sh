#!/usr/bin/env bash
# The project's test command: installs what it needs (idempotent, cached), then runs every check.
#
#   ./scripts/test.sh            all stages
#   ./scripts/test.sh unit e2e   only those stages
#
# Stages: tools harness lint unit component lattice demo e2e pi provider pihost. Each prints its time and its
# own checks (scripts/lib/check.sh). The closing report lists every stage with its time, then
# "stages: N passed, M failed, K skipped" (a stage that never ran, because the tools could not be
# built, counts as skipped and is named), followed by every check inside a stage that could not run.
# `demo` is the README's first command, run (or found running) before the tests, as a user would:
# the e2e stage ends by checking that the demo lattice still runs and shows what it showed.
# Caches live in ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}; a first run on 2 cores builds wash, the
# host and wadm from crates.io, and the Pi's host for aarch64 (docs/tests.md has the measured time);
# later runs about 24 minutes (1,424 s measured, docs/tests.md).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
export OLED_LATTICE_HOME=${OLED_LATTICE_HOME:-$HOME/.cache/oled-lattice}
export PATH="$HOME/.cargo/bin:$PATH"

# The stages that need the aarch64 builds (pi, provider, pihost) come last: those builds run in the
# background from the first second and fill the cores that the stages before them leave idle.
ALL=(tools harness lint unit component lattice demo e2e pi provider pihost)
if [ $# -gt 0 ]; then STAGES=("$@"); else STAGES=("${ALL[@]}"); fi

# shellcheck source=scripts/lib/check.sh
source "$ROOT/scripts/lib/check.sh"

# The stages' own scripts write here every check they skipped, for the closing line.
OLED_CHECK_SKIPS=$(mktemp)
export OLED_CHECK_SKIPS
trap 'pihost_build_stop; rm -f "$OLED_CHECK_SKIPS"' EXIT

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

# The provider for aarch64, its tests under qemu, the Pi's scripts and units, the leaf link, the
# multi-arch archive. What needs the Pi's own host is the pihost stage, last.
stage_pi() { bash scripts/test-pi.sh lint units setup leaf registry cross qemu par; }

# The Pi's own wasmCloud host (aarch64) under qemu: it joins through the leaf and serves the panel,
# and install.sh sets it up over ssh on a stand-in Pi. The aarch64 builds are the longest part of a
# first run (wasmtime for aarch64 above all), so when the pi or pihost stage is selected they start
# in the background with the run (`build-pi.sh --tests --host`: the provider and its tests, which
# the pi stage needs, then the host) and take only the CPU that the stages leave idle: the
# background build runs in a session of its own, which Linux's autogroup scheduling (on by default)
# makes a scheduling group of its own, where a process's `nice` counts only against its own group;
# so the group itself gets nice 19 (/proc/PID/autogroup, man 7 sched), and the foreground keeps
# about 98 % of a core it wants (measured in docs/tests.md, "The first run"). The pi stage waits
# for the provider's part on cargo's lock, this stage for the rest; test-pi.sh then finds
# everything built (or builds it in the foreground and says why not).
PIHOST_LOG="$OLED_LATTICE_HOME/logs/pi-host-build.log"
PIHOST_BG=""
pihost_build_start() {
    local what
    mkdir -p "$(dirname "$PIHOST_LOG")"
    # The cross toolchain (rustup target, zig from PyPI) first, in the foreground, so that rustup
    # and pip never run twice at once.
    # shellcheck disable=SC1091 # dev-lib.sh is checked on its own
    if ! (source scripts/pi/dev-lib.sh && pi_ensure_cross_toolchain) >"$PIHOST_LOG" 2>&1; then
        echo "note: the Pi's cross toolchain could not be set up; the pihost stage will say why"
        return 0
    fi
    what=(--tests)
    [[ " ${STAGES[*]} " == *" pihost "* ]] && what+=(--host)
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    setsid bash -c 'echo 19 >"/proc/$$/autogroup" 2>/dev/null; exec nice -n 19 bash scripts/build-pi.sh "$@"' \
        build-pi "${what[@]}" >>"$PIHOST_LOG" 2>&1 </dev/null &
    PIHOST_BG=$!
    echo "building for aarch64 in the background (pid $PIHOST_BG, log: $PIHOST_LOG)"
}
pihost_build_stop() {
    [[ -n "$PIHOST_BG" ]] && kill -0 "$PIHOST_BG" 2>/dev/null && kill -- "-$PIHOST_BG" 2>/dev/null
    return 0
}
stage_pihost() {
    if [[ -n "$PIHOST_BG" ]]; then
        echo "waiting for the Pi's host, built in the background since the run began (log: $PIHOST_LOG)"
        wait "$PIHOST_BG" || echo "its background build failed: $(tail -n 3 "$PIHOST_LOG")"
        PIHOST_BG=""
        grep -h "built in" "$PIHOST_LOG" | sed 's/^ */  /'
    fi
    bash scripts/test-pi.sh pihost install
}

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
if [[ " ${STAGES[*]} " == *" pihost "* || " ${STAGES[*]} " == *" pi "* ]]; then pihost_build_start; fi
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
