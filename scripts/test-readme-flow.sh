#!/usr/bin/env bash
# The README's two commands in the README's order: `./scripts/demo.sh "TEXT"` leaves its lattice
# running, then `./scripts/test.sh` brings up its own test lattices beside it. scripts/test.sh calls
#
#   scripts/test-readme-flow.sh begin   before the e2e stage: the demo lattice a user left running,
#                                       or ./scripts/demo.sh run now (what it shows is recorded)
#   scripts/test-readme-flow.sh end     after it: the demo lattice still runs and still shows the
#                                       same picture; taken down only when `begin` started it
#
# Last line: "readme-flow: N passed, N failed, N skipped"; exit status 1 when a check failed.
set -uo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/check.sh
source "$OLED_REPO/scripts/lib/check.sh"
cd "$OLED_REPO" || exit 1

TEXT="Hello from the lattice"
RECORD="$OLED_HOME/readme-flow"
trap 'check_finish "readme-flow ${1:-}" $?' EXIT
check_plant_point

# The demo lattice's own settings only: nothing of a test lattice's environment may leak in.
demo() { env -u OLED_LATTICE_STATE -u OLED_HUB_PORT -u OLED_REGISTRY -u OLED_LATTICE_NAME -u OLED_HTTP_ADDR -u OLED_FLEET "$@"; }
demo_ascii() {
    # shellcheck disable=SC2016 # expanded by the inner shell
    demo bash -c 'source scripts/lib/common.sh && source scripts/lib/app.sh && app_env && panel_ascii'
}
demo_running() { demo bash scripts/lattice.sh status >/dev/null 2>&1; }

case "${1:-}" in
    begin)
        mkdir -p "$RECORD"
        if demo_running; then
            echo started-by-user >"$RECORD/mode"
            pass "a demo lattice is already running (left by ./scripts/demo.sh): the tests run beside it"
        else
            echo started-here >"$RECORD/mode"
            log "./scripts/demo.sh \"$TEXT\"   (log: $RECORD/demo.log)"
            if demo ./scripts/demo.sh "$TEXT" >"$RECORD/demo.log" 2>&1; then
                pass "./scripts/demo.sh \"$TEXT\" (its lattice is left running, as the README says)"
            else
                tail -n 20 "$RECORD/demo.log"
                fail "./scripts/demo.sh \"$TEXT\""
            fi
            want="$(cargo run -q -p oled-text --example render -- "$TEXT")"
            check "the demo's panel shows \"$TEXT\"" test "$(demo_ascii)" == "$want"
        fi
        demo_ascii >"$RECORD/ascii"
        check "the demo's panel answers" test -s "$RECORD/ascii"
        ;;
    end)
        [[ -s "$RECORD/mode" ]] || { fail "no record of a demo lattice: run this with 'begin' first"; exit 1; }
        check "the demo lattice still runs after the test lattices came and went" demo_running
        check "the demo's panel still shows what it showed before" test "$(demo_ascii)" == "$(cat "$RECORD/ascii")"
        if [[ "$(cat "$RECORD/mode")" == started-here ]]; then
            check "the demo lattice this run started is taken down" demo bash scripts/lattice.sh down
        fi
        rm -rf "$RECORD"
        ;;
    *) echo "usage: $0 begin|end" >&2; exit 2 ;;
esac
