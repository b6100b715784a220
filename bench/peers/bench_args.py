"""What the Python-side bench scripts share (torch_bench.py, python_bench.py): the command line
every engine takes, the timing loop and the percentile rule minibert-bench uses. No torch import: python_bench.py
runs without it."""
import time


def add_common_args(ap):
    """--model, --batch, --seq, --threads, --iters, --warmup: one engine run on one shape."""
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    return ap


def percentile(sorted_values, p):
    """The nearest-rank percentile of already sorted values (minibert-bench's rule)."""
    return sorted_values[min(len(sorted_values) - 1, int(round(p * (len(sorted_values) - 1))))]


def time_runs(run, warmup, iters):
    """Calls run() warmup times, then iters timed times. Returns (wall ms sorted, CPU ms sorted,
    total wall ms, the last call's result): wall from perf_counter, CPU from process_time."""
    out = None
    for _ in range(warmup):
        out = run()
    ms, cpu = [], []
    for _ in range(iters):
        c0, s = time.process_time(), time.perf_counter()
        out = run()
        ms.append((time.perf_counter() - s) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    total = sum(ms)
    return sorted(ms), sorted(cpu), total, out
