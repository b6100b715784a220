"""scripts/optimize_report.py: the parameter count from config.json alone, GNU time parsing, the
gains and verdicts arithmetic, the doc section replacement, and one end-to-end run (demo model as
teacher, its fp16 conversion as a "conservative" preset, 40 eval rows, few timed runs) that
writes the JSON, the Markdown section and both plots. Needs minibert-infer and minibert-bench."""

import json
import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))

import optimize_report as R  # noqa: E402
from optimizer import model as M  # noqa: E402
from optimizer import prune  # noqa: E402
from test_optimizer import make_model  # noqa: E402


def test_parameters_from_config_counts_pruned_models():
    m = make_model()
    assert R.parameters_from_config(m.current_config()) == M.parameter_count(m)
    prune.prune_ffn(prune.prune_heads(m, {0: [1, 3], 1: [2]}), {1: [0, 5, 7]})
    cfg = m.current_config()
    assert "pruned_heads" in cfg and "intermediate_sizes" in cfg
    assert R.parameters_from_config(cfg) == M.parameter_count(m)


def test_parse_gnu_time(tmp_path):
    p = tmp_path / "time.txt"
    p.write_text('\tCommand being timed: "python3 x"\n\tUser time (seconds): 100.25\n\tSystem time (seconds): 3.75\n'
                 "\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02:03.5\n"
                 "\tMaximum resident set size (kbytes): 2048\n\tExit status: 0\n")
    t = R.parse_gnu_time(str(p))
    assert t == {"wall_s": 3723.5, "cpu_s": 104.0, "exit_status": 0, "peak_rss_mib": 2.0}
    p.write_text("\tElapsed (wall clock) time (h:mm:ss or m:ss): 2:03.25\n")
    assert R.parse_gnu_time(str(p)) == {"wall_s": 123.2}
    assert R.parse_gnu_time(str(tmp_path / "absent")) is None


def _row(p50, rss, weights, acc, params=1000, file_bytes=4000, tp=10.0):
    s = {"p50_ms": p50, "p95_ms": p50 * 2, "cpu_p50_ms": p50}
    return {"s16": dict(s), "s128": dict(s), "peak_rss_mib": rss, "resident_weights_mib": weights, "accuracy": acc,
            "parameters": params, "weight_file_bytes": file_bytes, "throughput_b32_s128_seq_per_s": tp}


def test_gains_and_verdicts():
    teacher = _row(10.0, 100.0, 40.0, 0.80)
    g = R.gains(_row(2.5, 50.0, 4.0, 0.79, params=250, tp=40.0), teacher)
    assert g["quality_points"] == 1.0 and g["speedup_p50_s128"] == 4.0 and g["latency_change_s128"] == -0.75
    assert g["rss_ratio"] == 2.0 and g["weights_ratio"] == 10.0 and g["parameter_ratio"] == 4.0
    v = {x["check"]: x["met"] for x in R.verdicts("balanced", g)}
    assert v["issue: >= 3x faster at s128 (P50)"] is True
    assert v["issue: >= 4x smaller resident memory (peak RSS)"] is False       # 2x: missed
    assert v["issue: >= 4x smaller resident memory (weights)"] is True
    assert v["quality: at most 3 points below the teacher"] is True
    v = {x["check"]: x["met"] for x in R.verdicts("aggressive", g)}
    assert v["issue: >= 10x faster at s128 (P50)"] is False


def test_write_doc_replaces_only_the_generated_section(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("# Title\n\nhand-written text\n")
    R.write_doc(str(doc), R.BEGIN + "\nfirst\n" + R.END + "\n")
    R.write_doc(str(doc), R.BEGIN + "\nsecond\n" + R.END + "\n")
    text = doc.read_text()
    assert "hand-written text" in text and "second" in text and "first" not in text
    assert text.count(R.END) == 1


def _tool(name):
    try:
        return R.find_tool(name)
    except FileNotFoundError:
        return None


@pytest.mark.skipif((_tool("minibert-infer") is None or _tool("minibert-bench") is None)
                    and not os.environ.get("MINIBERT_REQUIRE_INFER"),
                    reason="minibert-infer / minibert-bench not built (the ctest entry always has them)")
def test_report_end_to_end(tmp_path):
    from optimizer import quant
    teacher = os.path.join(REPO, "models", "sst2-student")
    run = tmp_path / "conservative"
    quant.convert(teacher, str(run / "final"), "fp16", log=lambda *a: None)
    (run / "state.json").write_text(json.dumps({
        "preset": "conservative", "gate_points": 1.0, "outcome": "all 2 steps passed",
        "steps": {"baseline": {"order": 0, "status": "passed", "metrics": {"accuracy": 0.8, "loss_points": 0.0}},
                  "fp16": {"order": 1, "status": "passed", "wall_s": 3.0,
                           "metrics": {"accuracy": 0.8, "loss_points": 0.0}}}}))
    (run / "time.txt").write_text("\tUser time (seconds): 5.0\n\tSystem time (seconds): 1.0\n"
                                  "\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:09.00\n")
    doc = tmp_path / "optimization.md"
    doc.write_text("# Optimisation\n\nkept\n")
    out_json, img = tmp_path / "report.json", tmp_path / "img"
    cmd = [sys.executable, os.path.join(REPO, "scripts", "optimize_report.py"), "--teacher", teacher,
           "--preset", "conservative=%s" % run, "--preset", "balanced=%s" % (tmp_path / "absent"),
           "--eval", os.path.join(REPO, "tests", "optimize", "data", "eval.tsv"), "--iters", "3",
           "--json", str(out_json), "--doc", str(doc), "--img", str(img)]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    for name in ("minibert-infer", "minibert-bench"):
        env["MINIBERT_" + name.split("-")[-1].upper()] = _tool(name) or ""
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    rep = json.loads(out_json.read_text())
    teacher_row, cons = rep["models"]
    assert teacher_row["parameters"] == cons["parameters"]
    # run as minibert's fp16 weights (not widened by "native"); the word embeddings stay fp32, so
    # for the demo model (3.0 M of 5.2 M parameters in them) the resident weights shrink 20 -> 16 MiB
    assert cons["dtype"] == "fp16" and teacher_row["dtype"] == "fp32"
    assert cons["agreement"] >= 0.9 and cons["gains"]["weights_ratio"] > 1.1
    assert cons["run"]["time"] == {"wall_s": 9.0, "cpu_s": 6.0}
    assert rep["missing"][0]["preset"] == "balanced"
    assert {"p50_ms", "p95_ms", "peak_rss_mb"} <= set(cons["s16"]) and cons["throughput_b32_s128_seq_per_s"] > 0
    # the process's own peak (not the forking Python's, which holds torch): well under 200 MiB
    assert 5 < cons["peak_rss_mib"] < 150 and 5 < teacher_row["peak_rss_mib"] < 150
    text = doc.read_text()
    assert "kept" in text and "| conservative |" in text and rep["host"] in text
    for f in ("optimize_latency_accuracy.png", "optimize_memory_accuracy.png"):
        assert (img / f).read_bytes()[:4] == b"\x89PNG"
