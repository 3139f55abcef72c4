#!/usr/bin/env bash
# Installs the Debian 12 packages Socle needs to build, test and run, skipping those present.
# Works as root and as a normal user (through sudo). Idempotent; quiet when nothing is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libpq-dev libsimdjson-dev libargon2-dev libssl-dev libfmt-dev libsqlite3-dev
  libtomlplusplus-dev catch2 john-data
  postgresql-15 sqlite3 curl openssl ca-certificates
)
if [[ "${SOCLE_FUZZ_DEPS:-0}" == 1 ]]; then
  packages+=(clang-19 libclang-rt-19-dev)
fi
# `make bench` (tests/load/bench.sh): the load generator, the static-file ceiling and the
# charts. pgbench, the database ceilings, ships in postgresql-15 (/usr/lib/postgresql/15/bin).
# python3 builds the native modules of the peers' npm packages (node-gyp).
if [[ "${SOCLE_BENCH_DEPS:-0}" == 1 ]]; then
  packages+=(wrk nginx-light gnuplot-nox python3)
fi

# Node.js (>= 18) and npm run the PocketBase JS SDK tests (tests/sdk). One already on the PATH
# (NodeSource, nvm) will do: Debian's npm package conflicts with NodeSource's nodejs.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install-deps: installing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install-deps: missing packages and neither root nor sudo: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# The postgresql-15 package must not start a system cluster we do not use; policy-rc.d keeps
# the service down only if the package tries to start it during this install.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
