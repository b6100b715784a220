#!/usr/bin/env python3
"""Plots bench/peers/run.sh --json rows: per model, each engine's 1-thread time at one dtype
relative to ONNX Runtime's at the same dtype (bars: CPU-time p50, the steady figure on a shared VM;
dots: wall-clock p50).

    /usr/bin/python3 bench/peers/plot.py ROWS.json docs/img/peers_fp32.png
    /usr/bin/python3 bench/peers/plot.py ROWS.json docs/img/peers_int8.png int8-dynamic
"""
import json
import sys

try:
    import matplotlib
except ImportError:  # install line: the plotting scripts' one dependency
    sys.exit("error: plotting needs matplotlib: bash scripts/install_deps.sh plot "
             "(Debian: apt-get install python3-matplotlib)")

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MODELS = [("bench-tinybert-4l-312", "TinyBERT-4L-312"), ("bench-distilbert-base", "DistilBERT-base shape"),
          ("bench-bert-base", "BERT-base shape")]
SHAPES = [(1, 16), (1, 128), (8, 128)]
COLORS = {"minibert": "#1f77b4", "onnxruntime": "#ff7f0e", "onnxruntime-noamx": "#d62728", "pytorch-onednn": "#2ca02c",
          "pytorch-qnnpack": "#8c564b", "pytorch": "#9467bd"}


def main():
    rows = json.load(open(sys.argv[1]))
    out = sys.argv[2]
    dtype = sys.argv[3] if len(sys.argv) > 3 else "fp32"
    rows = [r for r in rows if r["dtype"] == dtype]
    engines = [e for e in COLORS if any(r["engine"] == e for r in rows)]
    fig, axes = plt.subplots(1, len(MODELS), figsize=(13, 4), sharey=True)
    top = 3.5
    for ax, (model, title) in zip(axes, MODELS):
        width = 0.8 / len(engines)
        for i, engine in enumerate(engines):
            xs, cpu, wall = [], [], []
            for j, (b, s) in enumerate(SHAPES):
                pick = [r for r in rows if r["model"] == model and r["engine"] == engine and r["threads"] == 1
                        and r["batch"] == b and r["seq"] == s]
                ort = [r for r in rows if r["model"] == model and r["engine"] == "onnxruntime" and r["threads"] == 1
                       and r["batch"] == b and r["seq"] == s]
                if pick and ort:
                    xs.append(j + (i - (len(engines) - 1) / 2) * width)
                    cpu.append(pick[0]["cpu_p50_ms"] / ort[0]["cpu_p50_ms"])
                    wall.append(pick[0]["p50_ms"] / ort[0]["p50_ms"])
            top = max([top] + [1.1 * v for v in cpu + wall])
            ax.bar(xs, cpu, width, color=COLORS[engine], label=engine)
            ax.plot(xs, wall, "k.", markersize=5)
        ax.axhline(1.0, color="gray", lw=0.8)
        ax.set_xticks(range(len(SHAPES)))
        ax.set_xticklabels(["batch %d x %d" % s for s in SHAPES])
        ax.set_title(title)
    axes[0].set_ylabel("time / ONNX Runtime's, %s\n(1 thread, lower is better)" % dtype, fontsize=9)
    axes[0].set_ylim(0, top)
    axes[0].legend(loc="upper left", fontsize=8, title="bars: CPU p50; dots: wall p50", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote", out)


if __name__ == "__main__":
    main()
