# shellcheck shell=bash
# The one way our test scripts count and report checks. Source it, then:
#   check NAME CMD...       run CMD: "ok   NAME", or "FAIL NAME" and the tail of its output
#   pass NAME / fail NAME [WHY]   record an outcome decided elsewhere
#   skip NAME WHY           record a check that could not run: counted and named, never a pass
#   check_report LABEL      print "LABEL: P passed, F failed, S skipped" (and what failed or was
#                           skipped); returns 1 when anything failed.
#   check_finish LABEL [RC] check_report, then exit: 0 only when no check failed and RC (the script's
#                           own status, default 0) is 0. Every test script ends through it, usually
#                           as the last line of its EXIT trap: a trap's status is otherwise ignored.
#   check_plant_point       where a test script has set its traps: with OLED_HARNESS_PLANT=failing-check
#                           (scripts/test-harness.sh) it records one failing check and exits 0, so the
#                           harness sees whether that failure still reaches the script's exit status. With OLED_CHECK_SKIPS set to
#                           a file, each skipped check is also written there as "LABEL: NAME", so
#                           that scripts/test.sh names it in its closing line; CHECK_REPORT_NOTE, if
#                           set, ends the line.
# Output goes to stdout, one line per check, so a stage's log reads top to bottom.
# shellcheck disable=SC2034 # the counters are read by the scripts that source this file

CHECK_PASSED=0
CHECK_FAILED=0
CHECK_SKIPPED=0
CHECK_FAILED_NAMES=()
CHECK_SKIPPED_NAMES=()

pass() {
    CHECK_PASSED=$((CHECK_PASSED + 1))
    echo "ok   $1"
}

fail() {
    CHECK_FAILED=$((CHECK_FAILED + 1))
    CHECK_FAILED_NAMES+=("$1")
    echo "FAIL $1${2:+: $2}"
}

skip() {
    CHECK_SKIPPED=$((CHECK_SKIPPED + 1))
    CHECK_SKIPPED_NAMES+=("$1")
    echo "SKIP $1${2:+: $2}"
}

check() {
    local name="$1" out
    shift
    if out="$("$@" 2>&1)"; then
        pass "$name"
    else
        fail "$name"
        printf '%s\n' "$out" | tail -n 25 | sed 's/^/     /'
    fi
}

check_report() {
    local label="$1" n
    if ((CHECK_FAILED > 0)); then
        echo "failed:"
        for n in "${CHECK_FAILED_NAMES[@]}"; do echo "  - $n"; done
    fi
    if ((CHECK_SKIPPED > 0)); then
        echo "skipped:"
        for n in "${CHECK_SKIPPED_NAMES[@]}"; do
            echo "  - $n"
            if [[ -n "${OLED_CHECK_SKIPS:-}" ]]; then echo "$label: $n" >>"$OLED_CHECK_SKIPS"; fi
        done
    fi
    echo "$label: $CHECK_PASSED passed, $CHECK_FAILED failed, $CHECK_SKIPPED skipped${CHECK_REPORT_NOTE:-}"
    ((CHECK_FAILED == 0))
}

check_finish() {
    local rc="${2:-0}"
    check_report "$1" || rc=1
    exit "$rc"
}

check_plant_point() {
    if [[ "${OLED_HARNESS_PLANT:-}" == failing-check ]]; then
        check "planted: a check that fails" false
        exit 0
    fi
}
