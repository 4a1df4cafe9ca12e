#!/usr/bin/env bash
# usage: build_plugins_out_of_tree.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR
# Installs the SDK and host to SCRATCH_DIR/prefix, builds every plugins/*/*/ and examples/*/
# folder against it as a third party would, then runs each example's tiny*.yaml experiments
# with the installed imlhost and the example's out-of-tree build.
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

# Each example's tiny experiments (examples/NAME/tiny*.yaml) run on the installed host, with
# the example's own out-of-tree build first on IML_PLUGIN_PATH and the installed plugins after.
installed=$(dirname "$(find "$prefix" -name 'imlplugin_*.so' -print -quit)")
for d in "$src"/examples/*/; do
  d=${d%/}
  name=$(basename "$d")
  [ -f "$d/CMakeLists.txt" ] || continue
  for config in "$d"/tiny*.yaml; do
    [ -f "$config" ] || continue
    run=$scratch/run-$name-$(basename "$config" .yaml)
    export IML_PLUGIN_PATH=$scratch/build-$name/plugins:$installed
    # The example's plugin must be the copy built out of tree, not one from the build tree.
    for so in "$scratch/build-$name"/plugins/imlplugin_*.so; do
      plugin=${so##*/imlplugin_}
      plugin=${plugin%.so}
      info=$("$prefix/bin/imlhost" plugins "$plugin" 2>&1 || true)
      if ! grep -qF "file: $so" <<<"$info"; then
        echo "FAILED  $name: imlhost does not load $plugin from $so:"
        echo "$info"
        exit 1
      fi
    done
    if "$prefix/bin/imlhost" "$config" "experiment.output_dir=$run" >"$run.log" 2>&1 &&
       [ -n "$(find "$run" -name summary.json)" ] && [ -n "$(find "$run" -name metrics.jsonl)" ]; then
      echo "ok      $name: $(basename "$config") ran with the out-of-tree plugin (results: $run)"
    else
      echo "FAILED  $name: $(basename "$config") (log: $run.log)"
      tail -20 "$run.log"
      exit 1
    fi
    unset IML_PLUGIN_PATH
  done
done
