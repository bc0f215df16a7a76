#!/usr/bin/env bash
# TLS material for aynid (SPEC §6 "TLS from config", §8): a private CA and one server
# certificate signed by it, with the openssl command-line tool.
#
#   deploy/gen-tls.sh OUTDIR [HOSTNAME|IP ...]
#
# Writes into OUTDIR (created 0700 when missing):
#   ca.pem          the CA certificate: give it to clients (`ayni --tls-ca ca.pem`)
#   ca.key          the CA private key (0600): keep it offline, it signs server certs
#   server.pem      the server certificate (tls_cert_file in aynid.conf)
#   server.key      the server private key (0600; tls_key_file in aynid.conf)
#
# The server certificate's subjectAltName holds every name given plus localhost and
# 127.0.0.1, so the CLI on the server itself can always dial 127.0.0.1. Arguments that look
# like IPv4 or IPv6 addresses become IP SANs, the others DNS SANs. The first name (or
# localhost) is the certificate's CN.
#
# Keys are EC P-256 (fast handshakes, supported by every gRPC build). Validity: the CA
# 10 years, the server certificate 825 days (the longest some clients accept).
# Refuses to overwrite existing files: rotate by generating into a new OUTDIR. An existing
# CA (ca.pem + ca.key in OUTDIR) is reused to sign a new server certificate when only
# server.pem and server.key are missing.
set -euo pipefail

usage() {
  echo "usage: $0 OUTDIR [HOSTNAME|IP ...]" >&2
  exit 2
}

[ $# -ge 1 ] || usage
case "$1" in -h | --help) usage ;; esac
out=$1
shift

if ! command -v openssl >/dev/null 2>&1; then
  echo "gen-tls: openssl not found; run deploy/install-deps.sh" >&2
  exit 1
fi

umask 077
mkdir -p "$out"

for f in server.pem server.key; do
  if [ -e "$out/$f" ]; then
    echo "gen-tls: $out/$f exists; refusing to overwrite (use a new OUTDIR to rotate)" >&2
    exit 1
  fi
done

names=("$@")
cn=${names[0]:-localhost}

# subjectAltName: every argument, then localhost and 127.0.0.1, without duplicates.
san=""
declare -A seen=()
add_san() {
  local n=$1
  [ -n "$n" ] || return 0
  [ -z "${seen[$n]:-}" ] || return 0
  seen[$n]=1
  if [[ "$n" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ || "$n" == *:* ]]; then
    san+="${san:+,}IP:$n"
  elif [[ "$n" =~ ^[A-Za-z0-9*]([A-Za-z0-9.*-]*[A-Za-z0-9])?$ ]]; then
    san+="${san:+,}DNS:$n"
  else
    echo "gen-tls: \"$n\" is neither a host name nor an IP address" >&2
    exit 2
  fi
}
for n in "${names[@]}"; do add_san "$n"; done
add_san localhost
add_san 127.0.0.1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -e "$out/ca.pem" ] && [ -e "$out/ca.key" ]; then
  echo "gen-tls: reusing the CA in $out"
elif [ -e "$out/ca.pem" ] || [ -e "$out/ca.key" ]; then
  echo "gen-tls: $out has only one of ca.pem and ca.key; refusing" >&2
  exit 1
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days 3650 -subj "/CN=Ayni private CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$tmp/ca.pem"
  install -m 0600 "$tmp/ca.key" "$out/ca.key"
  install -m 0644 "$tmp/ca.pem" "$out/ca.pem"
fi

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/server.key" 2>/dev/null
openssl req -new -key "$tmp/server.key" -subj "/CN=$cn" -out "$tmp/server.csr"
cat >"$tmp/ext.cnf" <<EOF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = $san
EOF
openssl x509 -req -in "$tmp/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -sha256 -days 825 -extfile "$tmp/ext.cnf" \
  -out "$tmp/server.pem" 2>/dev/null
openssl verify -CAfile "$out/ca.pem" "$tmp/server.pem" >/dev/null

install -m 0600 "$tmp/server.key" "$out/server.key"
install -m 0644 "$tmp/server.pem" "$out/server.pem"

echo "gen-tls: wrote $out/server.pem (subjectAltName $san) and $out/server.key (0600)"
echo "gen-tls: clients trust $out/ca.pem: ayni --tls-ca $out/ca.pem --server HOST:PORT ..."
