#!/usr/bin/env python3
"""Medians over rounds of bench/peers/run.sh's raw rows -> one table (stdout) and, with --json,
the rows with keys model, engine, dtype, threads, batch, seq, p50_ms, p95_ms, seq_per_s,
peak_rss_mb, load_ms (plus cpu_p50_ms, rounds, vs_ort_p50 / vs_ort_cpu: this row's p50 / ONNX
Runtime's at the same dtype, or at fp32 where ORT has no row of this dtype (fp16, int8-static...),
and vs_fp32_cpu: the same engine's fp32 CPU p50 / this row's, i.e. the speed-up over fp32; and for
the Python package's rows, vs_cpp_p50 / vs_cpp_cpu: this row / minibert-bench's C++ row)."""
import argparse
import json
import statistics
from collections import defaultdict

KEYS = ("p50_ms", "p95_ms", "cpu_p50_ms", "seq_per_s", "peak_rss_mb", "load_ms", "first_logit")
ENGINE_ORDER = {"minibert": 0, "minibert-python": 0.5, "onnxruntime": 1, "onnxruntime-noamx": 2, "pytorch-onednn": 3, "pytorch-qnnpack": 4,
                "pytorch": 5}
MODEL_ORDER = {"bench-tinybert-4l-312": 0, "bench-distilbert-base": 1, "bench-bert-base": 2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("--json")
    a = ap.parse_args()
    groups = defaultdict(list)
    with open(a.raw) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                groups[(r["model"], r["engine"], r["dtype"], r["threads"], r["batch"], r["seq"])].append(r)
    rows = []
    for (model, engine, dtype, threads, batch, seq), rs in groups.items():
        row = dict(model=model, engine=engine, dtype=dtype, threads=threads, batch=batch, seq=seq)
        for k in KEYS:
            row[k] = statistics.median(r[k] for r in rs)
        row["rounds"] = len(rs)
        rows.append(row)
    ort = {(r["model"], r["dtype"], r["threads"], r["batch"], r["seq"]): r for r in rows if r["engine"] == "onnxruntime"}
    one_thread = {(r["model"], r["engine"], r["dtype"], r["batch"], r["seq"]): r for r in rows if r["threads"] == 1}
    fp32 = {(r["model"], r["engine"], r["threads"], r["batch"], r["seq"]): r for r in rows if r["dtype"] == "fp32"}
    cpp = {(r["model"], r["dtype"], r["threads"], r["batch"], r["seq"]): r for r in rows if r["engine"] == "minibert"}
    for r in rows:
        c = cpp.get((r["model"], r["dtype"], r["threads"], r["batch"], r["seq"])) if r["engine"] == "minibert-python" else None
        r["vs_cpp_p50"] = r["p50_ms"] / c["p50_ms"] if c else None
        r["vs_cpp_cpu"] = r["cpu_p50_ms"] / c["cpu_p50_ms"] if c else None
        o = (ort.get((r["model"], r["dtype"], r["threads"], r["batch"], r["seq"]))
             or ort.get((r["model"], "fp32", r["threads"], r["batch"], r["seq"])))
        r["vs_ort_dtype"] = o["dtype"] if o else None
        r["vs_ort_p50"] = r["p50_ms"] / o["p50_ms"] if o else None
        r["vs_ort_cpu"] = r["cpu_p50_ms"] / o["cpu_p50_ms"] if o and r["threads"] == 1 else None
        r["logit_diff_vs_ort"] = abs(r["first_logit"] - o["first_logit"]) if o else None
        base = one_thread.get((r["model"], r["engine"], r["dtype"], r["batch"], r["seq"]))
        r["speedup_vs_1t"] = base["p50_ms"] / r["p50_ms"] if base and r["threads"] > 1 else None
        f = fp32.get((r["model"], r["engine"], r["threads"], r["batch"], r["seq"]))
        r["vs_fp32_cpu"] = f["cpu_p50_ms"] / r["cpu_p50_ms"] if f and r["dtype"] != "fp32" else None
    rows.sort(key=lambda r: (MODEL_ORDER.get(r["model"], 9), r["threads"], r["batch"], r["seq"],
                             r["dtype"] != "fp32", r["dtype"], ENGINE_ORDER.get(r["engine"], 9)))

    def fmt(v, spec):
        return format(v, spec) if v is not None else "-"

    head = ("%-16s %-17s %-12s %2s %7s %9s %9s %9s %8s %7s %8s %7s %7s %7s %7s %3s"
            % ("model", "engine", "dtype", "th", "batch", "p50 ms", "p95 ms", "cpu p50", "seq/s", "RSS MB",
               "load ms", "/ORT", "/ORTcpu", "x fp32", "x 1th", "n"))
    print(head)
    print("-" * len(head))
    for r in rows:
        print("%-16s %-17s %-12s %2d %7s %9.2f %9.2f %9.2f %8.1f %7.0f %8.0f %7s %7s %7s %7s %3d"
              % (r["model"].replace("bench-", "").replace("-base", ""), r["engine"], r["dtype"], r["threads"],
                 "%dx%d" % (r["batch"], r["seq"]), r["p50_ms"], r["p95_ms"], r["cpu_p50_ms"], r["seq_per_s"],
                 r["peak_rss_mb"], r["load_ms"], fmt(r["vs_ort_p50"], ".2f"), fmt(r["vs_ort_cpu"], ".2f"),
                 fmt(r["vs_fp32_cpu"], ".2f"), fmt(r["speedup_vs_1t"], ".2f"), r["rounds"]))
    if any(r["dtype"] != "fp32" for r in rows):
        print("/ORT, /ORTcpu: vs ONNX Runtime at the row's dtype (at fp32 where ORT has none: %s); "
              "x fp32: the same engine's fp32 CPU p50 / this row's" % (", ".join(sorted(
                  {r["dtype"] for r in rows if r["vs_ort_dtype"] == "fp32" and r["dtype"] != "fp32"})) or "-"))
    for r in rows:
        if r["vs_cpp_p50"] is not None:
            print("minibert-python / minibert (C++) %s %s %dth %dx%d: p50 %.3f, cpu p50 %.3f"
                  % (r["model"], r["dtype"], r["threads"], r["batch"], r["seq"], r["vs_cpp_p50"], r["vs_cpp_cpu"]))
    bad = [r for r in rows if r["logit_diff_vs_ort"] is not None and r["dtype"] == "fp32" and r["vs_ort_dtype"] == "fp32"
           and r["logit_diff_vs_ort"] > 1e-3]
    for r in bad:
        print("WARNING: %s %s logits differ from ONNX Runtime's by %.3g" % (r["model"], r["engine"], r["logit_diff_vs_ort"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
