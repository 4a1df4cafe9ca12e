#!/usr/bin/env bash
# Experiment-level benchmark: imlhost vs the reference implementation's way (HF Trainer's step
# sequence, every example padded to block_size; exact match through HF's batched text-generation
# pipeline) on the paper's three text workloads at the reference's block sizes, in one run:
#
#   set inclusion  configs/set_inclusion_cpu.yaml  task.block_size=16
#   CVDB           configs/cvdb.yaml               task.block_size=48, no knowledge stage
#   T-REx          configs/trex.yaml               task.block_size=48, no knowledge stage
#
# For each: seconds per Stage-1 epoch and per full evaluation pass (loss + exact match on every
# eval set), imlhost with its default padding and with training.pad_to_block (the reference's
# padding: the ratio then separates "less work" from "faster work"), the reference's way, the
# ratios and the issue's targets (>= 3.5x per epoch, >= 5x per evaluation pass).
#
#   bash bench/bench_experiment.sh [--imlhost build/imlhost] [--epochs 3] [--repeats 2]
#        [--only set_inclusion|cvdb|trex] [--out DIR]
#
# Needs ../shared/peers (bench_ref_epoch.py, env.sh; IML_PEERS_DIR overrides). Each heavy child runs
# under flock /tmp/imlhost-bench-cpu.lock, as the peer does. JSON per workload and the table go to
# --out (default /tmp/bench_experiment.<time>); the table is also printed.
set -euo pipefail
bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$bench_dir/.." && pwd)
peers=${IML_PEERS_DIR:-$root/../shared/peers}
imlhost=$root/build/imlhost
epochs=3
repeats=2
only=""
out=""
while (($#)); do
  case $1 in
    --imlhost) imlhost=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n 2,21p "$0"; exit 0 ;;
    *) echo "bench_experiment.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -x "$imlhost" ] || { echo "bench_experiment.sh: $imlhost: not an executable (build imlhost and its plugins first)" >&2; exit 2; }
[ -f "$peers/env.sh" ] || { echo "bench_experiment.sh: $peers/env.sh: missing (set IML_PEERS_DIR)" >&2; exit 2; }
out=${out:-/tmp/bench_experiment.$(date -u +%Y%m%dT%H%M%S)}
mkdir -p "$out"
# shellcheck source=/dev/null
source "$peers/env.sh"   # sets peer_env. Debian's torch + HF 4.33 source once; peer_env: tcmalloc, passive OpenMP, 2 threads
export IML_PEERS_DIR=$peers

text_stages() {  # the reference's two stages (its CVDB/T-REx runs start from a pretrained model: no knowledge stage)
  echo "stages=[{name: stage1, train_subset: stage1, epochs: $epochs}, {name: stage2, train_subset: stage2, epochs: 0, per_stage2_seed: true}]"
}
declare -A config
config[set_inclusion]=configs/set_inclusion_cpu.yaml
config[cvdb]=configs/cvdb.yaml
config[trex]=configs/trex.yaml
run_one() {
  local name=$1; shift
  [ -z "$only" ] || [ "$only" = "$name" ] || return 0
  echo "== $name ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  local t0=$SECONDS
  # shellcheck disable=SC2154  # peer_env comes from env.sh
  env "${peer_env[@]}" /usr/bin/python3 "$bench_dir/ref_way_compare.py" compare --imlhost "$imlhost" \
    --config "$root/${config[$name]}" --epochs "$epochs" --repeats "$repeats" "$@" \
    --json "$out/$name.json" 2> "$out/$name.log" || { tail -20 "$out/$name.log" >&2; exit 1; }
  echo "   $((SECONDS - t0)) s" >&2
}
t_all=$SECONDS
run_one set_inclusion --override task.block_size=16
run_one cvdb --override task.block_size=48 --override data.knowledge_stage=false --override "$(text_stages)"
run_one trex --override task.block_size=48 --override data.knowledge_stage=false --override "$(text_stages)"
echo "total wall time $((SECONDS - t_all)) s" >&2

/usr/bin/python3 - "$out" "$epochs" > "$out/table.txt" <<'EOF'
import json, os, sys
out, epochs = sys.argv[1], sys.argv[2]
T_EPOCH, T_EVAL = 3.5, 5.0
rows = []
for name in ("set_inclusion", "cvdb", "trex"):
    p = os.path.join(out, name + ".json")
    if not os.path.exists(p):
        continue
    r = json.load(open(p))
    d, b, hf = r["imlhost"]["default"], r["imlhost"]["pad_to_block"], r["hf"]
    hf_ep = hf["train"]["epoch_s"]
    hf_ev = hf["eval"]["same_sets_as_imlhost"]["seconds"]
    rows.append((name, hf["settings"]["block_size"], d, b, hf_ep, hf_ev, hf))
w = ("workload", "blk", "iml ep s", "iml p2b ep s", "ref ep s", "ep x", "p2b ep x", "tgt", "",
     "iml eval s", "ref eval s", "eval x", "tgt", "")
fmt = "{:<14s}{:>4s}{:>10s}{:>13s}{:>10s}{:>7s}{:>9s}{:>6s} {:<5s}{:>11s}{:>11s}{:>7s}{:>6s} {:<5s}"
lines = [fmt.format(*w)]
for name, blk, d, b, hf_ep, hf_ev, hf in rows:
    ep_x, p2b_x, ev_x = hf_ep / d["epoch_s"], hf_ep / b["epoch_s"], hf_ev / d["eval_s"]
    lines.append(fmt.format(name, str(blk), f"{d['epoch_s']:.2f}", f"{b['epoch_s']:.2f}", f"{hf_ep:.2f}",
                            f"{ep_x:.2f}", f"{p2b_x:.2f}", f"{T_EPOCH:.1f}", "PASS" if ep_x >= T_EPOCH else "MISS",
                            f"{d['eval_s']:.2f}", f"{hf_ev:.2f}", f"{ev_x:.2f}", f"{T_EVAL:.1f}",
                            "PASS" if ev_x >= T_EVAL else "MISS"))
lines.append("")
lines.append(f"iml = imlhost, default padding (longest in batch); p2b = imlhost with task.pad_to_block=true "
             f"(every example padded to block_size and every position computed, as the reference); ref = the reference's way (HF 4.33 on Debian's "
             f"torch, {epochs} Stage-1 epochs; eval = loss pass + EM pipeline on every eval set). Ratios are ref / imlhost; "
             f"imlhost figures are means of the runs before and after the reference's.")
for name, blk, d, b, hf_ep, hf_ev, hf in rows:
    lines.append(f"  {name}: imlhost epochs {', '.join(f'{x:.2f}' for x in d['epoch_s_each'])} (p2b "
                 f"{', '.join(f'{x:.2f}' for x in b['epoch_s_each'])}), eval {', '.join(f'{x:.2f}' for x in d['eval_s_each'])}; "
                 f"ref eval = loss {hf['eval']['same_sets_as_imlhost']['loss_pass_s']:.2f} + EM "
                 f"{hf['eval']['same_sets_as_imlhost']['em_pass_s']:.2f} s; load {hf['loadavg_start'][0]:.1f} -> "
                 f"{hf['loadavg_end'][0]:.1f}")
print("\n".join(lines))
EOF
cat "$out/table.txt"
echo "JSON and logs: $out" >&2
