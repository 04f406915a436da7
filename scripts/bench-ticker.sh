#!/usr/bin/env bash
# Tickers on the lattice: bus bytes a second while a ticker runs, on the controller's own horizontal
# scroll (hardware) and on the provider's steps (software). The display component draws the line once;
# the panel's provider moves it; the virtual SSD1306 on the pi host counts every byte (inspect.stats)
# and scrolls its RAM as a chip would. Uses a running local lattice or brings one up, like the lattice
# bench, and takes down only what it started.
#
#   ./scripts/bench.sh ticker [SECONDS]    (default 20 s a run; three runs)
#   last line: ticker: hardware H B/s, software S B/s
#
# The lines are fixed in scenarios/ticker.txt, the small font, 30 columns a second asked for:
#   1. the 40-character line: too long for the controller's 128-column ring: software path;
#   2. an 18-character line that fits the ring, on the hardware path;
#   3. the same 18-character line, software path asked for (like for like with 2).
# B/s counts everything on the bus from the ticker's start to the end of the run, its start included
# (the bytes the answer reports), divided by the time from the request to the end of the run.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
cd "$OLED_REPO"
RUN_S="${1:-20}"
SPEED="${OLED_TICKER_SPEED:-30}"

mapfile -t LINES < <(grep -v '^#' scenarios/ticker.txt)
[[ "${#LINES[@]}" -ge 2 ]] || die "scenarios/ticker.txt needs two lines"

trap app_bench_done EXIT
app_bench_lattice
app_wait_http 90 >/dev/null

# stats_bytes: bytes on the panel's bus so far, as its provider counts them.
stats_bytes() {
    wash_call oled-panel oled-lattice:panel/inspect.stats 2>/dev/null |
        python3 -c 'import json,sys; print(json.loads([l for l in sys.stdin if l.strip()][-1])["bytes"])'
}

# band ASCII: the panel's rows where the strip runs (rows 24-39 of the 128x64 glass), from text art.
band() { sed -n '25,40p' <<<"$1" | cut -c1-128; }

# run LABEL TEXT PATH: starts the ticker, waits RUN_S, prints one line; sets RATE and RUN_PATH.
RATE=0 RUN_PATH=""
run() {
    local label="$1" text="$2" path="$3" body answer b0 b1 t0 t1 before after
    body="$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1], "font": "small", "ticker": {"speed": int(sys.argv[2]), "path": sys.argv[3]}}))' "$text" "$SPEED" "$path")"
    t0="$(date +%s.%N)"
    answer="$(curl -s -m 10 -H 'content-type: application/json' -d "$body" "$APP_HTTP")"
    # Counted from here, plus what the start cost (the answer says): the previous ticker may still
    # have stepped between a count taken before the request and its arrival.
    b0="$(stats_bytes)" || die "inspect.stats did not answer"
    before="$(panel_ascii || true)"
    sleep "$RUN_S"
    after="$(panel_ascii || true)"
    b1="$(stats_bytes)" || die "inspect.stats did not answer"
    t1="$(date +%s.%N)"
    read -r RUN_PATH speed columns start_bytes why < <(python3 -c '
import json, sys
a = json.loads(sys.argv[1])["shown"]
t = a["ticker"]
print(t["path"], t["speed"], a["columns"], t["bus"]["bytes"], (t.get("why_software") or "-").replace(" ", "_"))
' "$answer") || die "no ticker in the answer: $answer"
    RATE="$(python3 -c 'import sys; s,b0,b1,t0,t1 = map(float, sys.argv[1:]); print(round((s + b1 - b0) / (t1 - t0)))' "$start_bytes" "$b0" "$b1" "$t0" "$t1")"
    printf '%-46s %-8s %6s col/s  strip %4s columns  start %5s B  %6s B/s over %s s\n' \
        "$label" "$RUN_PATH" "$speed" "$columns" "$start_bytes" "$RATE" "$(python3 -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))' "$t0" "$t1")"
    if [[ "$why" != "-" ]]; then echo "    software because: ${why//_/ }"; fi
    if [[ "$RUN_PATH" == hardware ]]; then
        echo "    the emulated glass, rows 24-39, just after the start:"
        band "$before" | sed 's/^/    /'
        echo "    and $RUN_S s later, scrolled by the controller alone ($((b1 - b0)) bytes on the bus in between):"
        band "$after" | sed 's/^/    /'
    fi
}

log "tickers: ${RUN_S} s each, $SPEED columns a second asked for, small font, virtual SSD1306 128x64"
run "1. 40-character line" "${LINES[0]}" auto
software_40="$RATE"
[[ "$RUN_PATH" == software ]] || die "the 40-character line went the $RUN_PATH way"
run "2. 18-character line" "${LINES[1]}" auto
hardware_18="$RATE"
[[ "$RUN_PATH" == hardware ]] || die "the 18-character line went the $RUN_PATH way, not hardware"
run "3. 18-character line, software asked for" "${LINES[1]}" software
software_18="$RATE"
# Leave the panel still.
curl -s -m 10 -X DELETE "$APP_HTTP" >/dev/null || true
echo "ticker: hardware ${hardware_18} B/s, software ${software_40} B/s (hardware: the 18-character line, which fits the ring; software: the 40-character line; the 18-character line in software: ${software_18} B/s)"
