#!/usr/bin/env python3
"""Compare minibert's outputs on a model folder with the float64 PyTorch reference.

Run with Debian's /usr/bin/python3 (or $PYTHON); needs torch and numpy:

    /usr/bin/python3 tests/reference/compare_with_minibert.py \\
        --model models/my-converted-model --infer build/examples/minibert-infer [--tolerance 1e-4]

This is the check to run after scripts/convert_weights.py. It

  1. makes deterministic random inputs for the model (single sequences of length 1, 2, 17, 128,
     512 -- capped at max_position_embeddings; the len128 case leaves attention_mask and
     token_type_ids out -- and a right-padded batch of lengths 17, 1, 128),
  2. writes them as cases.json: {"cases": [{"id", "input_ids": [[...]],
     "attention_mask": [[...]] (optional), "token_type_ids": [[...]] (optional)}]},
  3. runs `minibert-infer --model DIR --input cases.json --output out.json`; out.json maps each
     case id to the model's outputs, batch first: last_hidden_state [B][L][H],
     pooler_output [B][H], mean_pooled [B][H], logits [B][labels] or [B][L][labels],
     start_logits / end_logits [B][L] (padded positions may hold anything),
  4. runs tests/reference/bert_reference.py in float64 on the same inputs and prints, per
     output, the max |minibert - reference| over valid positions.

Exit status: 0 when every element satisfies |diff| <= tolerance + rtol * |reference|
(defaults: tolerance 1e-4, rtol 0), 1 when some output is over, 2 on a usage / tool error.
An output the reference has but minibert does not report is a failure; extra outputs are listed.
For fp16 weights use about --tolerance 1e-2; for real pretrained models, whose hidden states
reach magnitudes of 10 or more, add --rtol 1e-4.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import load_model  # noqa: E402
from make_goldens import PADDED_LENGTHS, SINGLE_LENGTHS, make_cases  # noqa: E402


def parse_lengths(text):
    return tuple(int(x) for x in text.split(",") if x.strip()) if text else ()


class Tally:
    def __init__(self, tol, rtol):
        self.tol, self.rtol = tol, rtol
        self.rows = {}          # output -> [max_abs_diff, max_abs_ref, worst_where, n_over]
        self.errors = []

    def add(self, output, where, got, ref):
        got = np.asarray(got, dtype=np.float64)
        ref = np.asarray(ref, dtype=np.float64)
        if got.shape != ref.shape:
            self.errors.append("%s %s: shape %s, expected %s"
                               % (where, output, list(got.shape), list(ref.shape)))
            return
        if got.size == 0:
            return
        if not np.all(np.isfinite(got)):
            self.errors.append("%s %s: non-finite values" % (where, output))
            return
        d = np.abs(got - ref)
        over = int((d > self.tol + self.rtol * np.abs(ref)).sum())
        r = self.rows.setdefault(output, [0.0, 0.0, "", 0])
        i = int(np.argmax(d))
        if d.flat[i] >= r[0]:
            r[0] = float(d.flat[i])
            idx = np.unravel_index(i, d.shape)
            r[2] = "%s%s" % (where, list(int(x) for x in idx))
        r[1] = max(r[1], float(np.abs(ref).max()))
        r[3] += over


def valid_rows(arr, lengths, per_token):
    """arr: [B][L][...] nested list from the tool; returns [B] list of [len_b][...] arrays."""
    out = []
    for b, n in enumerate(lengths):
        a = np.asarray(arr[b], dtype=np.float64)
        out.append(a[:n] if per_token else a)
    return out


def compare_case(tally, case, got, ref):
    lengths = case["lengths"]
    cid = case["id"]
    for key, ref_t in ref.items():
        if key not in got or got[key] is None:
            tally.errors.append("case %s: minibert reported no %s" % (cid, key))
            continue
        per_token = key in ("last_hidden_state", "start_logits", "end_logits") or \
            (key == "logits" and ref_t.dim() == 3)
        g = got[key]
        if not isinstance(g, list) or len(g) != len(lengths):
            tally.errors.append("case %s %s: expected a batch of %d rows"
                                % (cid, key, len(lengths)))
            continue
        try:
            rows = valid_rows(g, lengths, per_token)
        except (ValueError, TypeError) as e:
            tally.errors.append("case %s %s: malformed (%s)" % (cid, key, e))
            continue
        for b, n in enumerate(lengths):
            r = ref_t[b, :n] if per_token else ref_t[b]
            tally.add(key, "%s b%d" % (cid, b), rows[b], r.numpy())
    extra = sorted(set(got) - set(ref))
    return extra


def main(argv=None):
    ap = argparse.ArgumentParser(description="Compare minibert-infer with the PyTorch reference.")
    ap.add_argument("--model", required=True, help="model folder (config.json + weights)")
    ap.add_argument("--infer", required=True, help="path to the minibert-infer executable")
    ap.add_argument("--tolerance", type=float, default=1e-4, help="absolute tolerance")
    ap.add_argument("--rtol", type=float, default=0.0, help="relative tolerance (added)")
    ap.add_argument("--lengths", default=",".join(map(str, SINGLE_LENGTHS)),
                    help="single-sequence lengths (default %(default)s)")
    ap.add_argument("--padded", default=",".join(map(str, PADDED_LENGTHS)),
                    help="lengths of the padded batch case, '' for none (default %(default)s)")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--infer-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for minibert-infer (repeatable), e.g. --infer-arg=--threads=2")
    ap.add_argument("--keep", metavar="DIR", help="keep cases.json / out.json in DIR")
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)

    try:
        model = load_model(args.model, torch.float64)
    except (OSError, ValueError, KeyError) as e:
        print("error: cannot load %s with the reference: %s" % (args.model, e), file=sys.stderr)
        return 2
    if not os.path.exists(args.infer) and shutil.which(args.infer):
        args.infer = shutil.which(args.infer)
    if not os.path.exists(args.infer):
        print("error: %s does not exist" % args.infer, file=sys.stderr)
        return 2
    cases = make_cases(model.config, args.seed, parse_lengths(args.lengths),
                       parse_lengths(args.padded))
    workdir = args.keep or tempfile.mkdtemp(prefix="minibert-compare-")
    os.makedirs(workdir, exist_ok=True)
    try:
        cases_path = os.path.join(workdir, "cases.json")
        out_path = os.path.join(workdir, "out.json")
        with open(cases_path, "w") as f:
            json.dump({"cases": [{k: v for k, v in c.items() if k != "lengths"} for c in cases]}, f)
        cmd = [args.infer, "--model", args.model, "--input", cases_path, "--output", out_path]
        cmd += args.infer_arg
        t0 = time.time()
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=args.timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            print("error: running %s: %s" % (" ".join(cmd), e), file=sys.stderr)
            return 2
        t_tool = time.time() - t0
        if p.returncode != 0:
            print("error: minibert-infer exited with %d:\n%s"
                  % (p.returncode, p.stdout.decode("utf-8", "replace")[-4000:]), file=sys.stderr)
            return 2
        try:
            with open(out_path) as f:
                got_all = json.load(f)
        except (OSError, ValueError) as e:
            print("error: cannot read %s: %s" % (out_path, e), file=sys.stderr)
            return 2

        tally = Tally(args.tolerance, args.rtol)
        extras = set()
        t0 = time.time()
        for case in cases:
            ref = model.forward(case["input_ids"], case.get("attention_mask"),
                                case.get("token_type_ids"))
            got = got_all.get(case["id"])
            if not isinstance(got, dict):
                tally.errors.append("case %s: missing from %s" % (case["id"], out_path))
                continue
            extras.update(compare_case(tally, case, got, ref))
        t_ref = time.time() - t0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    print("model %s (%s), %d cases; minibert %.2fs, reference %.2fs"
          % (args.model, model.config.architecture, len(cases), t_tool, t_ref))
    print("%-18s %12s %12s  %-6s %s" % ("output", "max|diff|", "max|ref|", "status", "worst at"))
    failed = bool(tally.errors)
    for key, (dmax, rmax, where, over) in tally.rows.items():
        status = "ok" if over == 0 else "FAIL"
        failed |= over > 0
        print("%-18s %12.3g %12.3g  %-6s %s%s" % (key, dmax, rmax, status, where,
                                                 "" if over == 0 else "  (%d over)" % over))
    if extras:
        print("note: minibert also reported %s (not compared)" % ", ".join(sorted(extras)))
    for e in tally.errors:
        print("FAIL: " + e)
    print("tolerance: |diff| <= %g + %g * |ref|  ->  %s"
          % (args.tolerance, args.rtol, "FAILED" if failed else "PASSED"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
