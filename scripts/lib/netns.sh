# shellcheck shell=bash
# A network namespace for the "pi" side of the local lattice, joined to the root namespace by a veth
# pair, so a test can cut the Pi's link for real (`ip link set <root end> down`): TCP connections stall
# as they do when Wi-Fi hangs, nothing is closed. The addresses exist only on this pair, inside this
# machine. Source after scripts/lib/common.sh.
#
#   netns_up NAME [HUB_ADDR PI_ADDR]   create it (idempotent) with the two /30 addresses (default
#                       NETNS_HUB_ADDR, NETNS_PI_ADDR: the root end's and the inner end's)
#   netns_down NAME     remove it and the pair
#   netns_link NAME up|down
# shellcheck disable=SC2034 # NETNS_HUB_ADDR is used by the scripts that source this file

NETNS_HUB_ADDR="10.213.7.1"
NETNS_PI_ADDR="10.213.7.2"

# netns_possible: true when this machine lets us make namespaces and veth pairs.
netns_possible() {
    command -v ip >/dev/null 2>&1 || return 1
    local probe="oledprobe$$"
    ip netns add "$probe" >/dev/null 2>&1 || return 1
    ip netns del "$probe" >/dev/null 2>&1
    return 0
}

netns_up() {
    local ns="$1" root="${1}0" inner="${1}1" hub="${2:-$NETNS_HUB_ADDR}" pi="${3:-$NETNS_PI_ADDR}"
    netns_down "$ns"
    ip netns add "$ns"
    ip link add "$root" type veth peer name "$inner"
    ip link set "$inner" netns "$ns"
    ip addr add "$hub/30" dev "$root"
    ip link set "$root" up
    ip netns exec "$ns" ip addr add "$pi/30" dev "$inner"
    ip netns exec "$ns" ip link set "$inner" up
    ip netns exec "$ns" ip link set lo up
}

netns_down() {
    local ns="$1"
    ip link del "${ns}0" >/dev/null 2>&1 || true
    ip netns del "$ns" >/dev/null 2>&1 || true
}

netns_link() {
    ip link set "${1}0" "$2"
}
