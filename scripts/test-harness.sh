#!/usr/bin/env bash
# The harness's self-test: plants the faults our checks exist to catch, one at a time, and asserts
# that each turns its check red (and, where it is cheap, that the same check is green without the
# plant). A check that cannot fail is no check.
#
# Needs the tools stage (wash, nats-server). Takes about a minute once the workspace is built.
# Last line: "harness: N/N planted faults caught"; exit status 1 when any plant was missed.
set -uo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/check.sh
source "$OLED_REPO/scripts/lib/check.sh"
cd "$OLED_REPO" || exit 1

T="$(mktemp -d "${TMPDIR:-/tmp}/oled-harness.XXXXXX")"
listeners=()
PLANTED=0
CAUGHT=0
cleanup() {
    local rc=$? p
    for p in "${listeners[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
    echo
    check_report harness >/dev/null || rc=1
    ((CAUGHT == PLANTED)) || rc=1
    echo "harness: $CAUGHT/$PLANTED planted faults caught"
    exit "$rc"
}
trap cleanup EXIT

# caught NAME CMD...: CMD is the check with its fault planted; it must fail.
caught() {
    local name="$1" out
    shift
    PLANTED=$((PLANTED + 1))
    if out="$("$@" 2>&1)"; then
        fail "MISSED: $name"
        printf '%s\n' "$out" | tail -n 15 | sed 's/^/     /'
    else
        CAUGHT=$((CAUGHT + 1))
        pass "caught: $name"
    fi
}
# control NAME CMD...: the same check without the plant must pass, or a red plant proves nothing.
control() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        pass "  control, green without the plant: $name"
    else
        fail "control: $name (so the plant above proves nothing)"
        printf '%s\n' "$out" | tail -n 10 | sed 's/^/     /'
    fi
}
oled_check() { cargo run -q -p oled-bench --bin oled-check -- "$@"; }

# --- 1. every test script: a failing check reaches its exit status ---------------------------------
# With OLED_HARNESS_PLANT=failing-check a script records one failing check where its traps are set
# and then ends normally (exit 0); it must still exit non-zero and name the check.
planted_script() {
    local out
    out="$(OLED_HARNESS_PLANT=failing-check "$@" 2>&1)" && { echo "$out" | tail -n 5; echo "exit 0"; return 0; }
    grep -q "FAIL planted: a check that fails" <<<"$out" || { echo "$out" | tail -n 5; echo "not named"; return 0; }
    return 1
}
for s in test-e2e.sh test-fleet.sh test-lattice-tools.sh test-pi.sh "test-readme-flow.sh begin"; do
    # shellcheck disable=SC2086 # the script and its argument
    caught "a failing check in scripts/$s turns its exit status red" planted_script bash scripts/$s
done

# --- 1b. the policy trusts the project's signing keys only -----------------------------------------
# Planted: setup-laptop.sh's allow-list as it once was, every account key in ~/.wash/keys; the pi
# stage's setup check plants a stranger's key there.
pi_setup() { OLED_HARNESS_PLANT="$1" bash scripts/test-pi.sh setup; }
caught "the policy allow-list: a stranger's key in ~/.wash/keys is trusted" pi_setup trust-wash-keys
control "the policy allow-list holds the project's keys only" pi_setup ""

# --- 1b'. the Pi's leaf NATS lets in only the lattice's users ----------------------------------------
# Planted: the pi stage's leaf check aims its anonymous client at the leaf as it was before operator
# mode (which the check itself first shows to let anyone in).
pi_leaf() { OLED_HARNESS_PLANT="$1" bash scripts/test-pi.sh leaf; }
caught "the Pi's leaf NATS without operator mode: an anonymous process on the Pi gets in" pi_leaf pi-leaf-open
control "the Pi's leaf NATS refuses an anonymous process and lets the host in" pi_leaf ""

# --- 1b''. the laptop's registry (setup-laptop.sh) wants a login -------------------------------------
# Planted: the pi stage's registry check aims its anonymous push at the same registry without its
# login lines (which the check itself first shows to take it).
pi_registry() { OLED_HARNESS_PLANT="$1" bash scripts/test-pi.sh registry; }
caught "the laptop's registry without its login: anyone on the LAN starts a push" pi_registry pi-registry-open
control "the laptop's registry refuses an anonymous push and takes the owner's" pi_registry ""

# --- 1c. e2e's host without the policy is stopped after its attack ----------------------------------
# A stand-in process under that host's name and pid file; planted: open_host_down stops nothing (the
# leak that once let it run the policy's refused components in the next run).
open_host_stopped() {
    (
        # shellcheck disable=SC2030 # local to the subshell on purpose
        export OLED_LATTICE_STATE="$T/open-host" OLED_LATTICE_NAME=harness OLED_HARNESS_PLANT="$1"
        # shellcheck source=scripts/lib/attacks.sh
        source "$OLED_REPO/scripts/lib/attacks.sh"
        mkdir -p "$ATTACKS_DIR"
        (exec -a oled-wasmcloud-host sleep 300) &
        echo "$!" >"$OPEN_HOST_PIDFILE"
        sleep 0.3
        left="$(open_host_pid)"
        open_host_down
        open_host_gone "$left" || { kill "$left" 2>/dev/null; exit 1; }
    )
}
caught "e2e's host without the policy: left running after its attack" open_host_stopped open-host-leaks
control "e2e's host without the policy is stopped after its attack" open_host_stopped ""

# --- 2. a stage that fails stops what depends on it, and the closing line names what never ran --
tools_fail() {
    local out
    out="$(OLED_HARNESS_PLANT=stage-fails:tools bash scripts/test.sh tools lint 2>&1)" && { echo "exit 0"; return 0; }
    grep -q "stages: 0 passed, 1 failed, 1 skipped" <<<"$out" && grep -q "lint: not run" <<<"$out" &&
        { return 1; }
    echo "$out" | tail -n 5
    return 0
}
caught "the tools stage fails: test.sh exits non-zero and counts the stages that never ran" tools_fail

# --- 3. a failed component build stops app_build (no stale artefact deployed) ---------------------
build_fails() {
    local out
    # shellcheck disable=SC2016 # expanded by the inner shell
    out="$(RUSTC=/bin/false bash -c 'source scripts/lib/common.sh && source scripts/lib/app.sh &&
        APP_BUILD="$1" && app_build' _ "$T/build" 2>&1)" && { echo "app_build returned 0"; return 0; }
    # Red for the planted reason only: cargo could not run rustc, and app_build said so.
    grep -q "/bin/false" <<<"$out" && grep -q "the component's build failed" <<<"$out" && return 1
    echo "$out" | tail -n 5
    return 0
}
caught "a failed component build (rustc fails): app_build returns non-zero" build_fails

# --- 4. an x86_64-only provider archive is refused ---------------------------------------------------
par_make() { # par_make FILE ARCH...: an archive with /bin/true as the binary of each ARCH
    local f="$1" a
    shift
    WASH_KEYS="$T/keys" "$OLED_TOOLS/bin/wash" par create --arch "$1" --binary /bin/true --name planted \
        --vendor harness --version 0.0.1 --destination "$f" --compress >/dev/null || return 2
    for a in "${@:2}"; do
        WASH_KEYS="$T/keys" "$OLED_TOOLS/bin/wash" par insert "$f" --arch "$a" --binary /bin/true >/dev/null || return 2
    done
}
mkdir -p "$T/keys"
if par_make "$T/x86.par.gz" x86_64-linux && par_make "$T/both.par.gz" x86_64-linux aarch64-linux; then
    caught "an x86_64-only provider archive: build-par.sh --check refuses it" bash scripts/build-par.sh --check "$T/x86.par.gz"
    control "build-par.sh --check accepts x86_64 + aarch64" bash scripts/build-par.sh --check "$T/both.par.gz"
else
    fail "could not make the planted archives with wash par create"
fi

# --- 5. the fault judge: a lost update and a late 200 ----------------------------------------------
cat >"$T/clean.json" <<'EOF'
{"sent": [{"id": 1, "sent_ms": 0, "done_ms": 30, "status": 200, "reason": ""},
          {"id": 2, "sent_ms": 100, "done_ms": 4100, "status": 504, "reason": "the panel did not answer in time"},
          {"id": 3, "sent_ms": 5000, "done_ms": 5040, "status": 200, "reason": ""}],
 "presented": [{"id": 1, "at_ms": 20}, {"id": 3, "at_ms": 5030}]}
EOF
sed 's/{"id": 3, "at_ms": 5030}//; s/}, ]/}]/' "$T/clean.json" >"$T/lost.json"
sed 's/"done_ms": 5040/"done_ms": 10500/' "$T/clean.json" >"$T/late.json"
caught "the judge: an acknowledged update that never reached the glass" oled_check judge "$T/lost.json"
caught "the judge: a 200 after 5.5 s" oled_check judge "$T/late.json"
sed 's/"status": 504, "reason": "the panel did not answer in time"/"status": 408, "reason": ""/' "$T/clean.json" >"$T/unclear.json"
caught "the judge: a 408 with an empty body during the fault (not a clear refusal)" oled_check judge "$T/unclear.json"
control "the judge passes the same history without the plant" oled_check judge "$T/clean.json"

# --- 6. a fleet panel showing the wrong text --------------------------------------------------------
listing() { # listing SHOWS GLASS_TEXT: a GET /panels?ascii=1 answer with the hall panel
    cargo run -q -p oled-text --example render -- "$2" | python3 -c '
import json, sys
print(json.dumps({"panels": [{"name": "hall", "size": "128x64", "shows": sys.argv[1], "ascii": sys.stdin.read()}]}))' "$1"
}
listing "Hall way" "Hall way" >"$T/right.json" && listing "Dinner!" "Dinner!" >"$T/wrong.json"
caught "the fleet check: the hall panel shows other text than it was sent" oled_check shows "$T/wrong.json" hall "Hall way"
control "the fleet check passes the panel that shows it" oled_check shows "$T/right.json" hall "Hall way"

# --- 7. an aarch64 test target left out of the cross check -----------------------------------------
# shellcheck source=scripts/pi/dev-lib.sh
source "$OLED_REPO/scripts/pi/dev-lib.sh"
{
    echo "     Running unittests src/lib.rs (target/aarch64-unknown-linux-musl/release/deps/x)"
    echo "     Running unittests src/main.rs (target/aarch64-unknown-linux-musl/release/deps/y)"
    for f in providers/oled-panel/tests/*.rs; do
        echo "     Running tests/$(basename "$f") (target/aarch64-unknown-linux-musl/release/deps/z)"
    done
} >"$T/cross-all.log"
grep -v "tests/nats.rs" "$T/cross-all.log" >"$T/cross-nats-left-out.log"
cross_complete() { [[ -z "$(pi_cross_missing "$1")" ]]; }
caught "the cross check: tests/nats.rs not run under qemu" cross_complete "$T/cross-nats-left-out.log"
control "the cross check accepts a run of every target" cross_complete "$T/cross-all.log"

# --- 8. a demo lattice left running, and a test lattice that shares a port with it ------------------
# The demo's ports held as a demo lattice holds them (already held when one runs), then the e2e
# lattice brought up with the demo's registry port, as it was before scripts/lib/ports.sh.
hold_port() {
    python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
s.listen()
time.sleep(600)' "$1" &
    listeners+=($!)
}
# shellcheck source=scripts/lib/ports.sh
source "$OLED_REPO/scripts/lib/ports.sh"
for p in $(ports_of demo); do hold_port "$p"; done
sleep 0.5
shared_port_up() {
    local out
    out="$(
        ports_export e2e
        # shellcheck disable=SC2030 # this subshell's own
        export OLED_LATTICE_STATE="$T/e2e-state" OLED_REGISTRY="127.0.0.1:${PORTS_demo[7]}"
        bash scripts/lattice.sh up 2>&1
        rc=$?
        bash scripts/lattice.sh down >/dev/null 2>&1
        exit "$rc"
    )" && { echo "$out" | tail -n 3; return 0; }
    grep -q "already in use" <<<"$out" || { echo "failed for another reason:"; echo "$out" | tail -n 3; return 0; }
    return 1
}
caught "a demo lattice left running: a test lattice on its registry port does not come up" shared_port_up
disjoint() {
    local l shared
    for l in e2e fleet faults pihost; do
        shared="$(comm -12 <(ports_of demo | sort) <(ports_of "$l" | sort))"
        [[ -z "$shared" ]] || { echo "$l shares $shared with the demo"; return 1; }
    done
}
control "the demo's ports and every test lattice's are disjoint (scripts/lib/ports.sh)" disjoint

# --- 9. the local lattice's supervisor restarts a killed service as its systemd unit says ---------
SUPERVISE="$OLED_REPO/target/release/oled-supervise"
cargo build -q --release -p oled-supervise || fail "could not build oled-supervise"
# comes_back ARGS...: a process under `oled-supervise ARGS`, killed with -9, is running again (a new
# pid in its pid file) within 8 s.
comes_back() {
    local sup first now i rc=1
    rm -f "$T/svc.pid"
    "$SUPERVISE" "$@" --name harness --pidfile "$T/svc.pid" -- sleep 60 2>>"$T/supervise.log" &
    sup=$!
    for ((i = 0; i < 50; i++)); do [[ -s "$T/svc.pid" ]] && break; sleep 0.1; done
    first="$(cat "$T/svc.pid" 2>/dev/null)"
    [[ -n "$first" ]] && kill -9 "$first"
    for ((i = 0; i < 80; i++)); do
        now="$(cat "$T/svc.pid" 2>/dev/null || true)"
        if [[ -n "$now" && "$now" != "$first" ]] && kill -0 "$now" 2>/dev/null; then rc=0; break; fi
        sleep 0.1
    done
    kill -TERM "$sup" 2>/dev/null
    wait "$sup" 2>/dev/null
    cat "$T/supervise.log"
    return "$rc"
}
caught "a killed pi host whose supervisor has Restart=no stays down" \
    comes_back --unit scripts/pi/systemd/wasmcloud-host.service --restart no
control "the pi host's unit (Restart=on-failure, RestartSec=3s) brings it back" \
    comes_back --unit scripts/pi/systemd/wasmcloud-host.service

# The attacks (scripts/lib/attacks.sh, e2e): a hub that lets anonymous clients in, standing in for
# ours, must fail the attack's line; the same attack on a hub in operator mode is refused.
attack_on() {
    (
        # shellcheck disable=SC2031 # a subshell of its own, on purpose
        export OLED_LATTICE_STATE="$T/attacks" OLED_LATTICE_NAME=harness
        # shellcheck source=scripts/lib/attacks.sh
        source "$OLED_REPO/scripts/lib/attacks.sh"
        # shellcheck source=scripts/lib/auth.sh
        source "$OLED_REPO/scripts/lib/auth.sh"
        local _ conf="$ATTACKS_DIR/ours.conf"
        mkdir -p "$ATTACKS_DIR"
        OPEN_NATS_PORT="$(free_port)" OLED_HUB_PORT="$(free_port)"
        printf 'listen: 127.0.0.1:%s\n' "$OPEN_NATS_PORT" >"$ATTACKS_DIR/open.conf"
        printf 'listen: 127.0.0.1:%s\n' "$OLED_HUB_PORT" >"$conf"
        if [[ "$1" == locked ]]; then
            "$OLED_REPO/target/release/oled-nats-auth" init --dir "$ATTACKS_DIR/auth" --lattice harness \
                --policy-topic wasmcloud.policy.harness >/dev/null || return 1
            printf 'operator: %s\nsystem_account: %s\nresolver: { type: full, dir: "%s" }\n' \
                "$ATTACKS_DIR/auth/operator.jwt" "$(nats_auth_var "$ATTACKS_DIR/auth" OLED_NATS_SYSTEM_ACCOUNT)" \
                "$ATTACKS_DIR/auth/accounts" >>"$conf"
        fi
        "$OLED_TOOLS/bin/nats-server" -c "$ATTACKS_DIR/open.conf" >/dev/null 2>&1 &
        ATTACKS_PIDS+=($!)
        "$OLED_TOOLS/bin/nats-server" -c "$conf" >"$ATTACKS_DIR/ours.log" 2>&1 &
        ATTACKS_PIDS+=($!)
        for _ in $(seq 50); do tcp_open "$OPEN_NATS_PORT" && tcp_open "$OLED_HUB_PORT" && break; sleep 0.1; done
        CHECK_FAILED=0
        attack "an anonymous client on the hub NATS" open_anonymous shut_anonymous_hub
        attacks_open_down
        ((CHECK_FAILED == 0))
    )
}
# Two builds: `--bin` would keep cargo from building oled-nats-auth's binary (seen in a fresh clone).
if cargo build -q --release -p oled-bench --bin nats-probe && cargo build -q --release -p oled-nats-auth; then
    caught "the attacks: a hub that lets anonymous clients in does not refuse the attack" attack_on open
    control "the attacks: a hub in operator mode refuses it" attack_on locked
else
    fail "nats-probe and oled-nats-auth build (for the attack plant)"
fi
