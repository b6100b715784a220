#!/usr/bin/env python3
"""Write golden outputs of the float64 PyTorch reference for the test checkpoints.

Run with Debian's /usr/bin/python3 (or $PYTHON), after make_checkpoints.py:

    /usr/bin/python3 tests/reference/make_checkpoints.py --out /tmp/minibert-models
    /usr/bin/python3 tests/reference/make_goldens.py --models /tmp/minibert-models --out tests/data/goldens
    /usr/bin/python3 tests/reference/make_goldens.py --models DIR --out DIR2 --only tiny-bert

For each model writes <out>/<name>.json:

    {"model", "architecture", "generated_by", "hidden_size", "cases": [
       {"id", "input_ids", ["attention_mask"], ["token_type_ids"], "lengths",
        "expected": {"last_hidden_state": {"positions": [[b, t], ...], "values": [[H], ...]},
                     "pooler_output": [B][H], "mean_pooled": [B][H],
                     "logits": [B][labels] | [B][len_b][labels],
                     "start_logits": [B][len_b], "end_logits": [B][len_b]},
        "max_abs_value": {output: max |x| over the valid part}}]}

Cases (deterministic, numpy PCG64 seeded from the model name): single sequences of length 1, 2,
17, 128 and 512 (the len128 case omits attention_mask and token_type_ids, which then mean
all-ones / all-zeros), and `padded`: 3 right-padded rows of lengths 17, 1, 128 (pad id 0, type
id 0 on padding). last_hidden_state keeps positions {0, 1, len//2, len-1} of each row; the
other outputs keep every valid position. Values are the float64 reference rounded to 7
significant digits (relative error <= 5e-8).
"""

import argparse
import json
import os
import sys
import time
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import load_model  # noqa: E402
from make_checkpoints import MODELS, DEFAULT_MODELS  # noqa: E402

SINGLE_LENGTHS = (1, 2, 17, 128, 512)
PADDED_LENGTHS = (17, 1, 128)
NO_MASK_CASE = "len128"


def make_cases(config, seed, single_lengths=SINGLE_LENGTHS, padded_lengths=PADDED_LENGTHS,
               no_mask_case=NO_MASK_CASE):
    """Deterministic input cases for a bert_reference.Config. Lengths above
    max_position_embeddings are dropped (single) or clipped (padded)."""
    rng = np.random.default_rng(seed)
    is_bert = config.type_vocab > 0       # the families with token types (BERT, RoBERTa, ELECTRA)
    maxp = config.max_sequence            # RoBERTa / MPNet: max_position_embeddings - padding_idx - 1
    pad_id = config.pad_id if config.positions == "padding" else 0

    def row(n):
        ids = rng.integers(0, config.vocab, size=n).tolist()
        if is_bert and n >= 2 and config.type_vocab > 1:
            types = rng.integers(0, config.type_vocab, size=n).tolist()
        else:
            types = [0] * n
        return ids, types

    cases = []
    for n in single_lengths:
        if n > maxp:
            continue
        ids, types = row(n)
        case = {"id": "len%d" % n, "input_ids": [ids]}
        if case["id"] != no_mask_case:
            case["attention_mask"] = [[1] * n]
            if is_bert:
                case["token_type_ids"] = [types]
        case["lengths"] = [n]
        cases.append(case)
    if padded_lengths:
        lens = [min(n, maxp) for n in padded_lengths]
        L = max(lens)
        ids_b, mask_b, types_b = [], [], []
        for n in lens:
            ids, types = row(n)
            pad = L - n
            ids_b.append(ids + [pad_id] * pad)
            mask_b.append([1] * n + [0] * pad)
            types_b.append(types + [0] * pad)
        case = {"id": "padded", "input_ids": ids_b, "attention_mask": mask_b}
        if is_bert:
            case["token_type_ids"] = types_b
        case["lengths"] = lens
        cases.append(case)
    return cases


def sample_positions(n):
    return sorted({t for t in (0, 1, n // 2, n - 1) if 0 <= t < n})


def r7(x):
    """Round floats (nested lists) to 7 significant digits."""
    if isinstance(x, list):
        return [r7(v) for v in x]
    return float("%.7g" % x)


def run_case(model, case):
    return model.forward(case["input_ids"], case.get("attention_mask"), case.get("token_type_ids"))


def expected_for_case(model, case):
    out = run_case(model, case)
    lengths = case["lengths"]
    exp, stats = {}, {}
    h = out["last_hidden_state"]
    pos, vals = [], []
    for b, n in enumerate(lengths):
        for t in sample_positions(n):
            pos.append([b, t])
            vals.append(r7(h[b, t].tolist()))
    exp["last_hidden_state"] = {"positions": pos, "values": vals}
    stats["last_hidden_state"] = max(float(h[b, :n].abs().max()) for b, n in enumerate(lengths))
    for key in ("pooler_output", "mean_pooled"):
        if key in out:
            exp[key] = r7(out[key].tolist())
            stats[key] = float(out[key].abs().max())
    if "logits" in out:
        lg = out["logits"]
        if lg.dim() == 2:
            exp["logits"] = r7(lg.tolist())
            stats["logits"] = float(lg.abs().max())
        else:
            exp["logits"] = [r7(lg[b, :n].tolist()) for b, n in enumerate(lengths)]
            stats["logits"] = max(float(lg[b, :n].abs().max()) for b, n in enumerate(lengths))
    for key in ("start_logits", "end_logits"):
        if key in out:
            exp[key] = [r7(out[key][b, :n].tolist()) for b, n in enumerate(lengths)]
            stats[key] = max(float(out[key][b, :n].abs().max()) for b, n in enumerate(lengths))
    return exp, {k: float("%.6g" % v) for k, v in stats.items()}


def golden_seed(name):
    return zlib.crc32(("goldens:" + name).encode("utf-8"))


def dumps_golden(doc):
    """Top-level keys on their own lines, one line per case (compact inside)."""
    lines = ["{"]
    items = [(k, v) for k, v in doc.items() if k != "cases"]
    for k, v in items:
        lines.append("  %s: %s," % (json.dumps(k), json.dumps(v)))
    lines.append('  "cases": [')
    cs = [json.dumps(c, separators=(",", ":")) for c in doc["cases"]]
    lines.append(",\n".join("    " + c for c in cs))
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def make_golden(models_dir, name):
    folder = os.path.join(models_dir, name)
    model = load_model(folder, torch.float64)
    cases = make_cases(model.config, golden_seed(name))
    for case in cases:
        case["expected"], case["max_abs_value"] = expected_for_case(model, case)
    return {
        "model": name,
        "architecture": model.config.architecture,
        "generated_by": "tests/reference/make_goldens.py",
        "reference": "tests/reference/bert_reference.py, float64, rounded to 7 significant digits",
        "weights_dtype": MODELS[name]["dtype"] if name in MODELS else None,
        "hidden_size": model.config.hidden,
        "cases": cases,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write golden reference outputs.")
    ap.add_argument("--models", required=True, help="folder written by make_checkpoints.py")
    ap.add_argument("--out", required=True, help="e.g. tests/data/goldens")
    ap.add_argument("--only", nargs="+", metavar="NAME")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = args.only or DEFAULT_MODELS
    os.makedirs(args.out, exist_ok=True)
    total = 0
    for name in names:
        if not os.path.isdir(os.path.join(args.models, name)):
            print("error: %s not found in %s (run make_checkpoints.py first)"
                  % (name, args.models), file=sys.stderr)
            return 2
        t = time.time()
        text = dumps_golden(make_golden(args.models, name))
        path = os.path.join(args.out, name + ".json")
        with open(path, "w") as f:
            f.write(text)
        total += len(text)
        print("%-24s %7.1f kB  %.1fs" % (name, len(text) / 1e3, time.time() - t))
    print("total %.1f kB" % (total / 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
