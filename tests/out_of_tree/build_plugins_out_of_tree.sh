#!/usr/bin/env bash
# usage: build_plugins_out_of_tree.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR
set -euo pipefail
build=$1 src=$2 scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/lib/cmake/imlsdk/imlsdkConfig.cmake"
test -x "$prefix/bin/imlhost"

dirs=()
for d in "$src"/plugins/*/*/ "$src"/examples/*/; do
  [ -f "$d/CMakeLists.txt" ] && dirs+=("${d%/}")
done
failed=0
for d in "${dirs[@]}"; do
  name=$(basename "$d")
  out=$scratch/build-$name
  if cmake -S "$d" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" >"$out.log" 2>&1 &&
     cmake --build "$out" -j2 >>"$out.log" 2>&1 && ls "$out"/plugins/imlplugin_*.so >/dev/null 2>&1; then
    echo "ok      $name"
  else
    echo "FAILED  $name (log: $out.log)"
    tail -20 "$out.log"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1

# The installed host loads the out-of-tree builds through IML_PLUGIN_PATH.
path=$(printf '%s:' "$scratch"/build-*/plugins)
IML_PLUGIN_PATH=$path "$prefix/bin/imlhost" plugins > "$scratch/plugins.txt"
cat "$scratch/plugins.txt"
if grep -q '^refused' "$scratch/plugins.txt"; then echo "a plugin was refused"; exit 1; fi
echo "${#dirs[@]} plugin folders built out of tree"
