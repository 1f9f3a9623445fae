#!/usr/bin/env bash
# Installs pipeguard's build and test dependencies from Debian's packages.
# Contract: idempotent (installs only what is missing), needs root or sudo, touches nothing in the repo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libcpp-httplib-dev libssl-dev openssl nlohmann-json3-dev libyaml-cpp-dev libyaml-dev
  prometheus-cpp-dev libspdlog-dev libfmt-dev libgtest-dev libgmock-dev libre2-dev libexpat1-dev
  libboost1.81-dev libjemalloc-dev libsimdjson-dev
  clang clang-format libclang-rt-14-dev python3 curl ccache
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
