#!/usr/bin/python3
"""Adapter around ../shared/peers/bench_ref_epoch.py (the reference's way, timed against imlhost in one
run) for this checkout; the peer's files are used as they are, only some of its functions are replaced
here, in this process:

  * imlhost's side is read from manifest.json's per-stage `seconds`, `eval_seconds` and `eval_passes`
    (core/src/trainer.cpp times each evaluation pass), so the Stage-1 training time is exact
    (the peer parses the progress bar's 2-decimal steps/s and a stage key `tokens` this manifest
    calls `units`);
  * the peer's `training.pad_to_block=true` (and block_size, max_new_tokens) overrides are given to imlhost as
    `task.` keys, where this config declares them;
  * the `hf` child gets the settings that live in this config's `task:` section (block_size,
    max_new_tokens), which the peer looks up under `training:`;
  * for the text datasets (cvdb, trex: the data-built "text word-level tokenizer"), the exported texts
    are rewritten so that a whitespace split gives exactly imlhost's pieces (a leading space becomes
    "Ġ", a newline "Ċ"), so the peer's word-level tokenizer sees the same sequence lengths and
    vocabulary size as imlhost (the peer splits on whitespace only, which would make its CVDB prompts
    about half as long as imlhost's).

Usage: the peer's `compare` command line, e.g.
    python3 bench/ref_way_compare.py compare --imlhost build/imlhost --config configs/cvdb.yaml \
        --epochs 3 --override task.block_size=48
Environment: IML_PEERS_DIR (default: <checkout>/../shared/peers).
"""
import glob
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.environ.get("IML_PEERS_DIR") or os.path.join(HERE, "..", "..", "shared", "peers")
if not os.path.isfile(os.path.join(PEERS, "bench_ref_epoch.py")):
    raise SystemExit(f"{PEERS}: no bench_ref_epoch.py (set IML_PEERS_DIR)")
sys.path.insert(0, os.path.abspath(PEERS))
import bench_ref_epoch as ref  # noqa: E402


# ----------------------------------------------------------------------------- imlhost's timings
def imlhost_result(outdir, log, epochs, n_train):
    man = sorted(glob.glob(os.path.join(outdir, "*", "*", "manifest.json")))
    if not man:
        raise SystemExit(f"no manifest.json under {outdir}")
    with open(man[0]) as f:
        m = json.load(f)
    st = m["stages"]
    s1, s2 = st[0], st[1]
    for s in (s1, s2):
        if "eval_seconds" not in s:
            raise SystemExit(f"{man[0]}: stage '{s['stage']}' has no eval_seconds (imlhost built before it was recorded)")
    passes = [s1["eval_seconds"] / max(1, s1["eval_passes"])] if s1["eval_passes"] else []
    passes.append(s2["eval_seconds"] / max(1, s2["eval_passes"]))  # stage 2 has 0 epochs: one evaluation pass
    train_s = s1["seconds"] - s1["eval_seconds"]
    return {"manifest": man[0], "threads": m.get("threads"), "stage1_seconds": s1["seconds"],
            "stage1_optimizer_steps": s1["optimizer_steps"], "stage1_units": s1["units"],
            "checkpoint_seconds": s1.get("checkpoint_seconds"), "epochs": epochs,
            "model_parameters": m.get("model_parameters"), "eval_s_each_pass": passes,
            "train_s": train_s, "epoch_s": train_s / epochs, "examples_per_s": n_train * epochs / train_s,
            "eval_s": sum(passes) / len(passes),
            "how": "manifest.json: stage1 seconds - eval_seconds (training incl. checkpoint writes); eval = "
                   "mean of the end-of-stage-1 pass and the stage-2 (0 epochs) pass"}


# ----------------------------------------------------------------------------- text datasets: imlhost's pieces
def _word(c):
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9") or ord(c) >= 0x80


def _punct(c):
    return " " < c < "\x7f" and not _word(c)


def pieces(text):
    """imlsdk::TextTokenizer::pretokenize (sdk/src/text_tokenizer.cpp) on str (non-ASCII characters count
    as word characters, as their UTF-8 bytes do there)."""
    out, i, n = [], 0, len(text)
    while i < n:
        start = i
        j = i + 1 if (text[i] == " " and i + 1 < n) else i
        c = text[j]
        if _word(c):
            i = j
            while i < n and _word(text[i]):
                i += 1
        elif _punct(c):
            i = j + 1
        else:
            i = start + 1
        out.append(text[start:i])
    return out


def _visible(p):
    p = p.replace(" ", "\u0120").replace("\n", "\u010a")
    return "".join(c if not c.isspace() else f"<0x{ord(c):02x}>" for c in p)


def as_words(text):
    return " ".join(_visible(p) for p in pieces(text))


def rewrite_export(src, dst):
    """A copy of an exported data dir (DIR/<seed>/<s2>/...) whose texts are imlhost's pieces, space-separated."""
    shutil.copytree(src, dst)
    for path in glob.glob(os.path.join(dst, "**", "*.jsonl"), recursive=True):
        rows = ref.read_jsonl(path)
        for r in rows:
            for k in ("text", "prompt", "answer"):
                if k in r:
                    r[k] = as_words(r[k])
            r["variable"] = ""  # its pieces are in the texts already
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")


# ----------------------------------------------------------------------------- the hf child's command line
_run_logged = ref.run_logged


TASK_KEYS = ("block_size", "pad_to_block", "max_new_tokens", "mask_padding")


def run_logged(cmd, log, env=None):
    # the peer names the causal_lm task's keys under training. (an older layout); here they are task. keys
    cmd = [f"task.{a[9:]}" if a.startswith("training.") and a[9:].split("=")[0] in TASK_KEYS else a for a in cmd]
    if "hf" in cmd and "--data" in cmd and "--config" in cmd:
        cmd = list(cmd)
        with open(cmd[cmd.index("--config") + 1]) as f:
            cfg = json.load(f)
        task = cfg.get("task", {})
        for flag, key in (("--block-size", "block_size"), ("--max-new-tokens", "max_new_tokens")):
            if key in task and flag not in cmd:
                cmd += [flag, str(task[key])]
        data = cmd[cmd.index("--data") + 1]
        info = os.path.join(ref.find_data_dir(data), "info.json")
        with open(info) as f:
            tok = json.load(f).get("tokenizer", "")
        if tok.startswith("text word-level"):
            words = data.rstrip("/") + "_pieces"
            if not os.path.isdir(words):
                rewrite_export(data, words)
            cmd[cmd.index("--data") + 1] = words
        print(f"hf child: {' '.join(cmd[2:])}", file=sys.stderr, flush=True)
    return _run_logged(cmd, log, env)


ref.imlhost_result = imlhost_result
ref.run_logged = run_logged

if __name__ == "__main__":
    ref.main()
