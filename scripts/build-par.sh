#!/usr/bin/env bash
# Package the oled-panel provider as ONE multi-arch provider archive: build/oled-panel.par.gz with
#   x86_64-linux   always (cargo build --release -p oled-panel-provider, for the laptop's host)
#   aarch64-linux  when the aarch64 binary is built and current (scripts/build-pi.sh), or with
#                  --aarch64, which builds it first; --require-aarch64 fails instead of leaving it
#                  out (the test command's provider stage: the README promises both)
# then prints `wash par inspect` of the result. A host picks the binary of its own ARCH-OS.
# --check FILE builds nothing: it only says whether the archive FILE carries both binaries (exit 1
# when one is missing).
#
# usage: scripts/build-par.sh [--aarch64 | --no-aarch64 | --require-aarch64 | --check FILE] [--help]
#
# Signing keys: wash generates an account and a service key on first use, named after the binary
# (oled-panel_account.nk / oled-panel_service.nk), in WASH_KEYS =
# ${OLED_LATTICE_HOME:-~/.cache/oled-lattice}/pi/wash/keys: never in the repository or ~/.wash.
# Both arches are signed with the same keys, so the archive keeps one identity.
set -euo pipefail

# shellcheck source=scripts/pi/dev-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/pi/dev-lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

aarch64_mode="auto"
check_file=""
while (($#)); do
    case "$1" in
        --aarch64) aarch64_mode="build" ;;
        --no-aarch64) aarch64_mode="skip" ;;
        --require-aarch64) aarch64_mode="require" ;;
        --check) check_file="${2:?--check takes a file}"; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; pi_die "unknown option: $1" ;;
    esac
    shift
done

wash="$(pi_find_wash)"
pi_wash_isolate "$PI_CACHE/wash"

# par_check FILE: the archive carries an x86_64-linux and an aarch64-linux binary.
par_check() {
    local out arch missing=()
    out="$("$wash" par inspect "$1" -o json 2>&1)" || { echo "$out" >&2; pi_log "cannot read $1"; return 1; }
    for arch in x86_64-linux aarch64-linux; do
        grep -q "\"$arch\"" <<<"$out" || missing+=("$arch")
    done
    if ((${#missing[@]})); then
        pi_log "$1 has no ${missing[*]} binary: $(tr -d '\n ' <<<"$out" | grep -o '"targets":\[[^]]*\]')"
        return 1
    fi
    pi_log "$1 carries x86_64-linux and aarch64-linux"
}
if [[ -n "$check_file" ]]; then
    par_check "$check_file"
    exit
fi
cd "$PI_REPO"
version="$(pi_provider_version)"
out_dir="$PI_REPO/build"
par="$out_dir/oled-panel.par.gz"
mkdir -p "$out_dir"

pi_log "==> cargo build --profile $PI_PROFILE -p $PI_PACKAGE   (x86_64-linux)"
start=$SECONDS
cargo build --profile "$PI_PROFILE" -p "$PI_PACKAGE" >&2
x86_bin="$(pi_x86_64_bin)"
[[ -x "$x86_bin" ]] || pi_die "no $x86_bin after the build (is the binary still named $PI_BIN_NAME?)"
pi_log "    $x86_bin ($(stat -c %s "$x86_bin") bytes, $((SECONDS - start))s)"

if [[ "$aarch64_mode" == "build" ]]; then
    "$PI_REPO/scripts/build-pi.sh" >/dev/null
fi
arm_bin="$(pi_aarch64_bin)"
include_arm=0
if [[ "$aarch64_mode" != "skip" && -x "$arm_bin" ]]; then
    # Stale when a source it was built from changed after the build (cargo's dep-info).
    newer="$(pi_stale_source "$arm_bin")"
    if [[ -n "$newer" && "$aarch64_mode" == "require" ]]; then
        pi_die "$arm_bin is older than $newer, and --require-aarch64: rebuild it with scripts/build-pi.sh"
    elif [[ -n "$newer" ]]; then
        pi_log "WARNING: $arm_bin is older than $newer: leaving aarch64 out."
        pi_log "         Rebuild it with scripts/build-pi.sh, or run: scripts/build-par.sh --aarch64"
    else
        pi_check_aarch64_static "$arm_bin"
        include_arm=1
    fi
elif [[ "$aarch64_mode" == "require" ]]; then
    pi_die "no aarch64 binary ($arm_bin), and --require-aarch64: build it with scripts/build-pi.sh"
elif [[ "$aarch64_mode" != "skip" ]]; then
    pi_log "note: no aarch64 binary ($arm_bin): the archive gets x86_64-linux only."
    pi_log "      For the Pi: scripts/build-pi.sh, then this script again (or --aarch64)."
fi

rm -f "$par"
pi_log "==> wash par create --arch x86_64-linux --binary $x86_bin --name oled-panel --vendor oled-lattice --version $version --destination $par --compress"
"$wash" par create --arch x86_64-linux --binary "$x86_bin" --name oled-panel \
    --vendor oled-lattice --version "$version" --revision 0 \
    --destination "$par" --compress >&2
if ((include_arm)); then
    pi_log "==> wash par insert $par --arch aarch64-linux --binary $arm_bin"
    "$wash" par insert "$par" --arch aarch64-linux --binary "$arm_bin" >&2
fi
pi_log "    keys: $WASH_KEYS"
pi_log "==> wash par inspect $par"
"$wash" par inspect "$par"
printf 'built %s (%s bytes): x86_64-linux%s\n' "$par" "$(stat -c %s "$par")" \
    "$( ((include_arm)) && echo ', aarch64-linux')"
if [[ "$aarch64_mode" == "require" ]]; then
    par_check "$par"
fi
