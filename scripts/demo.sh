#!/usr/bin/env bash
# The main job in one command: build, bring the lattice up, `wash app deploy`, `wash call` with TEXT,
# then show the panel of the "pi" host (ASCII here, and the path of its PNG snapshot).
#
#   ./scripts/demo.sh ["TEXT"]        ./scripts/lattice.sh down   takes it all down again
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=scripts/lib/app.sh
source "$OLED_REPO/scripts/lib/app.sh"
cd "$OLED_REPO"

TEXT="${1:-Hello from the lattice}"

bash scripts/install-tools.sh
app_build
bash scripts/lattice.sh up
app_env
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
  ./scripts/lattice.sh down
TRY
