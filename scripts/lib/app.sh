# shellcheck shell=bash
# Build and deploy helpers shared by scripts/demo.sh, scripts/test-e2e.sh and scripts/bench.sh.
# Source after scripts/lib/common.sh.
# shellcheck disable=SC2034 # the APP_* variables are used by the scripts that source this file

APP_NAME=oled-lattice
APP_BUILD="$OLED_REPO/build"
APP_MANIFEST_LOCAL="$OLED_REPO/wadm/oled-lattice.local.yaml"
APP_SNAPSHOT="$APP_BUILD/oled-panel.png"

# wash_call ARGS...: `wash call`, bounded. An invocation sent before its target has subscribed (right
# after a deploy) can leave wash 0.43 waiting for an answer that never comes, past its own
# --timeout-ms; nothing in our scripts may wait on it forever.
wash_call() {
    timeout --kill-after=5 "${OLED_WASH_CALL_TIMEOUT:-20}" wash call "$@"
}

# app_build: the three artefacts the manifests name, in build/. Stops at the first
# step that fails and returns non-zero, so nobody deploys what an earlier build left in build/
# (the callers run it in `if`/`||`, where `set -e` does not act: every step says `|| return`).
app_build() {
    mkdir -p "$APP_BUILD" || return 1
    rm -f "$APP_BUILD/oled_display_s.wasm"
    bash "$OLED_REPO/scripts/build-component.sh" || { log "the component's build failed"; return 1; }
    cp "$OLED_REPO/actors/display/build/oled_display_s.wasm" "$APP_BUILD/oled_display_s.wasm" || return 1
    bash "$OLED_REPO/scripts/build-par.sh" || { log "the provider archive's build failed"; return 1; }
    # shellcheck source=/dev/null
    source "$OLED_TOOLS/env.sh" || return 1
    cp "$OLED_HTTP_SERVER_PAR" "$APP_BUILD/http-server.par.gz" || return 1
    log "artefacts in $APP_BUILD: oled_display_s.wasm oled-panel.par.gz http-server.par.gz"
}

# app_render_manifest SRC DEST: SRC (one of wadm/*.yaml, written for the demo lattice) for a test
# lattice with its own registry ($OLED_REGISTRY), HTTP address ($OLED_HTTP_ADDR) and panel state and
# snapshots under $OLED_LATTICE_STATE, so that it shares nothing with a demo lattice left running.
app_render_manifest() {
    local state="${OLED_LATTICE_STATE:?}"
    mkdir -p "$state/panel" "$state/panels" "$(dirname "$2")" || return 1
    sed -e "s|127.0.0.1:5000/|${OLED_REGISTRY:?}/|" \
        -e "s|address: 127.0.0.1:8080|address: ${OLED_HTTP_ADDR:?}|" \
        -e "s|\"http://127.0.0.1:8080\"|\"http://${OLED_HTTP_ADDR:?}\"|" \
        -e "s|snapshot: build/oled-panel.png|snapshot: $state/oled-panel.png|" \
        -e "s|snapshot: build/panels/|snapshot: $state/panels/|" \
        -e "s|state_dir: .state/panel|state_dir: $state/panel|" \
        -e "s|state_dir: .state/fleet/|state_dir: $state/fleet/|" \
        -e "s|fault_file: .state/panel/fault|fault_file: $state/panel/fault|" \
        -e "s|fault_file: .state/fleet/|fault_file: $state/fleet/|" \
        "$1" >"$2"
}

# app_env: use wash against the running local lattice (isolated config, hub NATS).
app_env() {
    local envfile
    envfile="$(bash "$OLED_REPO/scripts/lattice.sh" env)"
    # shellcheck source=/dev/null
    source "$envfile"
    # `wash call` reads the RPC connection, `wash app`/`wash get` the control one: both are the hub here.
    export WASMCLOUD_RPC_HOST="${WASMCLOUD_CTL_HOST:-127.0.0.1}" WASMCLOUD_RPC_PORT="${WASMCLOUD_CTL_PORT:-4222}"
    # The first call instantiates the component and reaches the pi over the leaf: allow for it.
    export WASMCLOUD_RPC_TIMEOUT_MS="${WASMCLOUD_RPC_TIMEOUT_MS:-10000}"
}

# app_status_is WORD: true when `wash app status` reports WORD (deployed, undeployed, ...).
app_status_is() {
    wash app status "$APP_NAME" --output json 2>/dev/null |
        python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(d).lower())' 2>/dev/null |
        grep -q "\"type\": \"$1\""
}

# app_version: the workspace's version, the tag our artefacts are pushed with.
app_version() {
    sed -n 's/^version = "\(.*\)"/\1/p' "$OLED_REPO/Cargo.toml" | head -n1
}

# The HTTP server provider's version (tools/Cargo.toml pins it), its tag in the registry.
APP_HTTP_SERVER_VERSION=0.27.1

# app_push_one REF FILE: wash push over plain HTTP, or https against $OLED_REGISTRY_CA when set.
app_push_one() {
    if [[ -n "${OLED_REGISTRY_CA:-}" ]]; then
        SSL_CERT_FILE="$OLED_REGISTRY_CA" wash push "$@"
    else
        wash push --insecure "$@"
    fi
}

# app_push: publish the three artefacts to the lattice's OCI registry ($OLED_REGISTRY, from
# `scripts/lattice.sh env`) under the names and tags the manifests use. Pushing the same bytes again
# changes nothing. Plain HTTP (the local registry), or https verified against $OLED_REGISTRY_CA when
# that is set (the laptop's registry for a real Pi: scripts/pi/setup-laptop.sh push).
app_push() {
    local reg="${OLED_REGISTRY:-127.0.0.1:5000}" v log="${OLED_LATTICE_STATE:-$OLED_REPO/.state/lattice}/logs/push.log"
    v="$(app_version)"
    mkdir -p "$(dirname "$log")"
    log "wash push $reg/oled-lattice/{oled-display,oled-panel}:$v, http-server:$APP_HTTP_SERVER_VERSION"
    if ! {
        app_push_one "$reg/oled-lattice/oled-display:$v" "$APP_BUILD/oled_display_s.wasm" &&
            app_push_one "$reg/oled-lattice/oled-panel:$v" "$APP_BUILD/oled-panel.par.gz" &&
            app_push_one "$reg/oled-lattice/http-server:$APP_HTTP_SERVER_VERSION" "$APP_BUILD/http-server.par.gz"
    } >>"$log" 2>&1; then
        tail -n 5 "$log" >&2
        log "wash push to $reg failed; see $log"
        return 1
    fi
}

# app_deploy MANIFEST [TIMEOUT_S]: push the artefacts, replace any earlier deployment, deploy, wait
# until deployed.
app_deploy() {
    local manifest="$1" timeout="${2:-180}" deadline
    app_push || return 1
    wash app undeploy "$APP_NAME" >/dev/null 2>&1 || true
    wash app delete "$APP_NAME" --all-versions >/dev/null 2>&1 || wash app delete "$APP_NAME" >/dev/null 2>&1 || true
    log "wash app deploy $manifest"
    wash app deploy "$manifest"
    deadline=$((SECONDS + timeout))
    until app_status_is deployed; do
        if ((SECONDS >= deadline)); then
            wash app status "$APP_NAME" || true
            log "not deployed after ${timeout}s; host logs: $OLED_LATTICE_STATE/logs/"
            return 1
        fi
        sleep 2
    done
    log "deployed: $APP_NAME"
}

# app_wait_ready [TIMEOUT_S]: "deployed" means wadm sent its commands, not that the component has
# subscribed, its link has arrived and the panel answers. Wait (bounded) until a status call goes the
# whole way: display component -> its link -> the panel on the pi host.
app_wait_ready() {
    local timeout="${1:-90}" deadline answer=""
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        answer="$(OLED_WASH_CALL_TIMEOUT=5 wash_call oled-display oled-lattice:display/invoke.status 2>&1 || true)"
        if grep -q '"status":{' <<<"$answer"; then
            log "ready: the display component answers and reaches the panel"
            app_wait_http $((deadline - SECONDS))
            return
        fi
        sleep 1
    done
    log "not ready after ${timeout}s: the display component or its panel does not answer yet; last answer:"
    printf '%s\n' "$answer" | tail -n 3 >&2
    # A host keeps a policy decision per component id and image tag: an image refused once (say, an
    # old one signed by another key, redeployed from wadm's state before the new push) stays refused
    # under that tag until the host restarts.
    local denied
    denied="$(grep -h "Policy denied request to scale component \`oled-display\`" \
        "${OLED_LATTICE_STATE:-$OLED_REPO/.state/lattice}"/logs/host-*.log 2>/dev/null | tail -n 1 || true)"
    if [[ -n "$denied" ]]; then
        log "the policy refused oled-display: ${denied##*err=}"
        log "hosts cache that decision per image tag; restart them: scripts/lattice.sh down && scripts/lattice.sh up"
    fi
    return 1
}

# app_wait_http [TIMEOUT_S]: wait until HTTP on $APP_HTTP (the HTTP server provider, through its link
# to the display) answers. The provider learns of its link from a message the host sends once; a
# provider still starting when the link is put can miss it and never listen. After 20 s without an
# answer the provider is stopped once, and wadm starts it again with its links in its start data.
APP_HTTP="${OLED_HTTP_URL:-http://127.0.0.1:8080/}"
app_wait_http() {
    local timeout="${1:-60}" deadline nudged=0 code
    deadline=$((SECONDS + (timeout > 30 ? timeout : 30)))
    local nudge_at=$((SECONDS + 20))
    while ((SECONDS < deadline)); do
        code="$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$APP_HTTP" 2>/dev/null || true)"
        if [[ "$code" == 200 ]]; then
            log "ready: HTTP answers at $APP_HTTP"
            return 0
        fi
        if ((nudged == 0 && SECONDS >= nudge_at)); then
            log "HTTP does not answer at $APP_HTTP yet (the HTTP server provider may have missed its link): restarting it once"
            wash stop provider http-server >/dev/null 2>&1 || true
            nudged=1
        fi
        sleep 1
    done
    log "HTTP does not answer at $APP_HTTP: the HTTP server provider has no link to the display"
    return 1
}

# panel_ascii: the panel's current contents, as the provider reports it to anyone on the lattice.
panel_ascii() {
    wash_call oled-panel oled-lattice:panel/inspect.ascii 2>/dev/null | grep -E '^[.#]+$'
}

# app_bench_lattice: what a lattice benchmark starts from: the tools, the artefacts just built, a
# running local lattice (brought up if none runs: app_bench_done takes down only that one), and the
# app (re)deployed from them and answering. Always redeploys: a lattice that comes up with its
# JetStream state redeploys the previous deployment at once, and the bench would measure stale
# artefacts. Call `trap app_bench_done EXIT` first.
APP_BENCH_STARTED=0
app_bench_lattice() {
    bash "$OLED_REPO/scripts/install-tools.sh" >/dev/null
    app_build >/dev/null
    if ! bash "$OLED_REPO/scripts/lattice.sh" status >/dev/null 2>&1; then
        bash "$OLED_REPO/scripts/lattice.sh" up >/dev/null
        APP_BENCH_STARTED=1
    fi
    app_env
    app_deploy "$APP_MANIFEST_LOCAL" >/dev/null
    app_wait_ready 90 >/dev/null
}
app_bench_done() {
    if [[ "$APP_BENCH_STARTED" == 1 ]]; then
        bash "$OLED_REPO/scripts/lattice.sh" down >/dev/null 2>&1 || true
    fi
}
