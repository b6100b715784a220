#!/usr/bin/env python3
"""PyTorch eager (Debian's torch, torch.inference_mode) on one bench model folder: load time,
latency percentiles, throughput and this process's peak resident memory, as one JSON line.

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/peers/torch_bench.py --model DIR \
        --batch 1 --seq 128 --threads 1 --iters 50 [--warmup 5]

The model is peer_model.PeerModel (nn.Linear, F.layer_norm, F.gelu: what a user's model runs);
inputs are the ids every engine uses. Debian's torch 1.13 is built with BLAS_INFO=generic and
this machine's libblas is netlib's reference BLAS (measured: 2.6 GFLOP/s for a 128x768x768
matmul), so by default the nn.Linear layers are converted with torch.utils.mkldnn.to_mkldnn
(oneDNN, ~75 GFLOP/s on the same matmul), the fastest eager setup this torch offers; --plain
keeps the reference BLAS. The attention's batched matmuls stay on torch's own kernels either way.

--dtype int8-dynamic applies torch.quantization.quantize_dynamic(model, {nn.Linear}, qint8) to the
plain model (every nn.Linear -> torch.nn.quantized.dynamic.Linear: int8 weights, activations
quantized per run) on the quantized engine --qengine (default: torch's default; this torch has
no fbgemm, its engines are onednn and qnnpack). The row's engine is then "pytorch-<qengine>".
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_args import add_common_args, percentile, time_runs  # noqa: E402
from peer_model import bench_inputs, load_peer_model  # noqa: E402


def main():
    ap = add_common_args(argparse.ArgumentParser())
    ap.add_argument("--plain", action="store_true", help="keep nn.Linear on torch's BLAS")
    ap.add_argument("--dtype", default="fp32", choices=("fp32", "int8-dynamic"))
    ap.add_argument("--qengine", default=torch.backends.quantized.engine,
                    choices=torch.backends.quantized.supported_engines)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    t0 = time.perf_counter()
    model = load_peer_model(a.model)
    engine = "pytorch" if a.plain else "pytorch-onednn"
    if a.dtype == "int8-dynamic":
        torch.backends.quantized.engine = a.qengine
        config = model.config
        model = torch.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        model.config = config
        linears = [m for m in model.modules() if type(m) is torch.nn.Linear]
        qlinears = [m for m in model.modules() if isinstance(m, torch.nn.quantized.dynamic.Linear)]
        if linears or not qlinears:
            raise SystemExit("quantize_dynamic left %d nn.Linear, made %d quantized ones" % (len(linears), len(qlinears)))
        engine = "pytorch-" + a.qengine
    elif not a.plain:
        from torch.utils import mkldnn
        model = mkldnn.to_mkldnn(model)
    load_ms = (time.perf_counter() - t0) * 1e3
    inputs = bench_inputs(model.config, a.batch, a.seq)
    with torch.inference_mode():
        ms, cpu, total, logits = time_runs(lambda: model(*inputs), a.warmup, a.iters)
    print(json.dumps({
        "engine": engine, "dtype": a.dtype, "threads": a.threads, "batch": a.batch, "seq": a.seq,
        "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95), "cpu_p50_ms": percentile(cpu, 0.5),
        "seq_per_s": a.batch * len(ms) / (total / 1e3),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "load_ms": load_ms,
        "first_logit": float(logits.flatten()[0]), "torch_version": torch.__version__,
    }))


if __name__ == "__main__":
    main()
