# shellcheck shell=bash
# The local lattice's services under oled-supervise (crates/supervise), sourced by scripts/lattice.sh
# after scripts/lib/common.sh (needs STATE, STOP_TIMEOUT and program_of from it).
#
# Each service runs under oled-supervise (crates/supervise) with the restart policy of the systemd
# unit that runs it on the laptop or the Pi (Restart=, RestartSec=, StartLimit*, TimeoutStopSec=):
# a killed host or NATS comes back here as it would there, with nobody restarting it by hand.
# run/NAME.pid names the service's own process (its process group: a host and its providers);
# run/NAME.sup.pid names its supervisor. SIGHUP to the supervisor restarts the service at once.
SUPERVISE_BIN="$OLED_REPO/target/release/oled-supervise"
unit_of() {
    local d="$OLED_REPO/scripts/pi/systemd"
    case "$1" in
        registry) echo "$d/laptop/oled-registry.service" ;;
        nats-hub) echo "$d/laptop/oled-hub.service" ;;
        policy) echo "$d/laptop/oled-policy.service" ;;
        wadm) echo "$d/laptop/oled-wadm.service" ;;
        host-laptop) echo "$d/laptop/oled-host.service" ;;
        nats-leaf*) echo "$d/nats-leaf.service" ;;
        host-*) echo "$d/wasmcloud-host.service" ;;
    esac
}
suppidfile() { echo "$STATE/run/$1.sup.pid"; }

# stop_service NAME: the supervisor first (it stops the service as its unit says: SIGTERM, SIGKILL
# after TimeoutStopSec=), then whatever is left of the service's group.
stop_service() {
    stop_group "$(suppidfile "$1")" "$1 (supervisor)" "$STOP_TIMEOUT" oled-supervise
    stop_group "$(pidfile "$1")" "$1" "$STOP_TIMEOUT" "$(program_of "$1")"
}

# supervise_ensure_built: the supervisor's binary, built when missing or older than its sources.
supervise_ensure_built() {
    if [[ ! -x "$SUPERVISE_BIN" || -n "$(find "$OLED_REPO/crates/supervise" -newer "$SUPERVISE_BIN" -type f 2>/dev/null | head -n1)" ]]; then
        log "building the supervisor (cargo build --release -p oled-supervise)"
        (cd "$OLED_REPO" && cargo build -q --release -p oled-supervise) || die "could not build the supervisor"
    fi
}
