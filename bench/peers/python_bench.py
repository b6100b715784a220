#!/usr/bin/env python3
"""minibert through its Python package (python/, ctypes over libminibert_c) on one bench model
folder: the same JSON line as minibert-bench and torch_bench.py, so bench/peers/run.sh shows it as
the row "minibert-python" beside minibert-bench's C++ row ("minibert") and PyTorch's.

    MINIBERT_C_LIBRARY=build-perf/libminibert_c.so /usr/bin/python3 bench/peers/python_bench.py \
        --model DIR --batch 1 --seq 16 --threads 1 --iters 200 [--warmup 5] [--dtype fp32]

Timed: Model.forward(ids) -> numpy logits, i.e. minibert-bench's Session::run plus everything the
package adds (argument checks, ctypes marshalling, the output copied into a new numpy array); the
ids are minibert-bench's (bench_id below, the same formula as examples/minibert_bench.cpp), so the
first logit must equal its. --text times Model.classify on a text of --seq tokens instead
(tokenizer and softmax included: what a user calls), with a folder that has a tokenizer.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import minibert  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_args import add_common_args, percentile, time_runs  # noqa: E402


def bench_id(b, t, vocab):
    base = 1000 if vocab > 2000 else vocab // 2
    return base + (t * 7919 + b * 104729) % (vocab - base)


def main():
    ap = add_common_args(argparse.ArgumentParser())
    ap.add_argument("--dtype", default="fp32")
    ap.add_argument("--text", action="store_true", help="time classify(texts) instead of forward(ids)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    if a.text:
        model = minibert.Model.load(a.model, dtype=a.dtype, threads=a.threads)
    else:  # ids only: any checkpoint, no tokenizer needed
        model = minibert.Model.load(a.model, dtype=a.dtype, threads=a.threads, tokenizer=False)
    load_ms = (time.perf_counter() - t0) * 1e3
    with open(os.path.join(a.model, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    ids = np.array([[bench_id(b, t, vocab) for t in range(a.seq)] for b in range(a.batch)], dtype=np.int32)
    ids[:, 0], ids[:, -1] = min(101, vocab - 1), min(102, vocab - 1)
    if a.text:
        words = " ".join(["movie"] * (a.seq - 2))  # one token each with a BERT vocabulary
        texts = [words] * a.batch
        assert model.tokenize(words).ids.size == a.seq, "the text is not --seq tokens with this tokenizer"

        def run():
            return np.array([c.logits for c in model.classify(texts, batch_size=a.batch)])
    else:
        def run():
            return model.forward(ids)
    ms, cpu, total, out = time_runs(run, a.warmup, a.iters)
    print(json.dumps({
        "engine": "minibert-python" + ("-text" if a.text else ""), "dtype": a.dtype, "threads": a.threads,
        "batch": a.batch, "seq": a.seq, "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
        "cpu_p50_ms": percentile(cpu, 0.5), "seq_per_s": a.batch * len(ms) / (total / 1e3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "load_ms": load_ms,
        "first_logit": float(np.asarray(out).ravel()[0]), "kernel_isa": model.kernel_isa,
    }))


if __name__ == "__main__":
    main()
