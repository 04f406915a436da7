#!/usr/bin/env bash
# The main job in one command: build, bring the lattice up, `wash app deploy`, `wash call` with TEXT,
# then show the panel of the "pi" host (ASCII here, and the path of its PNG snapshot).
#
#   ./scripts/demo.sh ["TEXT"]        one Pi, one panel
#   ./scripts/demo.sh --fleet         a small house: the laptop and two Pis (kitchen, hall), three
#                                     panels by name; text sent to each by name, then every panel shown
#   ./scripts/lattice.sh down         takes it all down again
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
cd "$OLED_REPO"

FLEET=0
if [[ "${1:-}" == --fleet ]]; then
    FLEET=1
    shift
fi
TEXT="${1:-Hello from the lattice}"

bash scripts/install-tools.sh
app_build

if ((FLEET)); then
    mkdir -p build/panels
    OLED_FLEET=1 bash scripts/lattice.sh up
    app_env
    # The one-panel app and the fleet share component ids (oled-display, http-server): one at a time.
    wash app undeploy oled-lattice >/dev/null 2>&1 || true
    wash app delete oled-lattice --all-versions >/dev/null 2>&1 || true
    APP_NAME=oled-fleet
    app_deploy "$OLED_REPO/wadm/oled-lattice.fleet.yaml"
    app_wait_http 90 || die "the fleet is deployed, but HTTP does not answer; see $OLED_LATTICE_STATE/logs/"
    # Every panel answers (bounded): the providers on both Pis have their links.
    for _ in $(seq 1 90); do
        curl -s -m 10 127.0.0.1:8080/panels | grep -q '"health":"ok".*"health":"ok".*"health":"ok"' && break
        sleep 1
    done
    for pair in "kitchen-left=Soup's on" "kitchen-right=Timer 12:00" "hall=Welcome home"; do
        log "curl -d '${pair#*=}' 127.0.0.1:8080/panels/${pair%%=*}"
        curl -s -m 10 -d "${pair#*=}" "127.0.0.1:8080/panels/${pair%%=*}" | cut -c1-160
        echo
    done
    log "curl '127.0.0.1:8080/panels?ascii=1'   (every glass, read back over its own link)"
    curl -s -m 20 '127.0.0.1:8080/panels?ascii=1' | python3 -c '
import json, sys
for p in json.load(sys.stdin)["panels"]:
    head = "--- {} (room {}, {}, {}): {}, shows {!r}"
    print(head.format(p["name"], p["room"], p.get("controller"), p.get("size"), p["health"], p.get("shows")))
    print(p.get("ascii") or "")'
    cat <<TRY

Try:
  curl 127.0.0.1:8080/panels
  curl -d 'Dinner!' '127.0.0.1:8080/panels/*'
  source $(bash scripts/lattice.sh env) && wash call oled-display oled-lattice:display/invoke.panels
  ./scripts/lattice.sh down
TRY
    exit 0
fi

bash scripts/lattice.sh up
app_env
wash app undeploy oled-fleet >/dev/null 2>&1 || true
wash app delete oled-fleet --all-versions >/dev/null 2>&1 || true
app_deploy "$APP_MANIFEST_LOCAL"
app_wait_ready 90 || die "the lattice is up and the app deployed, but the display does not answer; see $OLED_LATTICE_STATE/logs/"

log "wash call oled-display wasi:http/incoming-handler.handle --http-body \"$TEXT\""
wash_call oled-display wasi:http/incoming-handler.handle --http-body "$TEXT"
echo
log "wash call oled-panel oled-lattice:panel/inspect.ascii   (the panel on the pi host)"
wash_call oled-panel oled-lattice:panel/inspect.ascii
echo
echo "PNG snapshot of the panel: $APP_SNAPSHOT"
cat <<TRY

Try:
  source $(bash scripts/lattice.sh env)
  wash call oled-display oled-lattice:display/invoke.demo
  curl -d 'Hello over HTTP' 127.0.0.1:8080
  curl -H 'content-type: application/json' -d '{"text":"21.5 C","font":"large"}' 127.0.0.1:8080
  wash call oled-display oled-lattice:display/invoke.ticker     # a line the panel moves by itself
  curl -H 'content-type: application/json' -d '{"text":"A longer line moves as a ticker","ticker":{"speed":40}}' 127.0.0.1:8080
  open http://127.0.0.1:8080/ in a browser                       # the live view
  ./scripts/lattice.sh down
TRY
