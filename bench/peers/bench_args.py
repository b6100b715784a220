"""What the Python-side bench scripts share (torch_bench.py, python_bench.py): the command line
every engine takes and the percentile rule minibert-bench uses. No torch import: python_bench.py
runs without it."""


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
