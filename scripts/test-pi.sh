#!/usr/bin/env bash
# Tests of the Raspberry Pi side, all on this machine (x86_64), network only on 127.0.0.1.
#
# usage: scripts/test-pi.sh [--fast] [TEST...]
#   lint        shellcheck on every Pi script (Debian package shellcheck)
#   units       systemd-analyze verify of scripts/pi/systemd/*.service in a temporary root holding
#               the binaries they name, a negative control, and the directives that matter
#   setup       the setup scripts' functions: credentials (mode 600), configs (nats-server -t),
#               config.txt editing, i2cdetect parsing
#   leaf        LOOPBACK: hub NATS with the generated leaf authorization, a leaf with the
#               credentials is accepted (/leafz: 1), with wrong / no credentials refused
#               (/leafz: 0, "authentication error" in the hub log)
#   pihost      the aarch64 wasmCloud host (scripts/build-pi.sh --host) under qemu-aarch64, with
#               setup-pi.sh's host environment, joins through a leaf with the generated
#               credentials: `wash get hosts` on the hub shows device=pi, aarch64, JS domain core;
#               SIGTERM stops it cleanly. Skipped when that binary is not built.
#   cross       the provider's unit tests built for aarch64-unknown-linux-musl and run under
#               qemu-aarch64 (cargo runner)
#   qemu        the aarch64 release binary under qemu-aarch64: --version, --check-config (good
#               and bad), no host data on stdin -> an error that says so
#   par         scripts/build-par.sh --aarch64: one PAR with x86_64-linux and aarch64-linux, the
#               archived aarch64 binary identical to the one built
# Default: all of them. --fast: lint units setup leaf (nothing that compiles).
# Last line: "pi: N passed, N failed, N skipped" (scripts/lib/check.sh); exit status 1 when anything failed.
set -euo pipefail

# shellcheck source=scripts/pi/dev-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pi/dev-lib.sh"
# shellcheck source=scripts/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/check.sh"
# The setup scripts define functions only when sourced (their main runs when executed).
# shellcheck source=scripts/pi/setup-laptop.sh
source "$PI_REPO/scripts/pi/setup-laptop.sh"
# shellcheck source=scripts/pi/setup-pi.sh
source "$PI_REPO/scripts/pi/setup-pi.sh"

ALL_TESTS=(lint units setup leaf pihost cross qemu par)
FAST_TESTS=(lint units setup leaf)
MY_SCRIPTS=(scripts/build-pi.sh scripts/build-par.sh scripts/test-pi.sh scripts/bench-pi.sh
    scripts/pi/dev-lib.sh scripts/pi/setup-pi.sh scripts/pi/setup-laptop.sh)

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

selected=()
for arg in "$@"; do
    case "$arg" in
        --fast) selected+=("${FAST_TESTS[@]}") ;;
        -h | --help) usage; exit 0 ;;
        -*) usage >&2; pi_die "unknown option: $arg" ;;
        *)
            [[ " ${ALL_TESTS[*]} " == *" $arg "* ]] || pi_die "unknown test: $arg (${ALL_TESTS[*]})"
            selected+=("$arg")
            ;;
    esac
done
((${#selected[@]})) || selected=("${ALL_TESTS[@]}")

TMP="$(mktemp -d "${TMPDIR:-/tmp}/oled-test-pi.XXXXXX")"
mkdir -p "$TMP/pids"

# Every background process a test starts is recorded in $TMP/pids; the trap ends them all.
cleanup() {
    local f pid
    for f in "$TMP"/pids/*; do
        [[ -f "$f" ]] || continue
        pid="$(<"$f")"
        kill "$pid" 2>/dev/null || true
    done
    for f in "$TMP"/pids/*; do
        [[ -f "$f" ]] || continue
        pid="$(<"$f")"
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_bg NAME LOG CMD...: start CMD in the background, stdin from /dev/null.
start_bg() {
    local name="$1" log="$2"
    shift 2
    "$@" </dev/null >"$log" 2>&1 &
    echo $! >"$TMP/pids/$name"
}

# stop_bg NAME: stop one recorded process and wait for it.
stop_bg() {
    local f="$TMP/pids/$1" pid
    [[ -f "$f" ]] || return 0
    pid="$(<"$f")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$f"
}

# free_port: an unused TCP port on 127.0.0.1 (the kernel picks it).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until SECONDS CMD...: poll CMD every 0.25 s until it succeeds; false on timeout.
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.25
    done
}

# ok / bad DESCRIPTION: report one assertion; bad marks the running test failed (`fails` is the
# test function's local, reached through bash's dynamic scoping).
ok() { echo "  ok    $1"; }
bad() {
    echo "  FAIL  $1"
    fails=1
}

expect() { # expect DESCRIPTION CMD...: run CMD, print ok/FAIL, keep going on failure
    local what="$1"
    shift
    if "$@"; then
        echo "  ok    $what"
    else
        echo "  FAIL  $what"
        return 1
    fi
}

# ---------------------------------------------------------------------------------------------
t_lint() {
    pi_ensure_tool shellcheck shellcheck
    cd "$PI_REPO"
    echo "  shellcheck $(shellcheck --version | sed -n 's/^version: //p') on: ${MY_SCRIPTS[*]}"
    shellcheck -x "${MY_SCRIPTS[@]}"
    echo "  ok    no findings"
}

# ---------------------------------------------------------------------------------------------
t_units() {
    pi_ensure_tool systemd-analyze systemd
    local root="$TMP/sysroot" units="$PI_REPO/scripts/pi/systemd" out rc=0 b sysdir
    mkdir -p "$root/etc/systemd/system" "$root/usr/local/bin" "$root/bin" "$root/usr/lib/systemd"
    # The temporary root needs systemd's own units (sysinit.target, ...) to resolve dependencies.
    for sysdir in /usr/lib/systemd/system /lib/systemd/system; do
        if [[ -d "$sysdir" ]]; then
            cp -a "$sysdir" "$root/usr/lib/systemd/"
            break
        fi
    done
    # The binaries the units name (verify checks they exist and are executable).
    for b in usr/local/bin/nats-server usr/local/bin/wasmcloud-host bin/kill; do
        printf '#!/bin/sh\nexit 0\n' >"$root/$b"
        chmod 755 "$root/$b"
    done
    cp "$units"/nats-leaf.service "$units"/wasmcloud-host.service "$root/etc/systemd/system/"
    echo "  systemd-analyze verify --root=$root nats-leaf.service wasmcloud-host.service"
    out="$(systemd-analyze verify --man=no --root="$root" nats-leaf.service wasmcloud-host.service 2>&1)" || rc=$?
    [[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/    /'
    local fails=0
    expect "verify: exit 0 and no warnings" test "$rc" -eq 0 -a -z "$out" || fails=1

    # Negative controls: verify must see a misspelled directive and a missing binary.
    sed 's/^DevicePolicy=/DevicePolcy=/' "$units/wasmcloud-host.service" >"$root/etc/systemd/system/broken-test.service"
    out="$(systemd-analyze verify --man=no --root="$root" broken-test.service 2>&1 || true)"
    expect "verify reports a misspelled directive (negative control)" grep -q "Unknown key" <<<"$out" || fails=1
    rm "$root/etc/systemd/system/broken-test.service" "$root/usr/local/bin/wasmcloud-host"
    out="$(systemd-analyze verify --man=no --root="$root" wasmcloud-host.service 2>&1 || true)"
    expect "verify reports a missing ExecStart binary (negative control)" grep -q "not executable" <<<"$out" || fails=1

    local h="$units/wasmcloud-host.service" n="$units/nats-leaf.service"
    has() { grep -qx "$2" "$1"; }
    # shellcheck disable=SC2317 # called through check
    hasnt() { ! grep -q "^$2" "$1"; }
    expect "host: runs as wasmcloud" has "$h" "User=wasmcloud" || fails=1
    expect "host: SupplementaryGroups=i2c" has "$h" "SupplementaryGroups=i2c" || fails=1
    if has "$h" "DevicePolicy=closed" && has "$h" "DeviceAllow=char-i2c rw"; then
        ok "host: DevicePolicy=closed + DeviceAllow=char-i2c rw"
    else
        bad "host: DevicePolicy=closed + DeviceAllow=char-i2c rw"
    fi
    expect "host: no PrivateDevices= (would hide /dev/i2c-1)" hasnt "$h" "PrivateDevices=" || fails=1
    expect "host: no PrivateUsers= (would unmap group i2c)" hasnt "$h" "PrivateUsers=" || fails=1
    expect "host: no MemoryDenyWriteExecute= (wasmtime JIT)" hasnt "$h" "MemoryDenyWriteExecute=" || fails=1
    if has "$h" "ExecStart=/usr/local/bin/wasmcloud-host" && has "$h" "EnvironmentFile=$OLED_ETC/wasmcloud-host.env"; then
        ok "host: ExecStart + EnvironmentFile at setup-pi.sh's paths"
    else
        bad "host: ExecStart + EnvironmentFile at setup-pi.sh's paths"
    fi
    expect "host: works in /opt/oled-lattice (file://./build/... images)" \
        has "$h" "WorkingDirectory=$OLED_OPT" || fails=1
    expect "host: ordered after nats-leaf.service" grep -q '^After=.*nats-leaf.service' "$h" || fails=1
    if has "$n" "User=nats" && has "$n" "StateDirectory=nats-leaf"; then
        ok "leaf: runs as nats with state dir nats-leaf"
    else
        bad "leaf: runs as nats with state dir nats-leaf"
    fi
    expect "leaf: ExecStart reads setup-pi.sh's config" \
        has "$n" "ExecStart=/usr/local/bin/nats-server -c $OLED_ETC/nats-leaf.conf" || fails=1
    for u in nats-leaf wasmcloud-host; do
        cp "$units/$u.service" "$root/etc/systemd/system/"
        printf '#!/bin/sh\nexit 0\n' >"$root/usr/local/bin/wasmcloud-host"
        chmod 755 "$root/usr/local/bin/wasmcloud-host"
        echo "  info  $(systemd-analyze security --offline=yes --root="$root" "$u.service" 2>/dev/null | tail -n1 | sed 's/^→ //')"
    done
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
# A config.txt as Raspberry Pi OS (bookworm) ships it, abridged: I2C commented out, model
# sections at the end.
sample_config_txt() {
    cat <<'EOF'
# For more options and information see
# http://rpf.io/configtxt
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on
dtparam=audio=on
camera_auto_detect=1
display_auto_detect=1
dtoverlay=vc4-kms-v3d
max_framebuffers=2
arm_64bit=1
dtparam=i2c_arm_baudrate=100000

[cm4]
otg_mode=1

[all]

[pi4]
arm_boost=1
EOF
}

t_setup() {
    local d="$TMP/setup" fails=0 nats out
    mkdir -p "$d"

    # config.txt editing
    sample_config_txt >"$d/config.txt"
    oled_config_txt_ensure "$d/config.txt" "dtparam=i2c_arm=on" | sed 's/^/    /'
    oled_config_txt_ensure "$d/config.txt" "dtparam=i2c_arm_baudrate=400000" | sed 's/^/    /'
    out="$(oled_config_txt_ensure "$d/config.txt" "dtparam=i2c_arm=on")"
    expect "config.txt: second run changes nothing" grep -q '^unchanged' <<<"$out" || fails=1
    if [[ "$(grep -B2 -x 'dtparam=i2c_arm=on' "$d/config.txt" | head -n1)" == "[all]" ]]; then
        ok "config.txt: i2c_arm=on appended under [all] (not inside [pi4])"
    else
        bad "config.txt: i2c_arm=on appended under [all] (not inside [pi4])"
    fi
    if ! grep -q '^dtparam=i2c_arm_baudrate=100000' "$d/config.txt" &&
        [[ "$(grep '^dtparam=i2c_arm_baudrate' "$d/config.txt")" == 'dtparam=i2c_arm_baudrate=400000' ]]; then
        ok "config.txt: old 100 kHz setting commented out, 400 kHz is the only active one"
    else
        bad "config.txt: old 100 kHz setting commented out, 400 kHz is the only active one"
    fi
    expect "config.txt: other settings untouched" grep -qx 'dtparam=audio=on' "$d/config.txt" || fails=1

    # i2cdetect output parsing
    local head='     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f'
    local empty='30: -- -- -- -- -- -- -- -- -- -- -- -- -- -- -- -- '
    local at3c='30: -- -- -- -- -- -- -- -- -- -- -- -- 3c -- -- -- '
    local at3d='30: -- -- -- -- -- -- -- -- -- -- -- -- -- 3d -- -- '
    local uu='30: -- -- -- -- -- -- -- -- -- -- -- -- UU -- -- -- '
    if [[ "$(printf "%s\n%s\n" "$head" "$at3c" | oled_i2cdetect_find_panel)" == 0x3c ]]; then
        ok "i2cdetect: panel at 0x3c"
    else
        bad "i2cdetect: panel at 0x3c"
    fi
    if [[ "$(printf "%s\n%s\n" "$head" "$at3d" | oled_i2cdetect_find_panel)" == 0x3d ]]; then
        ok "i2cdetect: panel at 0x3d"
    else
        bad "i2cdetect: panel at 0x3d"
    fi
    if [[ "$(printf "%s\n%s\n" "$head" "$uu" | oled_i2cdetect_find_panel)" == "0x3c UU" ]]; then
        ok "i2cdetect: 0x3c claimed by a kernel driver (UU)"
    else
        bad "i2cdetect: 0x3c claimed by a kernel driver (UU)"
    fi
    if ! printf "%s\n%s\n" "$head" "$empty" | oled_i2cdetect_find_panel >/dev/null; then
        ok "i2cdetect: empty bus -> not found"
    else
        bad "i2cdetect: empty bus -> not found"
    fi

    # credentials + configs
    oled_gen_leaf_credentials "$d/hub/leaf-auth.conf" "$d/pi/leaf-remote.conf" 127.0.0.1 7422
    local pass_hub pass_pi
    pass_hub="$(sed -n 's/^ *password: "\([0-9a-f]*\)"$/\1/p' "$d/hub/leaf-auth.conf")"
    pass_pi="$(sed -n 's#.*nats-leaf://[^:]*:\([0-9a-f]*\)@.*#\1#p' "$d/pi/leaf-remote.conf")"
    if [[ "$(stat -c %a "$d/hub/leaf-auth.conf" "$d/pi/leaf-remote.conf" | sort -u)" == 600 ]]; then
        ok "credentials: both files mode 600"
    else
        bad "credentials: both files mode 600"
    fi
    if [[ ${#pass_hub} -eq 32 && "$pass_hub" == "$pass_pi" ]]; then
        ok "credentials: a 128-bit random password, the same on both sides"
    else
        bad "credentials: a 128-bit random password, the same on both sides"
    fi
    oled_gen_leaf_credentials "$d/again-auth.conf" "$d/again-remote.conf" 127.0.0.1 7422
    if ! grep -q "$pass_hub" "$d/again-auth.conf"; then
        ok "credentials: a second generation gives another password"
    else
        bad "credentials: a second generation gives another password"
    fi
    if ! oled_render_hub_conf "$d/x/hub.conf" 127.0.0.1:1 127.0.0.1:2 127.0.0.1:3 "$d/js" "$d/hub/leaf-auth.conf" 2>/dev/null; then
        ok "render: refuses an include outside the config's folder"
    else
        bad "render: refuses an include outside the config's folder"
    fi
    oled_render_hub_conf "$d/hub/nats-hub.conf" 127.0.0.1:4222 127.0.0.1:8222 0.0.0.0:7422 "$d/js" "$d/hub/leaf-auth.conf"
    oled_render_leaf_conf "$d/pi/nats-leaf.conf" 127.0.0.1:4222 127.0.0.1:8222 "$d/leafjs" "$d/pi/leaf-remote.conf"
    oled_render_host_env "$d/pi/wasmcloud-host.env" default 4222
    nats="$(pi_find_nats_server)"
    expect "hub config valid (nats-server -t)" "$nats" -c "$d/hub/nats-hub.conf" -t || fails=1
    expect "leaf config valid (nats-server -t)" "$nats" -c "$d/pi/nats-leaf.conf" -t || fails=1
    # setup-laptop.sh as a person runs it (into a temporary config dir): init, init again with
    # another hub address (keeps the password, updates the Pi's URL), --rotate (new password).
    local cfg="$d/laptop-cfg" laptop="$PI_REPO/scripts/pi/setup-laptop.sh" pw1 pw2 pw3
    remote_pw() { sed -n 's#.*nats-leaf://[^:]*:\([0-9a-f]*\)@.*#\1#p' "$cfg/pi/leaf-remote.conf"; }
    OLED_LATTICE_CONFIG="$cfg" OLED_LATTICE_DATA="$d/laptop-data" "$laptop" --hub-host 127.0.0.1 >"$d/laptop1.log" 2>&1
    pw1="$(remote_pw)"
    OLED_LATTICE_CONFIG="$cfg" OLED_LATTICE_DATA="$d/laptop-data" "$laptop" --hub-host 127.0.0.2 >"$d/laptop2.log" 2>&1
    pw2="$(remote_pw)"
    OLED_LATTICE_CONFIG="$cfg" OLED_LATTICE_DATA="$d/laptop-data" "$laptop" --hub-host 127.0.0.2 --rotate >"$d/laptop3.log" 2>&1
    pw3="$(remote_pw)"
    sed -n '/^Next steps/,$p' "$d/laptop1.log" | sed 's/^/    | /'
    if [[ ${#pw1} -eq 32 && "$pw1" == "$pw2" && "$pw3" != "$pw1" ]] &&
        grep -q "@127.0.0.2:7422\"" "$cfg/pi/leaf-remote.conf" &&
        grep -q "$pw3" "$cfg/hub/leaf-auth.conf"; then
        ok "setup-laptop.sh: init keeps the password, follows --hub-host, --rotate renews it"
    else
        bad "setup-laptop.sh: init keeps the password, follows --hub-host, --rotate renews it"
    fi
    if [[ "$(stat -c %a "$cfg")" == 700 && "$(stat -c %a "$cfg/hub/leaf-auth.conf" "$cfg/pi/leaf-remote.conf" | sort -u)" == 600 ]]; then
        ok "setup-laptop.sh: config dir 700, secrets 600"
    else
        bad "setup-laptop.sh: config dir 700, secrets 600"
    fi

    local env="$d/pi/wasmcloud-host.env"
    if grep -qx WASMCLOUD_JS_DOMAIN=core "$env" && grep -qx WASMCLOUD_LABEL_device=pi "$env" &&
        grep -qx WASMCLOUD_NATS_HOST=127.0.0.1 "$env"; then
        ok "host env: JS domain core, label device=pi, local leaf"
    else
        bad "host env: JS domain core, label device=pi, local leaf"
    fi
    if ! grep -q "$pass_hub" "$d/hub/nats-hub.conf" "$d/pi/nats-leaf.conf"; then
        ok "no secret in the rendered (non-secret) configs"
    else
        bad "no secret in the rendered (non-secret) configs"
    fi
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
leafz_count() { # leafz_count HTTP_PORT: number of leaf connections the server reports
    curl -fsS "http://127.0.0.1:$1/leafz" 2>/dev/null | sed -n 's/.*"leafnodes": *\([0-9]*\).*/\1/p'
}
leafz_is() { [[ "$(leafz_count "$1")" == "$2" ]]; }
count_in() { grep -c "$2" "$1" 2>/dev/null || true; }
more_in_log() { (($(count_in "$1" "$2") > $3)); }

t_leaf() {
    pi_ensure_tool curl curl
    local d="$TMP/leaf" nats fails=0 hub_port hub_http leaf_port
    nats="$(pi_find_nats_server)"
    echo "  nats-server: $nats ($("$nats" --version))"
    hub_port="$(free_port)"
    hub_http="$(free_port)"
    leaf_port="$(free_port)"
    mkdir -p "$d/hub" "$d/good" "$d/wrong" "$d/none"

    # The setup script's own functions make the credentials and configs.
    oled_gen_leaf_credentials "$d/hub/leaf-auth.conf" "$d/good/leaf-remote.conf" 127.0.0.1 "$leaf_port"
    oled_render_hub_conf "$d/hub/nats-hub.conf" "127.0.0.1:$hub_port" "127.0.0.1:$hub_http" \
        "127.0.0.1:$leaf_port" "$d/hub/js" "$d/hub/leaf-auth.conf"
    # wrong password: same user, another random password; none: no user info in the URL
    sed "s#\(nats-leaf://[^:]*:\)[0-9a-f]*@#\1$(oled_random_secret)@#" "$d/good/leaf-remote.conf" >"$d/wrong/leaf-remote.conf"
    sed 's#nats-leaf://[^@]*@#nats-leaf://#' "$d/good/leaf-remote.conf" >"$d/none/leaf-remote.conf"
    local v
    for v in good wrong none; do
        oled_render_leaf_conf "$d/$v/nats-leaf.conf" "127.0.0.1:$(free_port)" "127.0.0.1:$(free_port)" \
            "$d/$v/js" "$d/$v/leaf-remote.conf"
    done

    echo "  hub: clients 127.0.0.1:$hub_port, monitoring 127.0.0.1:$hub_http, leaf nodes 127.0.0.1:$leaf_port"
    start_bg hub "$d/hub.log" "$nats" -c "$d/hub/nats-hub.conf"
    expect "hub up (monitoring answers /leafz: 0 leafs)" wait_until 20 leafz_is "$hub_http" 0 ||
        { tail -n 20 "$d/hub.log"; return 1; }

    start_bg leaf-good "$d/leaf-good.log" "$nats" -c "$d/good/nats-leaf.conf"
    expect "leaf WITH the generated credentials: accepted (/leafz: 1)" wait_until 20 leafz_is "$hub_http" 1 || fails=1
    expect "  hub log: JetStream domains core (hub) / pi (leaf)" \
        grep -q 'JetStream using domains: local "core", remote "pi"' "$d/hub.log" || fails=1
    stop_bg leaf-good
    expect "  leaf stopped: /leafz back to 0" wait_until 20 leafz_is "$hub_http" 0 || fails=1

    local label
    for v in wrong none; do
        label="$([[ $v == wrong ]] && echo "a WRONG password" || echo "NO credentials")"
        local before
        before="$(count_in "$d/hub.log" "authentication error")"
        start_bg "leaf-$v" "$d/leaf-$v.log" "$nats" -c "$d/$v/nats-leaf.conf"
        expect "leaf with $label: hub logs an authentication error" \
            wait_until 20 more_in_log "$d/hub.log" "authentication error" "$before" || fails=1
        expect "  and refuses it (/leafz: 0)" leafz_is "$hub_http" 0 || fails=1
        expect "  the leaf is told 'Authorization Violation'" \
            wait_until 10 grep -q "Authorization Violation" "$d/leaf-$v.log" || fails=1
        stop_bg "leaf-$v"
    done
    grep -h 'authentication error\|Authentication Failure' "$d/hub.log" | sed 's/^/    hub: /' | cut -c1-140
    stop_bg hub
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
t_pihost() {
    local hostbin="$PI_TARGET_DIR/$PI_TRIPLE/release/oled-wasmcloud-host"
    if [[ ! -x "$hostbin" ]]; then
        echo "  skip  no aarch64 host binary at $hostbin"
        echo "        (scripts/build-pi.sh --host builds it: ~20 min on 2 cores)"
        return 77
    fi
    local d="$TMP/pihost" qemu nats wash fails=0 hub_port hub_http leaf_port leaf_client leaf_http
    qemu="$(pi_find_qemu)"
    nats="$(pi_find_nats_server)"
    wash="$(pi_find_wash)"
    pi_wash_isolate "$d/wash"
    hub_port="$(free_port)"
    hub_http="$(free_port)"
    leaf_port="$(free_port)"
    leaf_client="$(free_port)"
    leaf_http="$(free_port)"
    mkdir -p "$d/hub" "$d/pi"
    oled_gen_leaf_credentials "$d/hub/leaf-auth.conf" "$d/pi/leaf-remote.conf" 127.0.0.1 "$leaf_port"
    oled_render_hub_conf "$d/hub/nats-hub.conf" "127.0.0.1:$hub_port" "127.0.0.1:$hub_http" \
        "127.0.0.1:$leaf_port" "$d/hub/js" "$d/hub/leaf-auth.conf"
    oled_render_leaf_conf "$d/pi/nats-leaf.conf" "127.0.0.1:$leaf_client" "127.0.0.1:$leaf_http" \
        "$d/pi/js" "$d/pi/leaf-remote.conf"
    oled_render_host_env "$d/pi/wasmcloud-host.env" default "$leaf_client"

    start_bg hub "$d/hub.log" "$nats" -c "$d/hub/nats-hub.conf"
    wait_until 20 leafz_is "$hub_http" 0 || { tail -n 20 "$d/hub.log"; return 1; }
    start_bg leaf "$d/leaf.log" "$nats" -c "$d/pi/nats-leaf.conf"
    expect "leaf joined the hub with the generated credentials" wait_until 20 leafz_is "$hub_http" 1 || return 1

    # The host environment exactly as wasmcloud-host.service loads it (EnvironmentFile), plus,
    # for qemu-user only, a small component pool: wasmtime's pooling allocator reserves address
    # space per slot, which costs nothing on the Pi but real memory under user-mode emulation.
    echo "  starting $hostbin under qemu-aarch64 with the settings of $OLED_ETC/wasmcloud-host.env"
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    start_bg pihost "$d/host.log" env WASMCLOUD_MAX_COMPONENTS=8 WASMCLOUD_MAX_CORE_INSTANCES_PER_COMPONENT=8 \
        bash -c 'set -a; . "$1"; set +a; exec "$2" "$3"' host-env "$d/pi/wasmcloud-host.env" "$qemu" "$hostbin"
    hosts_json() { "$wash" get hosts --ctl-host 127.0.0.1 --ctl-port "$hub_port" -o json 2>/dev/null; }
    # shellcheck disable=SC2317 # called through wait_until
    pi_host_seen() { grep -q '"device": "pi"' <<<"$(hosts_json)"; }
    if check "the aarch64 host appears in \`wash get hosts\` on the hub" wait_until 90 pi_host_seen; then
        local json
        json="$(hosts_json)"
        grep -E '"(device|hostcore.arch|js_domain|lattice)"' <<<"$json" | sed 's/^ */    /'
        if grep -q '"hostcore.arch": "aarch64"' <<<"$json" && grep -q '"js_domain": "core"' <<<"$json"; then
            ok "  labels: device=pi, hostcore.arch=aarch64; JetStream domain core"
        else
            bad "  labels: device=pi, hostcore.arch=aarch64; JetStream domain core"
        fi
    else
        fails=1
        tail -n 15 "$d/host.log"
    fi
    local pid
    pid="$(<"$TMP/pids/pihost")"
    kill -TERM "$pid" 2>/dev/null || true
    # shellcheck disable=SC2317 # called through wait_until
    host_gone() { ! kill -0 "$pid" 2>/dev/null; }
    expect "SIGTERM (systemctl stop) stops the host cleanly" wait_until 20 host_gone || fails=1
    grep -q 'host stopped' "$d/host.log" || { bad "  'host stopped' in its log"; }
    stop_bg pihost
    stop_bg leaf
    stop_bg hub
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
t_cross() {
    local qemu log="$TMP/cross.log" rc=0 start
    pi_ensure_cross_toolchain
    qemu="$(pi_find_qemu)"
    cd "$PI_REPO"
    pi_provider_is_stub && echo "  note: the provider is still a stub; its test set is empty"
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER="$qemu"
    # Test targets that spawn the provider binary themselves (CARGO_BIN_EXE_*) exec an aarch64
    # ELF directly: that works only where the kernel hands aarch64 binaries to qemu (binfmt_misc).
    # Without it they are left out here; the `qemu` test runs the same binary through qemu.
    local targets=() left_out=() f name
    if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        for f in providers/oled-panel/tests/*.rs; do
            [[ -f "$f" ]] || continue
            name="$(basename "$f" .rs)"
            if grep -q 'CARGO_BIN_EXE' "$f"; then left_out+=("tests/$name.rs"); else targets+=(--test "$name"); fi
        done
        if ((${#left_out[@]})); then
            [[ -f providers/oled-panel/src/lib.rs ]] && targets+=(--lib)
            targets+=(--bins)
            echo "  note: no binfmt_misc entry for aarch64, so leaving out ${left_out[*]} (they exec the"
            echo "        aarch64 binary directly; the qemu test covers that binary). To include them, as root:"
            echo "        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc && /lib/systemd/systemd-binfmt"
        else
            targets=()
        fi
    fi
    start=$SECONDS
    # The binary's profile: the dependencies compiled for the tests are the ones the binary (the
    # `qemu` test, next) links, so the SDK tree is cross-compiled once.
    echo "  cargo-zigbuild test -p $PI_PACKAGE --profile $PI_PROFILE --target $PI_TRIPLE ${targets[*]} --no-run"
    export CARGO_TARGET_DIR="$PI_TARGET_DIR"
    cargo-zigbuild test -p "$PI_PACKAGE" --profile "$PI_PROFILE" --target "$PI_TRIPLE" "${targets[@]}" \
        --no-run >"$log" 2>&1 || rc=$?
    grep -E '^ +Executable ' "$log" | sed 's/^ */    /' || true
    if ((rc)); then
        tail -n 40 "$log"
        return 1
    fi
    echo "  built in $((SECONDS - start))s; running them under $qemu (CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_RUNNER)"
    cargo-zigbuild test -p "$PI_PACKAGE" --profile "$PI_PROFILE" --target "$PI_TRIPLE" "${targets[@]}" \
        >"$log" 2>&1 || rc=$?
    grep -E '^(test result|running [0-9]+ test|     Running )' "$log" | sed 's/^ */    /' || true
    if ((rc)); then
        grep -E 'FAILED|panicked|^error' "$log" | head -n 20 || true
        return 1
    fi
    echo "  ok    aarch64 unit tests pass under qemu"
}

# ---------------------------------------------------------------------------------------------
t_qemu() {
    local qemu bin version fails=0 out rc
    qemu="$(pi_find_qemu)"
    bin="$("$PI_REPO/scripts/build-pi.sh")"
    echo "  binary: $bin ($(stat -c %s "$bin") bytes)"
    if pi_provider_is_stub; then
        expect "stub binary runs under qemu-aarch64" "$qemu" "$bin"
        echo "  skip  --version / --check-config / host-data checks: providers/oled-panel is a stub"
        return 77
    fi
    version="$(pi_provider_version)"
    rc=0
    out="$(timeout 30 "$qemu" "$bin" --version </dev/null 2>&1)" || rc=$?
    echo "    \$ qemu-aarch64 oled-panel --version  -> exit $rc: $out"
    if [[ $rc -eq 0 && "$(head -n1 <<<"$out")" == "oled-panel $version" ]]; then
        ok "--version prints 'oled-panel $version' and exits 0"
    else
        bad "--version prints 'oled-panel $version' and exits 0"
    fi

    rc=0
    out="$(timeout 30 "$qemu" "$bin" --check-config address=0x3d size=128x32 </dev/null 2>&1)" || rc=$?
    echo "    \$ qemu-aarch64 oled-panel --check-config address=0x3d size=128x32  -> exit $rc: $(head -n1 <<<"$out")"
    if [[ $rc -eq 0 ]] && grep -q "^config ok" <<<"$out"; then
        ok "--check-config with a good config: exit 0, 'config ok'"
    else
        bad "--check-config with a good config: exit 0, 'config ok'"
    fi

    rc=0
    out="$(timeout 30 "$qemu" "$bin" --check-config address=0x99 </dev/null 2>&1)" || rc=$?
    echo "    \$ qemu-aarch64 oled-panel --check-config address=0x99  -> exit $rc: $(head -n1 <<<"$out")"
    if [[ $rc -eq 2 ]] && grep -q "^config error" <<<"$out" && grep -q "address" <<<"$out"; then
        ok "--check-config with a bad address: exit 2, 'config error' naming the key"
    else
        bad "--check-config with a bad address: exit 2, 'config error' naming the key"
    fi

    rc=0
    out="$(timeout 60 "$qemu" "$bin" </dev/null 2>&1)" || rc=$?
    echo "    \$ qemu-aarch64 oled-panel </dev/null  -> exit $rc: $(grep -i 'host data' <<<"$out" | head -n1 | cut -c1-160)"
    if [[ $rc -ne 0 && $rc -ne 124 ]] && grep -qi "host data" <<<"$out"; then
        ok "started without host data: non-zero exit, says 'host data'"
    else
        bad "started without host data: non-zero exit, says 'host data'"
    fi
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
t_par() {
    local par="$PI_REPO/build/oled-panel.par.gz" out fails=0 arm_bin x86_bin
    pi_find_wash >/dev/null
    out="$("$PI_REPO/scripts/build-par.sh" --aarch64 2>"$TMP/par.log")" || {
        tail -n 30 "$TMP/par.log"
        return 1
    }
    printf '%s\n' "$out" | sed 's/^/    /'
    expect "wash par inspect lists x86_64-linux" grep -q 'x86_64-linux' <<<"$out" || fails=1
    expect "wash par inspect lists aarch64-linux" grep -q 'aarch64-linux' <<<"$out" || fails=1
    # The archive is a gzipped tar: ARCH-OS.bin files plus the signed claims.
    mkdir -p "$TMP/par"
    tar -xzf "$par" -C "$TMP/par"
    arm_bin="$(pi_aarch64_bin)"
    x86_bin="$(pi_x86_64_bin)"
    find "$TMP/par" -type f -printf '    %f %s bytes\n'
    expect "archived aarch64-linux.bin == the cross-built binary" cmp -s "$TMP/par/aarch64-linux.bin" "$arm_bin" || fails=1
    expect "archived x86_64-linux.bin == the native binary" cmp -s "$TMP/par/x86_64-linux.bin" "$x86_bin" || fails=1
    local keys_here keys_in_repo
    keys_here="$(find "$PI_CACHE/wash/keys" -name '*.nk' 2>/dev/null)"
    keys_in_repo="$(git -C "$PI_REPO" ls-files --cached --others --exclude-standard | grep -E '\.nk$')" || true
    if [[ -n "$keys_here" && -z "$keys_in_repo" ]]; then
        ok "signing keys outside the repository"
    else
        bad "signing keys outside the repository"
    fi
    return "$fails"
}

# ---------------------------------------------------------------------------------------------
for t in "${selected[@]}"; do
    pi_log "=== test: $t"
    start=$SECONDS
    set +e
    (
        set -e
        "t_$t"
    )
    rc=$?
    set -e
    case "$rc" in
        0) pass "$t ($((SECONDS - start))s)" ;;
        77) skip "$t ($((SECONDS - start))s)" "it could not run here (see above)" ;;
        *) fail "$t ($((SECONDS - start))s)" ;;
    esac
done
check_report pi
