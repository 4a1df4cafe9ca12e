#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and builds imlhost into ./build. Idempotent: installs only
# missing packages, reconfigures and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  libboost-dev libboost-filesystem-dev libyaml-cpp-dev libfmt-dev libspdlog-dev
  libgtest-dev nlohmann-json3-dev libsentencepiece-dev libicu-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# LibTorch must use OpenBLAS, not the reference BLAS (about 30x slower GEMMs).
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null || true)
case "$blas" in
  *openblas*) ;;
  *) echo "bootstrap: warning: libblas.so.3 resolves to '$blas', not OpenBLAS; run" \
       "'update-alternatives --config libblas.so.3-x86_64-linux-gnu'" >&2 ;;
esac

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Paths relative to the checkout, so that fresh clones elsewhere hit the same cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
