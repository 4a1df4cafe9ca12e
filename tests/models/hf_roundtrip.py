#!/usr/bin/python3
"""The Hugging Face side of test_hf_roundtrip: load a checkpoint folder that imlhost saved with
transformers' own from_pretrained, run the inputs imlhost ran, and compare with imlhost's logits.

    hf_roundtrip.py FOLDER CASE.safetensors

FOLDER: config.json + model.safetensors written by imlsdk::save_hf_checkpoint.
CASE.safetensors: input_ids [B, T] (int64), attention_mask, optional decoder_input_ids, and
imlhost's logits for them (float32). Needs HF transformers importable (the test puts the 4.33 source
from ../shared/peers and its offline stubs on sys.path through hfenv.py) and Debian's python3-torch.
Prints one line with the figures; exit 0 when HF loaded every tensor (no missing, unexpected or
mismatched key) and its logits match within the tolerance, 1 otherwise, 3 when transformers cannot
be imported at all (the caller decides whether that is a skip).
"""
import json
import os
import sys


def main():
    folder, case_path = sys.argv[1], sys.argv[2]
    tol = float(os.environ.get("HF_ROUNDTRIP_TOL", "1e-4"))
    try:
        peers = os.environ["IML_PEERS_DIR"]
        sys.path.insert(0, peers)
        import hfenv  # noqa: F401  (sys.path for transformers' source and the offline stubs)
        import torch
        from safetensors.torch import load_file
        import transformers
    except Exception as e:  # noqa: BLE001
        print(f"hf_roundtrip: cannot import HF transformers: {type(e).__name__}: {e}")
        return 3
    torch.set_num_threads(1)
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    arch = cfg.get("architectures", [None])[0]
    if not arch or not hasattr(transformers, arch):
        print(f"hf_roundtrip: {folder}/config.json: architectures {cfg.get('architectures')} is not a transformers class")
        return 1
    cls = getattr(transformers, arch)
    model, info = cls.from_pretrained(folder, output_loading_info=True)
    model.eval()
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
    if bad:
        print(f"hf_roundtrip: {arch} from {folder}: loading info {bad}")
        return 1
    case = load_file(case_path)
    kwargs = {"input_ids": case["input_ids"].long(), "attention_mask": case["attention_mask"].long()}
    if "decoder_input_ids" in case:
        kwargs["decoder_input_ids"] = case["decoder_input_ids"].long()
    with torch.no_grad():
        logits = model(**kwargs).logits.float()
    ours = case["logits"].float()
    if logits.shape != ours.shape:
        print(f"hf_roundtrip: {arch}: HF logits {tuple(logits.shape)} vs imlhost {tuple(ours.shape)}")
        return 1
    # Positions the attention mask hides are compared too for causal models (HF computes them);
    # for seq2seq the mask is the encoder's, and every decoder position is compared.
    diff = (logits - ours).abs().max().item()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"hf_roundtrip: {arch} ({n_params} parameters, transformers {transformers.__version__}): "
          f"logits {tuple(ours.shape)} max |HF - imlhost| = {diff:.3g} (tolerance {tol:g})")
    return 0 if diff <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
