# shellcheck shell=bash
# A small certificate authority for the leaf link between the laptop's hub NATS and the Pi's leaf
# NATS: mutual TLS, so the Pi verifies the hub and the hub accepts only a leaf whose certificate this
# CA signed. Keys are made here, never committed, mode 600. Source after scripts/lib/common.sh.
#
#   tls_ensure DIR HUB_ADDRESS...   make DIR/{ca,hub,leaf}.{pem,key} once (again when the hub's
#                                   addresses change); the hub's certificate names HUB_ADDRESS...
#   tls_make_ca DIR NAME            a CA of its own in DIR (for tests: a stranger's CA)
#   tls_make_cert DIR CA_DIR NAME USAGE SAN   a key and a certificate signed by CA_DIR's CA

tls_make_ca() {
    local dir="$1" name="$2"
    mkdir -p "$dir"
    (
        umask 077
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/ca.key" -out "$dir/ca.pem" -days 3650 -subj "/CN=$name" 2>/dev/null
    )
}

tls_make_cert() {
    local dir="$1" ca="$2" name="$3" usage="$4" san="$5" ext
    ext="$(mktemp)"
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=CA:FALSE\n' "$san" "$usage" >"$ext"
    (
        umask 077
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null &&
            openssl x509 -req -in "$dir/$name.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" -CAcreateserial \
                -out "$dir/$name.pem" -days 825 -extfile "$ext" 2>/dev/null
    )
    local rc=$?
    rm -f "$ext" "$dir/$name.csr"
    return "$rc"
}

tls_ensure() {
    local dir="$1" addr san="" want
    shift
    for addr in "$@"; do
        if [[ "$addr" =~ ^[0-9.]+$ ]]; then san+="IP:$addr,"; else san+="DNS:$addr,"; fi
    done
    san="${san%,}"
    want="$san"
    if [[ -s "$dir/ca.pem" && -s "$dir/hub.pem" && -s "$dir/leaf.pem" && "$(cat "$dir/hub.san" 2>/dev/null)" == "$want" ]]; then
        return 0
    fi
    [[ -s "$dir/ca.pem" ]] || tls_make_ca "$dir" "oled-lattice leaf CA" || die "could not make the leaf CA in $dir"
    tls_make_cert "$dir" "$dir" hub "serverAuth,clientAuth" "$san" || die "could not make the hub's certificate"
    tls_make_cert "$dir" "$dir" leaf "clientAuth" "DNS:oled-leaf" || die "could not make the leaf's certificate"
    printf '%s\n' "$want" >"$dir/hub.san"
    chmod 600 "$dir"/*.key
}
