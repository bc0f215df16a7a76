#!/usr/bin/env bash
# Installs every Debian package Ayni needs to build, test, run and benchmark.
# Idempotent: installs only what is missing, and runs `apt-get update` only then.
set -euo pipefail

packages=(
  # toolchain and test frameworks
  g++ cmake make pkg-config libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev
  # domain core
  libsodium-dev liblemon-dev
  # set-off tests: GLPK solves the LP oracle (independent of LEMON)
  libglpk-dev
  # server: gRPC + protobuf, PostgreSQL
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libpqxx-dev postgresql-15 postgresql-client-15
  # TLS: libcrypto checks aynid's key pair; the openssl CLI makes certificates (gen-tls.sh)
  libssl-dev openssl
  # cards: PC/SC with the virtual reader
  libpcsclite-dev pcscd vsmartcard-vpcd
  # test isolation (unshare, ip)
  iproute2 util-linux
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
else
  sudo_cmd=()
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
