#!/usr/bin/env bash
# End-to-end tests against the real lattice: NATS hub + leaf, a laptop host and a pi host, wadm,
# `wash app deploy`, `wash call`, HTTP through the HTTP server provider, undeploy, teardown.
# Only the Pi's panel is virtual. Everything is torn down on exit, also when a check fails.
set -uo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
# shellcheck source=scripts/lib/check.sh
source "$OLED_REPO/scripts/lib/check.sh"
cd "$OLED_REPO" || exit 1

# A state dir, ports, a registry, an HTTP address, panel state and snapshots of our own
# (scripts/lib/ports.sh), so a demo lattice left running is left alone: the README runs the demo first.
# shellcheck source=scripts/lib/ports.sh
source "$OLED_REPO/scripts/lib/ports.sh"
ports_export e2e
# shellcheck source=scripts/lib/attacks.sh
source "$OLED_REPO/scripts/lib/attacks.sh"
HTTP="http://$OLED_HTTP_ADDR"
APP_HTTP="$HTTP/"
APP_SNAPSHOT="$OLED_LATTICE_STATE/oled-panel.png"

# call_answers PATTERN ARGS...: `wash call ARGS` answers with PATTERN. wash 0.43 now and then waits
# without an answer although the call ran (seen in e2e: the panel showed the demo, wash printed
# nothing): such a call is given 15 s, tried once more, and counted in WASH_RETRIES (reported at the
# end), never passed silently.
WASH_RETRIES_FILE="$(mktemp)"
call_answers() {
    local pattern="$1" out try
    shift
    for try in 1 2; do
        out="$(timeout 15 wash call "$@" 2>&1)"
        if grep -qF -- "$pattern" <<<"$out"; then
            [[ "$try" == 1 ]] || echo "wash call $* (answered on try $try)" >>"$WASH_RETRIES_FILE"
            return 0
        fi
        [[ -n "$out" ]] && break # a real answer without PATTERN: no retry
    done
    printf '%s\n' "$out" | tail -n 5
    return 1
}

# Traces: the hosts export OTLP to a minimal collector of ours (scripts/lib/otlp.py) and pass the
# setting on to the providers they start.
OTLP_PORT=14318
OTLP_DIR="$OLED_LATTICE_STATE/otlp"
OTLP_PY="$OLED_TOOLS/venv/bin/python"
export OLED_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT"
otlp_pid=""

teardown() {
    local rc=$?
    open_host_down
    bash scripts/lattice.sh down >/dev/null 2>&1 || true
    if [[ -s "$WASH_RETRIES_FILE" ]]; then
        echo "wash call waited without an answer and was retried: $(wc -l <"$WASH_RETRIES_FILE")"
        sed 's/^/  /' "$WASH_RETRIES_FILE"
    fi
    rm -f "$WASH_RETRIES_FILE"
    [[ -z "$otlp_pid" ]] || kill "$otlp_pid" 2>/dev/null || true
    echo
    check_finish e2e "$rc"
}
trap teardown EXIT
check_plant_point

expected_ascii() { cargo run -q -p oled-text --example render -- "$1"; }

# panel_shows TEXT: the pi host's panel shows exactly what the core renders for TEXT (retried briefly:
# the provider answers as soon as the frame is on the bus, inspect reads it back over the lattice).
panel_shows() {
    local want got i
    want="$(expected_ascii "$1")"
    for i in 1 2 3 4 5; do
        got="$(panel_ascii)"
        [[ "$got" == "$want" ]] && return 0
        sleep 1
    done
    echo "panel shows:"; echo "$got"; echo "expected:"; echo "$want"
    return 1
}

panel_blank() { # answered, and nothing lit
    local a
    a="$(panel_ascii)"
    [[ -n "$a" ]] && ! grep -q '#' <<<"$a"
}
panel_lit() { # (captured first: with pipefail, `grep -q` closing the pipe early would fail the pipeline)
    local a
    a="$(panel_ascii)"
    grep -q '#' <<<"$a"
}

http_status() { # http_status EXPECTED curl-args...: on the default panel, /
    local want="$1"
    shift
    http_status_path "$want" "" "$@"
}

http_status_path() { # http_status_path EXPECTED PATH curl-args...
    local want="$1" path="$2" got
    shift 2
    got="$(curl -s -o /tmp/oled-e2e-body -w '%{http_code}' "$@" "$HTTP$path")"
    [[ "$got" == "$want" ]] || { echo "HTTP $got, wanted $want: $(head -c 300 /tmp/oled-e2e-body)"; return 1; }
}

inventory_has() { # inventory_has DEVICE ID: the host labelled DEVICE runs ID
    wash get inventory --output json 2>/dev/null | python3 -c '
import json, sys
device, wanted = sys.argv[1], sys.argv[2]
data = json.load(sys.stdin)
invs = data.get("inventories", data if isinstance(data, list) else [data])
for inv in invs:
    if inv.get("labels", {}).get("device") != device:
        continue
    ids = [c.get("id") for c in inv.get("components", [])] + [p.get("id") for p in inv.get("providers", [])]
    sys.exit(0 if wanted in ids else 1)
sys.exit(1)' "$1" "$2"
}

none_left() { # no process of the lattice's process groups (services and the providers they started) outlives teardown
    local f groups=() g left=0
    for f in "$OLED_LATTICE_STATE"/run/*.pid; do [[ -s "$f" ]] && groups+=("$(<"$f")"); done
    [[ ${#groups[@]} -gt 0 ]] || { echo "no pid files in $OLED_LATTICE_STATE/run"; return 1; }
    bash scripts/lattice.sh down >/dev/null 2>&1
    for g in "${groups[@]}"; do
        # Zombies (state Z) are dead already; reaping them is the container's init's job.
        # shellcheck disable=SC2009 # pgrep cannot tell zombies apart
        if ps -o stat= -g "$g" 2>/dev/null | grep -qv '^Z'; then
            echo "left in group $g:"; ps -o pid,args -g "$g"; left=1
        fi
    done
    [[ "$left" == 0 ]]
}

wait_gone() { # wait_gone DEVICE ID
    local i
    for i in $(seq 1 60); do inventory_has "$1" "$2" || return 0; sleep 1; done
    return 1
}

app_build || { fail "build"; exit 1; }
rm -rf "$OTLP_DIR"
"$OTLP_PY" "$OLED_REPO/scripts/lib/otlp.py" serve "$OTLP_PORT" "$OTLP_DIR" &
otlp_pid=$!
open_host_reap_stale
bash scripts/lattice.sh up || { fail "lattice up"; exit 1; }
APP_MANIFEST_LOCAL="$OLED_LATTICE_STATE/oled-lattice.local.yaml"
app_render_manifest "$OLED_REPO/wadm/oled-lattice.local.yaml" "$APP_MANIFEST_LOCAL" || { fail "manifest"; exit 1; }
app_env
check "wash app deploy reaches deployed" app_deploy "$APP_MANIFEST_LOCAL" 240
check "the display answers through its link to the panel" app_wait_ready 90
check "display component runs on the laptop host" inventory_has laptop oled-display
check "OLED provider runs on the pi host" inventory_has pi oled-panel
check "HTTP server provider runs on the laptop host" inventory_has laptop http-server

check "wash call http handle shows the text" \
    call_answers '"status": 200' oled-display wasi:http/incoming-handler.handle --http-body "Hello from the lattice"
check "pi panel shows the core's rendering" panel_shows "Hello from the lattice"
check "PNG snapshot written" test -s "$APP_SNAPSHOT"
check "invoke.status reports the virtual ssd1306" \
    call_answers '"backend":"virtual"' oled-display oled-lattice:display/invoke.status
check "invoke.clear" call_answers '"cleared":true' oled-display oled-lattice:display/invoke.clear
check "panel blank after clear" panel_blank
check "invoke.demo" call_answers '"demo":true' oled-display oled-lattice:display/invoke.demo
check "panel lit after demo" panel_lit
# stats_field KEY: one number from the provider's inspect.stats JSON.
stats_field() {
    wash_call oled-panel oled-lattice:panel/inspect.stats 2>/dev/null |
        python3 -c 'import json,sys; print(json.loads([l for l in sys.stdin if l.strip()][-1])[sys.argv[1]])' "$1"
}
# Two updates through the component are two updates on the panel, and a changed picture costs bytes.
two_updates_counted() {
    local u0 b0 u1 b1
    u0="$(stats_field updates)" && b0="$(stats_field bytes)" || return 1
    wash_call oled-display oled-lattice:display/invoke.clear >/dev/null || return 1
    wash_call oled-display oled-lattice:display/invoke.demo >/dev/null || return 1
    u1="$(stats_field updates)" && b1="$(stats_field bytes)" || return 1
    echo "updates $u0 -> $u1, bytes $b0 -> $b1"
    ((u1 == u0 + 2 && b1 > b0))
}
check "inspect.stats counts exactly the updates sent" two_updates_counted

check "HTTP POST text/plain -> 200" http_status 200 -X POST -H 'content-type: text/plain' -d 'Via HTTP'
# One update is one trace: the laptop host's HTTP handler (the display component), the provider's
# present-sized on the pi host under it, and the bus span under that (spans arrive in batches).
trace_reaches_bus() {
    local i
    for i in $(seq 1 30); do
        "$OTLP_PY" "$OLED_REPO/scripts/lib/otlp.py" trace "$OTLP_DIR" && return 0
        sleep 1
    done
    return 1
}
check "one trace: HTTP handler -> present-sized on the pi host -> bus" trace_reaches_bus
check "pi panel shows the HTTP text" panel_shows "Via HTTP"
check "HTTP GET -> 200 status" http_status 200
check "HTTP POST JSON -> 200" http_status 200 -X POST -H 'content-type: application/json' -d '{"text":"JSON","font":"large"}'
check "HTTP DELETE -> 200" http_status 200 -X DELETE
check "panel blank after DELETE" panel_blank
check "HTTP bad JSON -> 400" http_status 400 -X POST -H 'content-type: application/json' -d '{"text":'
check "HTTP unknown field -> 400" http_status 400 -X POST -H 'content-type: application/json' -d '{"text":"a","colour":"red"}'
check "HTTP 5000 bytes -> 413" http_status 413 -X POST -H 'content-type: text/plain' --data-binary "$(head -c 5000 /dev/zero | tr '\0' a)"
check "HTTP PATCH -> 405" http_status 405 -X PATCH -d 'x'
check "panel untouched by bad requests" panel_blank

# Tickers: the component draws the line once; the panel's provider moves it. A line that fits the
# controller's 128-column ring scrolls by the controller itself (no bytes on the bus while it moves);
# a longer one is stepped by the provider (bytes at each step); new text stops either.
ticker_moves() { # ticker_moves TEXT PATH: the answer and the status name PATH; the glass moves; bytes only in software
    local body answer a0 a1 b0 b1 status
    body="$(python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1], "font": "small", "ticker": {"speed": 40}}))' "$1")"
    answer="$(curl -s -m 10 -H 'content-type: application/json' -d "$body" "$HTTP")"
    grep -q "\"path\":\"$2\"" <<<"$answer" || { echo "answer: $answer"; return 1; }
    b0="$(stats_field bytes)" && a0="$(panel_ascii)" || return 1
    sleep 2
    b1="$(stats_field bytes)" && a1="$(panel_ascii)" || return 1
    echo "$2: bytes $b0 -> $b1 in 2 s"
    status="$(curl -s -m 10 "$HTTP")"
    [[ "$(python3 -c 'import json,sys; print((json.loads(sys.argv[1])["status"].get("ticker") or {}).get("path"))' "$status")" == "$2" ]] ||
        { echo "status without the ticker: $status"; return 1; }
    [[ "$a0" != "$a1" ]] || { echo "the glass did not move"; return 1; }
    if [[ "$2" == hardware ]]; then ((b1 == b0)); else ((b1 > b0)); fi
}
check "ticker that fits the ring: the controller scrolls it, 0 bytes on the bus while it moves" \
    ticker_moves "Scrolls by itself." hardware
check "ticker of 40 characters: the provider steps it" \
    ticker_moves "Forty characters scroll past on an OLED." software
still_after_text() { # new text stops the ticker: the glass shows it exactly and stays still
    local a0 a1
    curl -s -m 10 -o /dev/null -H 'content-type: text/plain' -d 'Still' "$HTTP" || return 1
    panel_shows "Still" || return 1
    a0="$(panel_ascii)" && sleep 1 && a1="$(panel_ascii)" || return 1
    [[ "$a0" == "$a1" ]]
}
check "new text stops the ticker; the panel shows it exactly and stays still" still_after_text
check "invoke.ticker (wash call) starts the demo ticker" \
    call_answers '"ticker":{' oled-display oled-lattice:display/invoke.ticker
check "HTTP ticker speed 0 -> 400" http_status 400 -X POST -H 'content-type: application/json' -d '{"text":"a","ticker":{"speed":0}}'
check "HTTP DELETE stops the ticker: blank" bash -c "curl -s -m 10 -o /dev/null -X DELETE '$HTTP'"
check "panel blank after the ticker" panel_blank

# The live view in a real browser (Debian's headless Chromium, Playwright for Python): the page the
# display serves, text sent through its form and by another caller, each on the page's picture within
# 1 s and equal to the panel's glass pixel for pixel; polling an unchanged panel answers 304. Its lines
# and the screenshot's path are printed; the screenshot stays in the state dir.
BROWSER_OUT="$OLED_LATTICE_STATE/browser"
browser_view() {
    local out rc=0
    out="$("$OTLP_PY" "$OLED_REPO/scripts/lib/browser.py" "$HTTP" "$BROWSER_OUT" 2>&1)" || rc=$?
    printf '%s\n' "$out" | sed 's/^/    /' >"$BROWSER_OUT.log"
    printf '%s\n' "$out"
    return "$rc"
}
check "live view in headless Chromium: form and another caller reach the page within 1 s, pixel for pixel; 304 when unchanged; a ticker moves on the page" browser_view
cat "$BROWSER_OUT.log" 2>/dev/null
check "HTTP GET /panel.png -> an image" http_status_path 200 /panel.png

# Only the owner writes: a page of another origin (scripts/lib/attack.py, served on another port and
# opened in headless Chromium) tries three writes any site can make: a text/plain form, a no-cors
# fetch POST, a (preflighted) fetch DELETE. First against the setup without the protection (the
# app deployed with the display's `allowed_origins: "*"` and the HTTP server's CORS open): each must
# change the panel, or the attack proves nothing. Then the app as shipped: none may (the POSTs are
# answered 403, the DELETE's preflight finds CORS closed).
ATTACK_DIR="$OLED_LATTICE_STATE/attack"
attack_run() { "$OTLP_PY" "$OLED_REPO/scripts/lib/attack.py" "$HTTP" "$1" 2>"$ATTACK_DIR/$1.err"; }
# foreign_post_is CODE: a POST that says it comes from another origin gets CODE.
foreign_post_is() {
    [[ "$(curl -s -m 10 -o /dev/null -w '%{http_code}' -H 'Origin: http://attacker.invalid' -d probe "$HTTP")" == "$1" ]]
}
# attack_page open|shut: deploy the app open (allowed_origins "*", the HTTP server's CORS line
# deleted, config names of their own) or as shipped, then let the page try; the page's findings in
# $ATTACK_DIR/<mode>.json.
attack_page() {
    local mode="$1" i want
    mkdir -p "$ATTACK_DIR"
    if [[ "$mode" == open ]]; then
        sed -e "s/^    version: v$(app_version)\$/    version: v$(app_version)-open/" \
            -e "s/^              panel-size: 128x64\$/              panel-size: 128x64\n              allowed_origins: \"*\"/" \
            -e "s/^          - name: oled-display-config\$/          - name: oled-display-config-open/" \
            -e "s/^                - name: oled-http\$/                - name: oled-http-open/" \
            -e '/cors_allowed_origins:/d' \
            "$APP_MANIFEST_LOCAL" >"$ATTACK_DIR/open.yaml"
        wash app deploy "$ATTACK_DIR/open.yaml" >"$ATTACK_DIR/open.log" 2>&1 || { tail -n 5 "$ATTACK_DIR/open.log"; return 1; }
        want=200
    else
        wash app deploy "$APP_NAME" "v$(app_version)" >"$ATTACK_DIR/shut.log" 2>&1 || { tail -n 5 "$ATTACK_DIR/shut.log"; return 1; }
        want=403
    fi
    for i in $(seq 1 60); do foreign_post_is "$want" && break; sleep 1; done
    attack_run "$mode" >"$ATTACK_DIR/$mode.json" || return 1
    python3 -c 'import json,sys; d=json.load(sys.stdin); [print("    %-7s page saw: %-14s panel shows: %s" % (a, r["page_saw"], r["panel_shows"])) for a, r in d["attacks"].items()]' <"$ATTACK_DIR/$mode.json"
}
# page_attack MODE WHICH: what the page saw for WHICH (form, nocors, delete) in MODE's run; 0 when the
# panel changed.
page_attack() {
    python3 - "$ATTACK_DIR/$1.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["attacks"][sys.argv[2]]
print("page saw %s, panel shows %s" % (r["page_saw"], r["panel_shows"]))
sys.exit(0 if sys.argv[2] in d["changed"] else 1)
PY
}
open_form() { page_attack open form; }
shut_form() { ! page_attack shut form; }
open_nocors() { page_attack open nocors; }
shut_nocors() { ! page_attack shut nocors; }
open_delete_page() { page_attack open delete; }
shut_delete_page() { ! page_attack shut delete; }
check "the page of another origin runs against the app deployed open (allowed_origins \"*\", CORS open)" attack_page open
check "the same page runs against the app as shipped" attack_page shut
attack "a page of another origin posting a text/plain form to the display" open_form shut_form
attack "a page of another origin posting with fetch (no-cors)" open_nocors shut_nocors
attack "a page of another origin sending DELETE (CORS preflight)" open_delete_page shut_delete_page
check "a foreign Origin's POST -> 403 with the reason" bash -c "curl -s -m 10 -H 'Origin: http://attacker.invalid' -d probe '$HTTP' | grep -q 'may not change the panels'"
check "curl without Origin still writes -> 200" http_status 200 -X POST -d 'tools still write'
# The optional write token (config write_token): every write needs `Authorization: Bearer <token>`.
token_status() { curl -s -m 10 -o /dev/null -w '%{http_code}' "${@:2}" -d "token $1" "$HTTP"; }
write_token() {
    local token i
    token="e2e-$RANDOM$RANDOM"
    sed -e "s/^    version: v$(app_version)\$/    version: v$(app_version)-token/" \
        -e "s/^              panel-size: 128x64\$/              panel-size: 128x64\n              write_token: \"$token\"/" \
        -e "s/^          - name: oled-display-config\$/          - name: oled-display-config-token/" \
        "$APP_MANIFEST_LOCAL" >"$ATTACK_DIR/token.yaml"
    wash app deploy "$ATTACK_DIR/token.yaml" >"$ATTACK_DIR/token.log" 2>&1 || { tail -n 5 "$ATTACK_DIR/token.log"; return 1; }
    for i in $(seq 1 60); do [[ "$(token_status none)" == 401 ]] && break; sleep 1; done
    echo "    without a token: $(token_status none); a wrong one: $(token_status wrong -H 'Authorization: Bearer guess'); the right one: $(token_status right -H "Authorization: Bearer $token"); a status read without one: $(curl -s -m 10 -o /dev/null -w '%{http_code}' "$HTTP")"
    [[ "$(token_status none)" == 401 && "$(token_status wrong -H 'Authorization: Bearer guess')" == 401 &&
        "$(token_status right -H "Authorization: Bearer $token")" == 200 &&
        "$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$HTTP")" == 200 ]] || return 1
    wash app deploy "$APP_NAME" "v$(app_version)" >>"$ATTACK_DIR/token.log" 2>&1 || return 1
    for i in $(seq 1 60); do [[ "$(token_status none)" == 200 ]] && return 0; sleep 1; done
    return 1
}
check "with write_token set, a write needs it (401 without or with a wrong one, 200 with it); reads stay open" write_token

# Versioned rollouts: a new app version (the display on a new image tag, with a visible change: its
# demo screen's title from its config) rolls out while HTTP and wRPC callers send 24 updates/s, and
# `wash app deploy oled-lattice v0.1.0` rolls it back. Every answer is counted by the fault bench's
# judge: none hung, slow or unclear, nothing acknowledged lost; the failed calls are reported
# (target 0). While the laptop host swaps the component, the HTTP server provider answers a few
# calls 503 "unreachable over the lattice" with the transport's reason (it answered 500 before our
# patch in tools/patches/), which the judge counts as clear refusals.
# Each new version's configs get names of their own: wadm 0.21, replacing a version, removes the old
# version's configs, and a config of the same name can go with them (seen in e2e: an upgraded
# provider started without its config and stayed on its defaults; a display kept its old title).
ROLL_DIR="$OLED_LATTICE_STATE/rollout"
ROLL_VERSION=0.1.1
manifest_v2() {
    sed -e "s/^    version: v$(app_version)\$/    version: v$ROLL_VERSION/" \
        -e "s|/oled-lattice/oled-display:$(app_version)\$|/oled-lattice/oled-display:$ROLL_VERSION|" \
        -e "s/^              panel-size: 128x64\$/              panel-size: 128x64\n              title: v$ROLL_VERSION/" \
        -e "s/^          - name: oled-display-config\$/          - name: oled-display-config-v$ROLL_VERSION/" \
        "$APP_MANIFEST_LOCAL"
}
# shows_title TITLE: the laptop host runs the display from the tag of the version whose demo title is
# TITLE, and the display reports that title (the new component answers).
shows_title() {
    local tag
    if [[ "$1" == "v$ROLL_VERSION" ]]; then tag="$ROLL_VERSION"; else tag="$(app_version)"; fi
    wash get inventory --output json 2>/dev/null | grep -q "oled-lattice/oled-display:$tag\"" &&
        timeout 20 wash call oled-display oled-lattice:display/invoke.status 2>/dev/null | grep -q "\"title\":\"$1\""
}
# rollout NAME TITLE DEPLOY-ARGS...: `wash app deploy DEPLOY-ARGS` while updates flow, until the display
# shows TITLE; prints the judge's row.
rollout() {
    local name="$1" title="$2" stop ev out pid i
    shift 2
    stop="$ROLL_DIR/$name.stop" ev="$ROLL_DIR/$name.events" out="$ROLL_DIR/$name.out"
    rm -f "$stop" "$ev"
    "$OLED_REPO/target/release/faults" --name "$name" --http-addr "$OLED_HTTP_ADDR" \
        --nats "nats://127.0.0.1:$OLED_HUB_PORT" --lattice "$OLED_LATTICE_NAME" \
        --stop-file "$stop" --events "$ev" --demo-title oled-lattice --demo-title "v$ROLL_VERSION" \
        >"$out" 2>&1 &
    pid=$!
    sleep 3
    echo "fault_start=$(date +%s%3N)" >>"$ev"
    if ! wash app deploy "$@" >"$ROLL_DIR/$name.deploy.log" 2>&1; then
        touch "$stop"; wait "$pid"; tail -n 5 "$ROLL_DIR/$name.deploy.log"; return 1
    fi
    for i in $(seq 1 90); do shows_title "$title" && break; sleep 1; done
    echo "fault_end=$(date +%s%3N)" >>"$ev"
    sleep 3
    touch "$stop"
    wait "$pid"
    grep -E "^\| $name|^  " "$out" | head -n 7
    grep -q "RESULT $name survived=1" "$out" && shows_title "$title"
}
roll_up() {
    mkdir -p "$ROLL_DIR"
    cargo build -q --release -p oled-bench --bin faults || return 1
    wash push --insecure "$OLED_REGISTRY/oled-lattice/oled-display:$ROLL_VERSION" "$APP_BUILD/oled_display_s.wasm" \
        >"$ROLL_DIR/push.log" 2>&1 || { tail -n 3 "$ROLL_DIR/push.log"; return 1; }
    manifest_v2 >"$ROLL_DIR/oled-lattice.v$ROLL_VERSION.yaml"
    rollout upgrade "v$ROLL_VERSION" "$ROLL_DIR/oled-lattice.v$ROLL_VERSION.yaml"
}
history_has_both() {
    local h
    h="$(wash app history "$APP_NAME" 2>&1)"
    echo "$h" | grep -E "v$(app_version)|v$ROLL_VERSION"
    grep -q "v$(app_version)" <<<"$h" && grep -q "v$ROLL_VERSION" <<<"$h"
}
check "rollout to v$ROLL_VERSION under 24 updates/s: the new display answers, nothing lost" roll_up
check "wash app history shows both versions" history_has_both
check "rollback to v$(app_version) under 24 updates/s: the old display answers, nothing lost" \
    rollout rollback oled-lattice "$APP_NAME" "v$(app_version)"

# A provider upgrade (the panel's provider on a new tag, app v0.1.2): restarted once, on the pi host
# only, and the panel shows its picture again (the judge: nothing acknowledged lost).
PROVIDER_VERSION=0.1.2
provider_pid() { pgrep -f "$OLED_LATTICE_STATE/host-pi/.*oled_lattice_oled_panel" | head -n 1; }
provider_runs_tag() { pgrep -f "$OLED_LATTICE_STATE/host-pi/.*oled_lattice_oled_panel_${1//./_}" >/dev/null; }
provider_up() {
    local before after
    before="$(provider_pid)"
    wash push --insecure "$OLED_REGISTRY/oled-lattice/oled-panel:$ROLL_VERSION" "$APP_BUILD/oled-panel.par.gz" \
        >"$ROLL_DIR/push-provider.log" 2>&1 || { tail -n 3 "$ROLL_DIR/push-provider.log"; return 1; }
    sed -e "s/^    version: v$(app_version)\$/    version: v$PROVIDER_VERSION/" \
        -e "s|/oled-lattice/oled-panel:$(app_version)\$|/oled-lattice/oled-panel:$ROLL_VERSION|" \
        -e "s/^          - name: oled-panel-config\$/          - name: oled-panel-config-v$PROVIDER_VERSION/" \
        "$APP_MANIFEST_LOCAL" >"$ROLL_DIR/oled-lattice.v$PROVIDER_VERSION.yaml"
    # Done when the new provider (its process runs from the new tag's cache file) serves the panel
    # of the manifest's config: wadm 0.21 starts it before that config is back in place, so it comes
    # up on its defaults (i2c) and applies the config a few seconds later.
    shows_title() {
        provider_runs_tag "$ROLL_VERSION" &&
            wash_call oled-panel oled-lattice:panel/inspect.stats 2>/dev/null | grep -q '"backend":"virtual"'
    }
    rollout provider-upgrade oled-lattice "$ROLL_DIR/oled-lattice.v$PROVIDER_VERSION.yaml" || return 1
    after="$(provider_pid)"
    echo "provider pid $before -> $after; provider processes now: $(pgrep -fc "$OLED_LATTICE_STATE/host-pi/.*oled_lattice_oled_panel")"
    [[ -n "$after" && "$after" != "$before" && "$(pgrep -fc "$OLED_LATTICE_STATE/host-pi/.*oled_lattice_oled_panel")" == 1 ]] &&
        inventory_has pi oled-panel && ! inventory_has laptop oled-panel
}
check "provider upgrade under 24 updates/s: one restart, on the pi host, picture kept" provider_up
# The judge's rows (fault = from `wash app deploy` to the new display answering), for the log.
grep -h "^| upgrade\|^| rollback\|^| provider-upgrade" "$ROLL_DIR"/*.out 2>/dev/null | sed 's/^/     /'

# Only our code runs: a component signed with another key and an unsigned one are refused by the
# policy service, and `wash app status` says why.
policy_refuses() {
    local t out
    t="$(mktemp -d)"
    WASH_KEYS="$t/keys" wash claims sign "$OLED_REPO/actors/display/build/oled_display.wasm" \
        --destination "$t/stranger_s.wasm" --name stranger --rev 1 --ver 0.1.0 >"$t/sign.log" 2>&1 ||
        { tail -n 3 "$t/sign.log"; return 1; }
    if ! wash push --insecure "$OLED_REGISTRY/oled-lattice/stranger:0.1.0" "$t/stranger_s.wasm" >/dev/null 2>&1 ||
        ! wash push --insecure "$OLED_REGISTRY/oled-lattice/unsigned:0.1.0" \
            "$OLED_REPO/actors/display/build/oled_display.wasm" >/dev/null 2>&1; then
        echo "wash push failed"
        return 1
    fi
    cat >"$t/strangers.yaml" <<EOF
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: oled-strangers
  annotations:
    version: v0.0.$RANDOM
spec:
  components:
    - name: stranger
      type: component
      properties:
        image: $OLED_REGISTRY/oled-lattice/stranger:0.1.0
        id: stranger
      traits:
        - type: spreadscaler
          properties:
            instances: 1
    - name: unsigned
      type: component
      properties:
        image: $OLED_REGISTRY/oled-lattice/unsigned:0.1.0
        id: unsigned
      traits:
        - type: spreadscaler
          properties:
            instances: 1
EOF
    wash app deploy "$t/strangers.yaml" >/dev/null 2>&1 || { echo "deploy failed"; return 1; }
    for _ in $(seq 1 60); do
        out="$(wash app status oled-strangers 2>&1)"
        if grep -q "which is not in the allow-list" <<<"$out" && grep -q "is unsigned" <<<"$out"; then
            echo "$out" | grep -E "Policy denied" | sed 's/^/     /'
            wash app undeploy oled-strangers >/dev/null 2>&1
            wash app delete oled-strangers --all-versions >/dev/null 2>&1
            rm -rf "$t"
            return 0
        fi
        sleep 1
    done
    echo "$out"
    echo "the lattice's hosts (a host without the policy would run them):"
    wash get hosts 2>&1 | sed 's/^/     /'
    return 1
}
check "policy: a stranger's and an unsigned component are refused, wash app status says why" policy_refuses
check "policy: the refused components never ran" bash -c '! wash get inventory --output json 2>/dev/null | grep -q "\"stranger\"\|\"unsigned\""'

# Attacks on the lattice's NATS, its leaf link and its registry (scripts/lib/attacks.sh): each first
# against an unprotected setup of the same parts, where it must work, then against this lattice.
check "nats-probe builds (the attacks' NATS client)" cargo build -q --release -p oled-bench --bin nats-probe
# The stranger's component of the policy check above, still in the registry.
STRANGER_IMAGE="$OLED_REGISTRY/oled-lattice/stranger:0.1.0"
attacks_on_the_lattice
attacks_report

check "wash app undeploy" wash app undeploy "$APP_NAME"
check "component gone after undeploy" wait_gone laptop oled-display
check "provider gone after undeploy" wait_gone pi oled-panel
check "no process left after teardown" none_left
