#!/usr/bin/env python3
"""Plots minibert-compare --json output: accuracy vs weights in memory, and latency per precision.

Usage (run with Debian's /usr/bin/python3, or $PYTHON; needs python3-matplotlib):
    build/release/examples/minibert-compare --json > compare.json
    /usr/bin/python3 scripts/plot_compare.py compare.json docs/img/compare.png
"""
import json
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        data = json.load(f)
    rows = [r for r in data.get("results", []) if "error" not in r]
    if not rows:
        print("error: %s holds no results" % argv[1], file=sys.stderr)
        return 1
    try:
        import matplotlib
    except ImportError:
        print("error: plotting needs matplotlib: bash scripts/install_deps.sh plot "
              "(Debian: apt-get install python3-matplotlib)", file=sys.stderr)
        return 2
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["variant"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for r in rows:
        left.scatter(r["resident_weights_mib"], 100.0 * r["accuracy"], s=60)
        left.annotate(r["variant"], (r["resident_weights_mib"], 100.0 * r["accuracy"]),
                      textcoords="offset points", xytext=(5, 5))
    left.set_xlabel("weights in memory (MiB)")
    left.set_ylabel("accuracy (%)")
    left.set_title("quality vs size")
    left.grid(alpha=0.3)

    x = range(len(rows))
    right.bar([i - 0.2 for i in x], [r["p50_ms"] for r in rows], width=0.4, label="p50")
    right.bar([i + 0.2 for i in x], [r["p95_ms"] for r in rows], width=0.4, label="p95")
    right.set_xticks(list(x))
    right.set_xticklabels(names, rotation=15)
    right.set_ylabel("latency, batch 1 (ms)")
    right.set_title("latency")
    right.legend()
    fig.suptitle("%s, %d examples, %d thread(s)" % (data.get("model", "?"), data.get("examples", 0),
                                                      data.get("threads", 1)))
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)
    print("wrote", argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
