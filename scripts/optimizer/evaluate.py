"""Scores a model folder on the eval set *with minibert itself* (minibert-infer on token ids), so
every gate judges the file that ships, whatever its dtype; and the PyTorch side for training-time
numbers. Metrics against the teacher: accuracy, label agreement, and mean cosine of the logits."""

import glob
import json
import os
import subprocess
import tempfile

import numpy as np
import torch

from . import model as M


def find_infer(explicit=None):
    for p in [explicit, os.environ.get("MINIBERT_INFER")] + sorted(
            glob.glob(os.path.join(M.REPO, "build*", "examples", "minibert-infer"))):
        if p and os.access(p, os.X_OK):
            return p
    raise FileNotFoundError("minibert-infer not found: build it (cmake --build build --target minibert-infer) "
                            "or pass --infer / set MINIBERT_INFER")


def minibert_logits(folder, data, infer, threads=1, batch=64, dtype="native"):
    """[N, labels] logits of every row of `data` (a data.Dataset), computed by minibert-infer."""
    order = sorted(range(len(data)), key=lambda r: len(data.ids[r]))
    cases = []
    for c, i in enumerate(range(0, len(order), batch)):
        rows = order[i:i + batch]
        L = max(len(data.ids[r]) for r in rows)
        cases.append({"id": str(c), "rows": rows,
                      "input_ids": [data.ids[r] + [0] * (L - len(data.ids[r])) for r in rows],
                      "attention_mask": [[1] * len(data.ids[r]) + [0] * (L - len(data.ids[r])) for r in rows]})
    with tempfile.TemporaryDirectory(prefix="minibert-optimize-") as tmp:
        inp, out = os.path.join(tmp, "cases.json"), os.path.join(tmp, "out.json")
        with open(inp, "w") as f:
            json.dump({"cases": [{k: v for k, v in c.items() if k != "rows"} for c in cases]}, f)
        p = subprocess.run([infer, "--model", folder, "--input", inp, "--output", out, "--threads", str(threads),
                            "--dtype", dtype], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if p.returncode != 0:
            raise RuntimeError("minibert-infer failed on %s: %s" % (folder, p.stdout.decode(errors="replace")[-2000:]))
        with open(out) as f:
            result = json.load(f)
    logits = None
    for c in cases:
        got = np.asarray(result[c["id"]]["logits"], dtype=np.float64)
        if logits is None:
            logits = np.zeros((len(data), got.shape[1]))
        logits[c["rows"]] = got
    return logits


@torch.no_grad()
def torch_logits(model, data, batch=128):
    model.eval()
    out = torch.zeros(len(data), model.classifier.out_features)
    for ids, mask, _, rows in data.batches(batch):
        out[rows] = model(ids, mask)["logits"]
    return out.numpy().astype(np.float64)


def metrics(logits, labels, teacher_logits=None):
    labels = np.asarray(labels)
    m = {"accuracy": float((logits.argmax(1) == labels).mean())}
    if teacher_logits is not None:
        m["agreement"] = float((logits.argmax(1) == teacher_logits.argmax(1)).mean())
        num = (logits * teacher_logits).sum(1)
        den = np.linalg.norm(logits, axis=1) * np.linalg.norm(teacher_logits, axis=1)
        m["cosine"] = float((num / np.maximum(den, 1e-12)).mean())
    return m
