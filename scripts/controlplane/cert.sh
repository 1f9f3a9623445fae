#!/usr/bin/env bash
# Issues a TLS serving certificate signed by the test CA of a control plane started by start.sh, e.g. for an
# admission webhook that the API server calls at https://127.0.0.1:PORT/... .
#
# Usage: cert.sh DIR NAME [SAN...]     SANs in openssl form, default: IP:127.0.0.1 DNS:localhost
#
# Contract: writes DIR/pki/NAME.crt and DIR/pki/NAME.key (overwriting them) and prints the certificate's path.
# The webhook configuration's clientConfig.caBundle is then `base64 -w0 < DIR/pki/ca.crt` ($CA_CERT in DIR/env).
set -euo pipefail

# shellcheck source=lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

[[ $# -ge 2 ]] || cp_die "usage: cert.sh DIR NAME [SAN...]"
pki=$(cd "$1" && pwd -P)/pki
name=$2
shift 2
[[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || cp_die "NAME must be a plain file name, got '$name'"
[[ -s $pki/ca.crt && -s $pki/ca.key && -s $pki/openssl.cnf ]] || cp_die "no test CA in $pki (run start.sh $1)"
(($#)) || set -- IP:127.0.0.1 DNS:localhost
sans=$(IFS=,; echo "$*")

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -new -newkey rsa:2048 -nodes -config "$pki/openssl.cnf" -subj "/CN=$name" \
  -keyout "$tmp/key" -out "$tmp/csr" 2>/dev/null
cat >"$tmp/ext" <<EOF
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $sans
EOF
openssl x509 -req -in "$tmp/csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
  -days 365 -sha256 -extfile "$tmp/ext" -extensions ext -out "$tmp/crt" 2>/dev/null
mv -f "$tmp/key" "$pki/$name.key"
mv -f "$tmp/crt" "$pki/$name.crt"
printf '%s\n' "$pki/$name.crt"
