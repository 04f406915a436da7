# shellcheck shell=bash
# shellcheck disable=SC2153 # OLED_LEAFNODE_PORT, OLED_REGISTRY: exported by ports.sh
# Attacks on a running local lattice, each tried for real twice: first against an unprotected setup
# of the same parts (a throwaway NATS server or registry without the protection, or the app deployed
# open), where it must work, or it proves nothing; then against ours, where it must be refused.
# Sourced after common.sh and check.sh, with the lattice's OLED_* variables exported (ports.sh).
#
#   attack NAME OPEN_FN SHUT_FN   one line "attack refused: NAME -- unprotected: ...; ours: ..."
#                                 (a pass) or "FAIL attack ..." (a failed check). OPEN_FN returns 0
#                                 when the attack worked there, SHUT_FN 0 when ours refused it; each
#                                 prints what answered.
#   attacks_open_up / attacks_open_down   the unprotected NATS servers and registry (below)
#   attacks_report                        "attacks: N/M refused"
#
# What is attacked here: the NATS client ports (anonymous clients, a caller answering the policy
# topic or commanding hosts), the leaf link (plaintext, or the right certificate without the leaf's
# credentials), the registry (anonymous push and delete) and the policy (a component signed by a
# foreign key, when STRANGER_IMAGE names one). The browser attacks are in
# test-e2e.sh (they need the app deployed open, then as shipped) and report through `attack` too.

ATTACKS_TRIED=0
ATTACKS_REFUSED=0
ATTACKS_DIR="$OLED_LATTICE_STATE/attacks"
ATTACKS_AUTH="$OLED_LATTICE_STATE/nats-auth"
NATS_PROBE="$OLED_REPO/target/release/nats-probe"
POLICY_SUBJECT="wasmcloud.policy.$OLED_LATTICE_NAME"
CONTROL_SUBJECT="wasmbus.ctl.v1.$OLED_LATTICE_NAME.host.ping"

attack() {
    local name="$1" open shut open_rc shut_rc
    open="$("$2" 2>&1)"
    open_rc=$?
    shut="$("$3" 2>&1)"
    shut_rc=$?
    open="$(tail -n 1 <<<"$open")"
    shut="$(tail -n 1 <<<"$shut")"
    ATTACKS_TRIED=$((ATTACKS_TRIED + 1))
    if ((open_rc != 0)); then
        fail "attack $name" "it did not work against the unprotected setup either, so it proves nothing: $open"
    elif ((shut_rc != 0)); then
        fail "attack $name" "NOT refused: $shut (unprotected: $open)"
    else
        ATTACKS_REFUSED=$((ATTACKS_REFUSED + 1))
        pass "attack refused: $name -- unprotected: $open; ours: $shut"
    fi
}

attacks_report() {
    echo "attacks: $ATTACKS_REFUSED/$ATTACKS_TRIED refused"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The unprotected setup: a NATS hub without operator mode and a plaintext leafnode listener, one
# with the lattice's mutual TLS on its leafnode listener but no operator mode (the lattice before
# its NATS accounts), and a registry without a login (the same config, deletes on).
ATTACKS_PIDS=()
attacks_open_up() {
    local tls="$OLED_LATTICE_STATE/tls" _
    mkdir -p "$ATTACKS_DIR/registry"
    OPEN_NATS_PORT="$(free_port)" OPEN_LEAFNODE_PORT="$(free_port)" OPEN_TLS_LEAFNODE_PORT="$(free_port)"
    OPEN_TLS_NATS_PORT="$(free_port)" OPEN_REGISTRY="127.0.0.1:$(free_port)"
    cat >"$ATTACKS_DIR/open-hub.conf" <<EOF
listen: 127.0.0.1:$OPEN_NATS_PORT
leafnodes { listen: 127.0.0.1:$OPEN_LEAFNODE_PORT }
EOF
    cat >"$ATTACKS_DIR/open-tls-hub.conf" <<EOF
listen: 127.0.0.1:$OPEN_TLS_NATS_PORT
leafnodes {
    listen: 127.0.0.1:$OPEN_TLS_LEAFNODE_PORT
    tls { cert_file: "$tls/hub.pem", key_file: "$tls/hub.key", ca_file: "$tls/ca.pem", verify: true, timeout: 2 }
}
EOF
    cat >"$ATTACKS_DIR/open-registry.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $ATTACKS_DIR/registry }, delete: { enabled: true } }
http: { addr: $OPEN_REGISTRY }
EOF
    "$OLED_TOOLS/bin/nats-server" -c "$ATTACKS_DIR/open-hub.conf" >"$ATTACKS_DIR/open-hub.log" 2>&1 &
    ATTACKS_PIDS+=($!)
    "$OLED_TOOLS/bin/nats-server" -c "$ATTACKS_DIR/open-tls-hub.conf" >"$ATTACKS_DIR/open-tls-hub.log" 2>&1 &
    ATTACKS_PIDS+=($!)
    docker-registry serve "$ATTACKS_DIR/open-registry.yml" >"$ATTACKS_DIR/open-registry.log" 2>&1 &
    ATTACKS_PIDS+=($!)
    for _ in $(seq 50); do
        tcp_open "$OPEN_NATS_PORT" && tcp_open "$OPEN_TLS_NATS_PORT" && tcp_open "${OPEN_REGISTRY##*:}" && return 0
        sleep 0.1
    done
    echo "the unprotected setup did not start: see $ATTACKS_DIR" >&2
    return 1
}

attacks_open_down() {
    local pid
    for pid in "${ATTACKS_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    ATTACKS_PIDS=()
}

# --- NATS clients --------------------------------------------------------------------------------
probe() { "$NATS_PROBE" "$@"; }
# refused_for REASON CMD...: CMD failed for REASON (a pattern in its output): a refusal, not an outage.
refused_for() {
    local reason="$1" out
    shift
    out="$("$@" 2>&1)" && { echo "$out"; return 1; }
    echo "$out"
    grep -qiE "$reason" <<<"$out"
}
open_anonymous() { OLED_NATS_CREDS='' probe connect "127.0.0.1:$OPEN_NATS_PORT"; }
shut_anonymous_hub() { OLED_NATS_CREDS='' refused_for authorization probe connect "127.0.0.1:$OLED_HUB_PORT"; }
shut_anonymous_leaf() { OLED_NATS_CREDS='' refused_for authorization probe connect "127.0.0.1:$OLED_LEAF_PORT"; }
open_policy() { OLED_NATS_CREDS='' OLED_NATS_SENDER_CREDS='' probe hears "127.0.0.1:$OPEN_NATS_PORT" "$POLICY_SUBJECT"; }
# A caller listens where a host asks the policy service: it could answer `permitted: true` first.
shut_policy() {
    OLED_NATS_CREDS="$ATTACKS_AUTH/caller.creds" OLED_NATS_SENDER_CREDS="$ATTACKS_AUTH/host.creds" \
        refused_for "nothing arrived" probe hears "127.0.0.1:$OLED_HUB_PORT" "$POLICY_SUBJECT"
}
open_control() { OLED_NATS_CREDS='' OLED_NATS_SENDER_CREDS='' probe hears "127.0.0.1:$OPEN_NATS_PORT" "$CONTROL_SUBJECT"; }
# A caller publishes a control command where a host listens.
shut_control() {
    OLED_NATS_CREDS="$ATTACKS_AUTH/host.creds" OLED_NATS_SENDER_CREDS="$ATTACKS_AUTH/caller.creds" \
        refused_for "nothing arrived" probe hears "127.0.0.1:$OLED_HUB_PORT" "$CONTROL_SUBJECT"
}

# --- the leaf link -------------------------------------------------------------------------------
# leaf_joins NAME REMOTE: a throwaway leaf NATS with that remote; prints how many leaf connections it
# has after 4 s and returns 0 for one (the hub took it), 1 for none, 2 when it could not tell.
leaf_joins() {
    local name="$1" remote="$2" port pid n
    port="$(free_port)"
    mkdir -p "$ATTACKS_DIR"
    cat >"$ATTACKS_DIR/$name.conf" <<EOF
listen: 127.0.0.1:-1
http: 127.0.0.1:$port
leafnodes { reconnect: 1, remotes: [ $remote ] }
EOF
    "$OLED_TOOLS/bin/nats-server" -c "$ATTACKS_DIR/$name.conf" >"$ATTACKS_DIR/$name.log" 2>&1 &
    pid=$!
    sleep 4
    n="$(curl -s --max-time 2 "http://127.0.0.1:$port/leafz" | python3 -c 'import json, sys; print(json.load(sys.stdin)["leafnodes"])' 2>/dev/null || echo "?")"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    echo "$n leaf connection(s)"
    case "$n" in 1) return 0 ;; 0) return 1 ;; *) return 2 ;; esac
}
# leaf_refused NAME REMOTE: the hub refused that leaf (not: the check could not tell).
leaf_refused() {
    local rc=0
    leaf_joins "$@" || rc=$?
    ((rc == 1))
}
own_leaf_tls() {
    local tls="$OLED_LATTICE_STATE/tls"
    echo "tls { cert_file: \"$tls/leaf.pem\", key_file: \"$tls/leaf.key\", ca_file: \"$tls/ca.pem\" }"
}
open_plain_leaf() { leaf_joins open-plain "{ url: \"nats://127.0.0.1:$OPEN_LEAFNODE_PORT\" }"; }
shut_plain_leaf() { leaf_refused shut-plain "{ url: \"nats://127.0.0.1:$OLED_LEAFNODE_PORT\" }"; }
open_leaf_nocreds() { leaf_joins open-nocreds "{ url: \"tls://127.0.0.1:$OPEN_TLS_LEAFNODE_PORT\", $(own_leaf_tls) }"; }
shut_leaf_nocreds() { leaf_refused shut-nocreds "{ url: \"tls://127.0.0.1:$OLED_LEAFNODE_PORT\", $(own_leaf_tls) }"; }

# --- the registry --------------------------------------------------------------------------------
ZERO_DIGEST="sha256:$(printf '0%.0s' $(seq 64))"
# registry_status METHOD URL: the HTTP status of one anonymous request.
registry_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X "$1" "$2"; }
# The start of a push (a blob upload): 202 when it may go on.
open_push() { local s; s="$(registry_status POST "http://$OPEN_REGISTRY/v2/attack/blobs/uploads/")"; echo "push started: $s"; [[ "$s" == 202 ]]; }
shut_push() { local s; s="$(registry_status POST "http://$OLED_REGISTRY/v2/attack/blobs/uploads/")"; echo "push: $s"; [[ "$s" == 401 ]]; }
# A delete of a manifest: anything but 401 means the registry did not ask who it was.
open_delete() { local s; s="$(registry_status DELETE "http://$OPEN_REGISTRY/v2/attack/manifests/$ZERO_DIGEST")"; echo "delete: $s"; [[ "$s" =~ ^(202|404)$ ]]; }
shut_delete() { local s; s="$(registry_status DELETE "http://$OLED_REGISTRY/v2/oled-lattice/oled-display/manifests/$ZERO_DIGEST")"; echo "delete: $s"; [[ "$s" == 401 ]]; }

# --- a component signed by a foreign key ---------------------------------------------------------
# The unprotected setup: a host of our own on this lattice that asks no policy (label device=open);
# ours: the lattice's laptop host, which asks the policy service. STRANGER_IMAGE is a component
# signed with a key of its own, pushed by the caller (test-e2e.sh's policy check).
# Its pid is kept in a file, the only record: `attack` runs the open side in a command
# substitution, so a variable set there is gone in the caller. open_host_down (after the attack and
# in e2e's teardown) stops it from that file; a run cut off before that leaves a host without the
# policy that would rejoin the next run's lattice with the same credentials and run anything placed
# on it, so open_host_up (and e2e, before its lattice comes up) stops a stale one first.
OPEN_HOST_PIDFILE="$ATTACKS_DIR/open-host.pid"
# open_host_pid: the pid in the file while it is still our host without the policy.
open_host_pid() {
    local pid
    [[ -s "$OPEN_HOST_PIDFILE" ]] || return 1
    pid="$(<"$OPEN_HOST_PIDFILE")"
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *oled-wasmcloud-host* ]] || return 1
    echo "$pid"
}
open_host_down() {
    local pid _
    # The harness stage plants the leak this once was (the host never stopped).
    [[ "${OLED_HARNESS_PLANT:-}" == open-host-leaks ]] && return 0
    if pid="$(open_host_pid)"; then
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null
    fi
    rm -f "$OPEN_HOST_PIDFILE"
}
# open_host_gone PID: the host without the policy that ran as PID (read before open_host_down) is gone.
open_host_gone() {
    [[ -n "$1" ]] && ! kill -0 "$1" 2>/dev/null
}
open_host_reap_stale() {
    local pid
    if pid="$(open_host_pid)"; then
        echo "stopping the host without a policy that an earlier run left behind (pid $pid)"
    fi
    open_host_down
}
open_host_up() {
    local _
    open_host_reap_stale
    mkdir -p "$ATTACKS_DIR/open-host-tmp"
    env -i PATH="$PATH" HOME="$HOME" TMPDIR="$ATTACKS_DIR/open-host-tmp" \
        WASMCLOUD_LATTICE="$OLED_LATTICE_NAME" WASMCLOUD_NATS_HOST=127.0.0.1 WASMCLOUD_NATS_PORT="$OLED_HUB_PORT" \
        WASMCLOUD_NATS_CREDS="$ATTACKS_AUTH/host.creds" WASMCLOUD_JS_DOMAIN=core \
        WASMCLOUD_OCI_ALLOWED_INSECURE="$OLED_REGISTRY" WASMCLOUD_OCI_REGISTRY="$OLED_REGISTRY" \
        WASMCLOUD_OCI_REGISTRY_USER=host WASMCLOUD_OCI_REGISTRY_PASSWORD="$(<"$ATTACKS_AUTH/registry/host.password")" \
        WASMCLOUD_LABEL_device=open "$OLED_TOOLS/bin/oled-wasmcloud-host" >"$ATTACKS_DIR/open-host.log" 2>&1 &
    echo "$!" >"$OPEN_HOST_PIDFILE"
    for _ in $(seq 60); do
        wash get hosts -o json 2>/dev/null | grep -q '"device": *"open"' && return 0
        sleep 0.5
    done
    echo "the host without a policy did not join: see $ATTACKS_DIR/open-host.log"
    return 1
}
# foreign_app DEVICE: an app of the stranger's component alone, placed on the host labelled DEVICE.
foreign_app() {
    cat <<YAML
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: oled-foreign-$1
  annotations:
    version: v0.0.$RANDOM
spec:
  components:
    - name: foreign
      type: component
      properties:
        image: $STRANGER_IMAGE
        id: foreign-$1
      traits:
        - type: spreadscaler
          properties:
            instances: 1
            spread:
              - name: $1
                requirements:
                  device: $1
YAML
}
# foreign_on DEVICE: deploy it there; prints what happened; 0 when it ran (seen in the inventory),
# 1 when wash app status says the policy refused it, 2 when neither within 60 s.
foreign_on() {
    local device="$1" out="" rc=2 _
    foreign_app "$device" >"$ATTACKS_DIR/foreign-$device.yaml"
    wash app deploy "$ATTACKS_DIR/foreign-$device.yaml" >"$ATTACKS_DIR/foreign-$device.log" 2>&1 || { echo "deploy failed"; return 2; }
    for _ in $(seq 60); do
        if wash get inventory --output json 2>/dev/null | grep -q "\"foreign-$device\""; then
            echo "it runs on the host labelled device=$device"
            rc=0
            break
        fi
        out="$(wash app status "oled-foreign-$device" 2>&1)"
        if grep -q "Policy denied" <<<"$out"; then
            echo "policy denied: $(grep -o "is signed by issuer [A-Z0-9]*, which is not in the allow-list" <<<"$out" | head -n 1)"
            rc=1
            break
        fi
        sleep 1
    done
    ((rc == 2)) && echo "neither ran nor refused within 60 s: $(tail -n 2 <<<"$out")"
    wash app undeploy "oled-foreign-$device" >/dev/null 2>&1
    wash app delete "oled-foreign-$device" --all-versions >/dev/null 2>&1
    return "$rc"
}
open_foreign() { open_host_up && foreign_on open; }
shut_foreign() {
    local rc=0
    foreign_on laptop || rc=$?
    ((rc == 1))
}

# attacks_on_the_lattice: every attack above, against the unprotected setup, then ours.
attacks_on_the_lattice() {
    if ! attacks_open_up; then
        fail "attacks: the unprotected setup to try them on" "see $ATTACKS_DIR"
        attacks_open_down
        return
    fi
    attack "an anonymous client on the hub NATS" open_anonymous shut_anonymous_hub
    attack "an anonymous client on the leaf NATS" open_anonymous shut_anonymous_leaf
    attack "a caller listening on the policy topic (to answer permitted first)" open_policy shut_policy
    attack "a caller sending a control command to the hosts" open_control shut_control
    attack "a plaintext leaf joining the hub" open_plain_leaf shut_plain_leaf
    attack "a leaf with the lattice's certificate but not the leaf's credentials" open_leaf_nocreds shut_leaf_nocreds
    attack "an anonymous push to the registry" open_push shut_push
    attack "an anonymous delete in the registry" open_delete shut_delete
    attacks_open_down
    if [[ -n "${STRANGER_IMAGE:-}" ]]; then
        attack "a component signed by a foreign key" open_foreign shut_foreign
        local left
        left="$(open_host_pid)"
        open_host_down
        check "attacks: the host without the policy is stopped after its attack" open_host_gone "$left"
    fi
}
