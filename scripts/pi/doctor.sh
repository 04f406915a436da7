#!/usr/bin/env bash
# Checks of the Pi side of the oled-lattice, in the order things depend on each other; each failed
# check says how to fix it. Run it ON the Pi as root (setup-pi.sh installs it as
# oled-lattice-doctor), or from the laptop: scripts/pi/install.sh --doctor user@pi.
#
# usage: sudo oled-lattice-doctor [--bus N] [--address 0x3c]
#        oled-lattice-doctor --certs [--tls-dir DIR]   only the certificates' expiry (no root needed)
#
# Checks: I2C enabled; /dev/i2c-N present; readable and writable by the service user; a device
# answering at the address; what the bus says about the controller; the services running; the leaf
# link to the laptop up; the host's identity kept; the provider running; the leaf link's
# certificates valid for 30 more days.
# Last line: "doctor: N ok, M failed"; exit status 1 when anything failed.
set -uo pipefail

BUS=1
ADDRESS=0x3c
HOST_USER=wasmcloud
ETC=/etc/oled-lattice
RUN=/run/oled-lattice
OK=0
FAILED=0
CERTS_ONLY=0
TLS_DIR=/etc/oled-lattice/tls
# A certificate that ends within this many days fails the check (renew it before the link breaks).
WARN_DAYS=30

while (($#)); do
    case "$1" in
        --bus) BUS="$2"; shift 2 ;;
        --address) ADDRESS="$2"; shift 2 ;;
        --certs) CERTS_ONLY=1; shift ;;
        --tls-dir) TLS_DIR="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown option: $1" >&2; exit 2 ;;
    esac
done

ok() { printf 'ok    %s\n' "$1"; OK=$((OK + 1)); }
# bad WHAT FIX: a failed check and how to fix it.
bad() { printf 'FAIL  %s\n      fix: %s\n' "$1" "$2"; FAILED=$((FAILED + 1)); }
info() { printf 'info  %s\n' "$1"; }

# The leaf link's certificates (the Pi's own and the project's CA): the link breaks the day one ends.
check_certs() {
    local f end
    if ! command -v openssl >/dev/null 2>&1; then
        bad "openssl is missing: the certificates' expiry cannot be checked" "sudo apt-get install openssl"
        return
    fi
    for f in "$TLS_DIR/leaf.pem" "$TLS_DIR/ca.pem"; do
        if [[ ! -s "$f" ]]; then
            bad "no certificate at $f" "rerun scripts/pi/install.sh from the laptop"
            continue
        fi
        end="$(openssl x509 -enddate -noout -in "$f" 2>/dev/null | sed 's/^notAfter=//')"
        if openssl x509 -checkend $((WARN_DAYS * 86400)) -noout -in "$f" >/dev/null 2>&1; then
            ok "certificate $f is valid until $end"
        else
            bad "certificate $f ends $end: in less than $WARN_DAYS days (the leaf link breaks then)" \
                "on the laptop: scripts/pi/setup-laptop.sh renew, then scripts/pi/install.sh user@pi"
        fi
    done
}
if ((CERTS_ONLY)); then
    check_certs
    echo "doctor: $OK ok, $FAILED failed"
    ((FAILED == 0))
    exit
fi

[[ $EUID -eq 0 ]] || { echo "error: run it as root: sudo $0" >&2; exit 2; }
info "$(uname -srm); $(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown OS}")"

# 1. I2C enabled in the firmware config (raspi-config's view where it exists).
i2c_enabled() {
    local f
    if command -v raspi-config >/dev/null 2>&1; then
        [[ "$(raspi-config nonint get_i2c 2>/dev/null)" == 0 ]] && return 0
    fi
    for f in /boot/firmware/config.txt /boot/config.txt; do
        [[ -f "$f" ]] && grep -Eq '^[[:space:]]*dtparam=(i2c_arm|i2c)=on' "$f" && return 0
    done
    return 1
}
if i2c_enabled; then
    ok "I2C is enabled (dtparam=i2c_arm=on)"
else
    bad "I2C is not enabled" "sudo raspi-config nonint do_i2c 0 (or rerun setup-pi.sh / install.sh), then sudo reboot"
fi

# 2. The bus device.
dev="/dev/i2c-$BUS"
if [[ -c "$dev" ]]; then
    ok "$dev is present"
else
    bad "$dev is missing" "I2C was enabled but not loaded yet: sudo modprobe i2c-dev, or sudo reboot"
fi

# 3. The service user may use it (the host runs the provider as $HOST_USER).
if ! id -u "$HOST_USER" >/dev/null 2>&1; then
    bad "no user $HOST_USER" "rerun scripts/pi/install.sh (it creates the service users)"
elif [[ -c "$dev" ]] && runuser -u "$HOST_USER" -- test -r "$dev" -a -w "$dev"; then
    ok "$HOST_USER can read and write $dev (groups: $(id -nG "$HOST_USER"))"
else
    bad "$HOST_USER cannot read and write $dev" "sudo usermod -aG i2c $HOST_USER; ls -l $dev should show group i2c, mode crw-rw----"
fi

# 4. A device answering at the address (i2cdetect's read probe; a write probe would disturb it).
if [[ -c "$dev" ]] && command -v i2cdetect >/dev/null 2>&1; then
    # Read probes over the address's whole row (unscanned cells would shift the columns), then
    # the cell of the address: row "30:" holds 0x30..0x3f (mawk-safe, no strtonum).
    row=$((ADDRESS & 0xf0))
    out="$(i2cdetect -y -r "$BUS" "$row" $((row + 15)) 2>&1)"
    cell_of() { awk -v r="$(printf '%02x:' $(($1 & 0xf0)))" -v c=$(($1 & 0x0f)) '$1 == r { print $(c + 2) }' <<<"$out"; }
    cell="$(cell_of "$ADDRESS")"
    if [[ -n "$cell" && "$cell" != "--" ]]; then
        ok "a device answers at $ADDRESS on bus $BUS ($cell)"
        # 5. The controller: an SSD1306 and an SH1106 answer alike on the bus.
        status="$(i2cget -y "$BUS" "$ADDRESS" 2>/dev/null || true)"
        info "status byte at $ADDRESS: ${status:-unreadable}. The bus cannot tell an SSD1306 from an SH1106:"
        info "  if the picture is shifted by two columns with noise at one edge, set driver: sh1106"
    else
        if ((ADDRESS == 0x3c)); then other=0x3d; else other=0x3c; fi
        hint="check the wiring (VCC pin 1, GND pin 6, SDA pin 3, SCL pin 5), then: i2cdetect -y $BUS"
        c2="$(cell_of "$other")"
        if [[ -n "$c2" && "$c2" != "--" ]]; then
            hint="a device answers at $other instead: set address: \"$other\" in the manifest's panel config"
        fi
        bad "nothing answers at $ADDRESS on bus $BUS" "$hint"
    fi
elif [[ -c "$dev" ]]; then
    bad "i2cdetect is missing" "sudo apt-get install i2c-tools"
fi

# 6. The services.
active() {
    if [[ -d /run/systemd/system ]]; then
        systemctl is-active --quiet "$1"
    else
        [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null
    fi
}
for u in nats-leaf.service wasmcloud-host.service; do
    if active "$u"; then
        ok "$u is running"
    else
        bad "$u is not running" "sudo systemctl restart $u; its log: journalctl -u $u -n 50"
    fi
done

# 7. The leaf link to the laptop's hub (the leaf's monitoring endpoint).
leafz="$(curl -fsS --max-time 2 http://127.0.0.1:8222/leafz 2>/dev/null || true)"
if grep -Eq '"leafnodes": *[1-9]' <<<"$leafz"; then
    ok "the leaf link to the laptop is up ($(grep -Eo '"ip": *"[^"]*"' <<<"$leafz" | head -n1 | sed 's/"ip": *//; s/"//g'))"
elif [[ -z "$leafz" ]]; then
    bad "the leaf NATS does not answer on 127.0.0.1:8222" "see nats-leaf.service above"
else
    bad "the leaf link to the laptop is down" "is the laptop's hub running (setup-laptop.sh units) and TCP 7422 open? journalctl -u nats-leaf -n 20 shows TLS or authorization errors (then rerun install.sh)"
fi

# 7b. The lattice's users on this Pi (operator mode: the leaf NATS lets no anonymous client in).
creds_ok() { [[ -s "$1" && "$(stat -c '%a %U' "$1")" == "600 $2" ]]; }
if creds_ok "$ETC/nats/leaf.creds" nats && creds_ok "$ETC/nats/host.creds" "$HOST_USER" &&
    grep -q '^operator: ' "$ETC/nats-leaf.conf" 2>/dev/null; then
    ok "the leaf NATS runs in operator mode; the leaf and host users' credentials are 600, each its service's own"
else
    bad "the Pi's NATS users are missing or readable by others ($ETC/nats)" "rerun scripts/pi/setup-laptop.sh init on the laptop, then scripts/pi/install.sh"
fi

# 8. The host's identity.
if [[ -s "$ETC/host-id" && -s "$ETC/host-seed.env" ]]; then
    ok "host id $(cat "$ETC/host-id") is kept across restarts ($ETC/host-seed.env)"
else
    bad "the host has no fixed seed: it gets a new id at each start" "rerun scripts/pi/install.sh (it makes one)"
fi

# 9. The provider (started by the host when wadm places it).
# The host unpacks the provider archive under its TMPDIR and runs the binary (…/oled_panel…) from there.
if pgrep -u "$HOST_USER" -f 'wasmcloud-host/.*oled_panel' >/dev/null 2>&1; then
    ok "the oled-panel provider is running (pid $(pgrep -u "$HOST_USER" -f 'wasmcloud-host/.*oled_panel' | head -n1))"
else
    bad "the oled-panel provider is not running" "from the laptop: wash app deploy ~/.config/oled-lattice/oled-lattice.pi.yaml; then wash app status oled-lattice"
fi

# 10. The certificates.
check_certs

echo "doctor: $OK ok, $FAILED failed"
((FAILED == 0))
