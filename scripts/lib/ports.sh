# shellcheck shell=bash
# Every lattice this project brings up on one machine, with its ports, registry, HTTP address, name
# and state dir, in one table: the demo's (the defaults of scripts/lattice.sh and of wadm/*.yaml), and
# the test and bench lattices'. No two share anything, so `./scripts/demo.sh` followed by
# `./scripts/test.sh` (the README's order) works with the demo lattice still running; the harness
# stage plants a shared port and sees `lattice.sh up` refuse it.
#
#   ports_export NAME     export OLED_* for lattice NAME (demo, e2e, fleet, faults, pihost)
#   ports_of NAME         print NAME's TCP ports, one a line
#
# Test ports stay below 32768, where Linux does not hand out ephemeral ports.
# shellcheck disable=SC2034 # read by the scripts that source this file

#                 hub   leaf  leafnode hub-http leaf-http hall  hall-http registry http
PORTS_demo=(4222 4223 7422 8222 8223 4224 8224 5000 8080)
PORTS_e2e=(14222 14223 17422 18222 18223 14224 18224 15000 18080)
PORTS_fleet=(24222 24223 27422 28222 28223 24224 28224 25000 28080)
PORTS_faults=(22222 22223 22422 22822 22823 22224 22824 22500 22080)
PORTS_pihost=(23222 23223 23422 23822 23823 23224 23824 23500 23080)

ports_export() {
    local name="$1" p state lattice
    case "$name" in
        demo) p=("${PORTS_demo[@]}") state="$OLED_REPO/.state/lattice" lattice=default ;;
        e2e) p=("${PORTS_e2e[@]}") state="${OLED_E2E_STATE:-$OLED_REPO/.state/e2e}" lattice=e2e ;;
        fleet) p=("${PORTS_fleet[@]}") state="${OLED_FLEET_STATE:-$OLED_REPO/.state/fleet-e2e}" lattice=fleet ;;
        faults) p=("${PORTS_faults[@]}") state="$OLED_REPO/.state/faults" lattice=faults ;;
        pihost) p=("${PORTS_pihost[@]}") state="$OLED_REPO/.state/pihost" lattice=pihost ;;
        *) echo "ports_export: no lattice '$name' (demo, e2e, fleet, faults, pihost)" >&2; return 2 ;;
    esac
    export OLED_LATTICE_NAME="$lattice" OLED_LATTICE_STATE="$state"
    export OLED_HUB_PORT="${p[0]}" OLED_LEAF_PORT="${p[1]}" OLED_LEAFNODE_PORT="${p[2]}"
    export OLED_HUB_HTTP_PORT="${p[3]}" OLED_LEAF_HTTP_PORT="${p[4]}"
    export OLED_HALL_LEAF_PORT="${p[5]}" OLED_HALL_LEAF_HTTP_PORT="${p[6]}"
    export OLED_REGISTRY="127.0.0.1:${p[7]}" OLED_HTTP_ADDR="127.0.0.1:${p[8]}"
}

ports_of() {
    local -n arr="PORTS_$1"
    printf '%s\n' "${arr[@]}"
}
