#!/usr/bin/env python3
"""Self-contained test of scripts/convert_weights.py.

Run with Debian's /usr/bin/python3 (or $PYTHON); needs numpy and torch:

    /usr/bin/python3 tests/reference/test_convert_weights.py [--keep]

Writes pytorch_model.bin-only folders (make_checkpoints.py's bin mode) for tiny BERT and
DistilBERT models in a temporary directory, converts them with the real command line, and checks:
tensors round-trip bit-exactly (fp32) or equal numpy's round-to-nearest-even (fp16), names are
canonical, HF-ignored buffers are dropped, config / tokenizer files are copied, safetensors
sources (F32, BF16) convert with numpy only, BertForMaskedLM drops its head, and the refusals
(unknown architecture, unknown model_type, wrong shape, missing and unexpected tensors,
existing output) exit 2 with a message naming the culprit and no traceback.
Prints "N passed, M failed"; exit 0 only when nothing failed.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CONVERT = os.path.join(ROOT, "scripts", "convert_weights.py")
sys.path.insert(0, HERE)
import make_checkpoints as mc  # noqa: E402
from bert_reference import load_model  # noqa: E402
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import convert_weights as cw  # noqa: E402

PASSED, FAILED = [0], [0]


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILED[0] += 1
        print("FAIL: " + what)
    return cond


def run_convert(*args):
    p = subprocess.run([sys.executable, CONVERT] + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    return p.returncode, p.stdout, p.stderr


def raw_safetensors(path):
    """{name: (dtype, shape, raw bytes)} and metadata, without any conversion."""
    import struct
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    return {k: (v["dtype"], tuple(v["shape"]),
                data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
            for k, v in header.items()}, meta


def originals(name):
    """Generated tensors as {name: (st_dtype, array)} (BF16 as uint16 bits)."""
    _, tensors = mc.generate_tensors(name)
    return {n: (d, a) for n, d, a in tensors}


def as_f32(st_dtype, arr):
    if st_dtype == "BF16":
        return mc.bf16_bits_to_float32(arr)
    return np.asarray(arr, dtype=np.float32)


def make_bin(tmp, name):
    folder, _ = mc.write_model(name, os.path.join(tmp, "bin"), "bin", force=True)
    return folder


def edit_bin(folder, fn):
    """Apply fn(state_dict) -> state_dict to folder/pytorch_model.bin."""
    import torch
    p = os.path.join(folder, "pytorch_model.bin")
    sd = torch.load(p, map_location="cpu")
    torch.save(fn(sd), p)


def edit_config(folder, **kv):
    p = os.path.join(folder, "config.json")
    with open(p) as f:
        cfg = json.load(f)
    cfg.update(kv)
    with open(p, "w") as f:
        json.dump(cfg, f, indent=2)


def copy_model(tmp, name, new_name):
    src = make_bin(tmp, name)
    dst = os.path.join(tmp, "bin", new_name)
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst)
    return dst


# ---------------------------------------------------------------------------------------------

def test_fp32_round_trip(tmp, name):
    src = make_bin(tmp, name)
    with open(os.path.join(src, "vocab.txt"), "w") as f:
        f.write("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n")
    out = os.path.join(tmp, "out-" + name)
    rc, so, se = run_convert(src, out)
    if not check(rc == 0, "%s: convert failed rc=%d: %s" % (name, rc, se)):
        return
    check("position_ids" in so, "%s: summary does not mention the dropped position_ids" % name)
    got, meta = raw_safetensors(os.path.join(out, "model.safetensors"))
    orig = originals(name)
    check(meta == {"format": "pt", "minibert_dtype": "fp32"}, "%s: metadata %r" % (name, meta))
    check(set(got) == set(orig), "%s: names differ: %s" % (name, sorted(set(got) ^ set(orig))))
    for n, (d, a) in orig.items():
        if n in got:
            gd, gs, gb = got[n]
            check(gd == "F32" and gs == a.shape and gb == as_f32(d, a).tobytes(),
                  "%s: tensor %s not bit-exact" % (name, n))
    with open(os.path.join(src, "config.json"), "rb") as f1, \
            open(os.path.join(out, "config.json"), "rb") as f2:
        check(f1.read() == f2.read(), "%s: config.json not copied verbatim" % name)
    check(os.path.exists(os.path.join(out, "vocab.txt")), "%s: vocab.txt not copied" % name)
    # the reference gives identical outputs on the original and on the converted folder
    a = load_model(src).forward([[1, 5, 7, 9, 2]])
    b = load_model(out).forward([[1, 5, 7, 9, 2]])
    check(all(float((a[k] - b[k]).abs().max()) == 0.0 for k in a),
          "%s: reference outputs changed by conversion" % name)


def test_fp16(tmp, name):
    src = make_bin(tmp, name)
    out = os.path.join(tmp, "out16-" + name)
    rc, so, se = run_convert(src, out, "--dtype", "fp16")
    if not check(rc == 0, "%s fp16: convert failed: %s" % (name, se)):
        return
    got, meta = raw_safetensors(os.path.join(out, "model.safetensors"))
    check(meta.get("minibert_dtype") == "fp16", "%s fp16: metadata %r" % (name, meta))
    for n, (d, a) in originals(name).items():
        f32 = as_f32(d, a)
        gd, gs, gb = got[n]
        if f32.ndim >= 2:
            g = np.frombuffer(gb, dtype="<f2").reshape(gs)
            ok = gd == "F16" and gb == f32.astype(np.float16).tobytes()
            # within fp16 rounding: |x - fp16(x)| <= half an ulp (relative 2^-11), or subnormal step
            err = np.abs(g.astype(np.float32) - f32)
            ok = ok and bool(np.all(err <= np.maximum(np.abs(f32) * 2.0 ** -11, 2.0 ** -25)))
        else:
            ok = gd == "F32" and gb == f32.tobytes()
        check(ok, "%s fp16: tensor %s not as expected (%s)" % (name, n, gd))
    sz32 = sum(a.nbytes for _, a in originals(name).values())
    check(os.path.getsize(os.path.join(out, "model.safetensors")) < 0.6 * sz32 + 4096,
          "%s fp16: output not about half the size" % name)


def test_int8(tmp, name):
    """--dtype int8: encoder linear weights -> I8 codes in [-127, 127] + F32 per-row scales that
    reproduce the weights within half a step; word embeddings per --embeddings; the rest fp32."""
    src = make_bin(tmp, name)
    for emb in ("int8", "fp16"):
        out = os.path.join(tmp, "out8-%s-%s" % (emb, name))
        rc, so, se = run_convert(src, out, "--dtype", "int8", "--embeddings", emb)
        if not check(rc == 0, "%s int8: convert failed: %s" % (name, se)):
            return
        check("quantised to int8" in so and "kept fp32" in so, "%s int8: no summary: %r" % (name, so))
        got, meta = raw_safetensors(os.path.join(out, "model.safetensors"))
        check(meta.get("minibert_dtype") == "int8" and meta.get("minibert_activations") == "dynamic",
              "%s int8: metadata %r" % (name, meta))
        linear = 0
        for n, (d, a) in originals(name).items():
            f32 = as_f32(d, a)
            quantised = (cw.QUANTIZED_LINEAR.search(n) or
                         (emb == "int8" and cw.WORD_EMBEDDINGS.search(n))) and f32.ndim == 2
            gd, gs, gb = got[n]
            if quantised:
                linear += 1
                codes = np.frombuffer(gb, dtype=np.int8).reshape(gs)
                sd, ss, sb = got[n + "_scale"]
                scale = np.frombuffer(sb, dtype="<f4")
                ok = gd == "I8" and sd == "F32" and list(ss) == [gs[0]] and codes.min() >= -127
                err = np.abs(codes.astype(np.float32) * scale[:, None] - f32)
                ok = ok and bool(np.all(err <= scale[:, None] * 0.5001 + 1e-12))
                check(ok, "%s int8: tensor %s not quantised as expected" % (name, n))
            elif cw.WORD_EMBEDDINGS.search(n) and emb == "fp16":
                check(gd == "F16", "%s int8 --embeddings fp16: %s is %s" % (name, n, gd))
            else:
                check(gd == "F32" and gb == f32.tobytes(), "%s int8: %s should stay fp32" % (name, n))
        check(linear > 0, "%s int8: nothing was quantised" % name)
    # an int8 folder is not a source
    rc, so, se = run_convert(out, os.path.join(tmp, "out8-again-" + name), "--dtype", "int8")
    check(rc == 2 and "already quantised" in se, "%s int8 of int8: %r" % (name, se))
    expect_refusal("--calibrate without int8", [src, os.path.join(tmp, "x-cal"), "--dtype", "fp16",
                                                "--calibrate", "/nonexistent"], ["--dtype int8"])
    expect_refusal("missing calibration file", [src, os.path.join(tmp, "x-cal2"), "--dtype", "int8",
                                                "--calibrate", "/nonexistent/lines.txt"],
                   ["/nonexistent/lines.txt"])


def test_safetensors_source(tmp, name):
    src, _ = mc.write_model(name, os.path.join(tmp, "st"), "safetensors", force=True)
    out = os.path.join(tmp, "out-st-" + name)
    rc, so, se = run_convert(src, out)
    if not check(rc == 0, "%s (safetensors): convert failed: %s" % (name, se)):
        return
    got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
    for n, (d, a) in originals(name).items():
        check(got[n][0] == "F32" and got[n][2] == as_f32(d, a).tobytes(),
              "%s (safetensors): tensor %s not exact" % (name, n))


def test_prefix_and_pooler(tmp):
    # BertModel config, but tensors saved with the bert. prefix: output uses bare names
    d = copy_model(tmp, "tiny-bert", "prefixed-bert")
    edit_bin(d, lambda sd: {"bert." + k: v for k, v in sd.items()})
    out = os.path.join(tmp, "out-prefixed")
    rc, so, se = run_convert(d, out)
    if check(rc == 0, "prefixed BertModel: %s" % se):
        got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
        check(set(got) == set(originals("tiny-bert")), "prefixed BertModel: names not bare")
    # token classification checkpoint carrying a pooler (HF ignores it): dropped
    d = copy_model(tmp, "tiny-bert-tokcls", "tokcls-with-pooler")
    import torch

    def add_pooler(sd):
        sd["bert.pooler.dense.weight"] = torch.zeros(32, 32)
        sd["bert.pooler.dense.bias"] = torch.zeros(32)
        return sd
    edit_bin(d, add_pooler)
    out = os.path.join(tmp, "out-tokcls-pooler")
    rc, so, se = run_convert(d, out)
    if check(rc == 0, "tokcls with pooler: %s" % se):
        got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
        check(not any("pooler" in k for k in got), "tokcls with pooler: pooler kept")
        check("bert.pooler.dense.weight" in so, "tokcls with pooler: drop not reported")


def test_masked_lm(tmp):
    import torch
    d = copy_model(tmp, "tiny-bert", "mlm-bert")

    def to_mlm(sd):
        new = {}
        for k, v in sd.items():
            k = "bert." + k
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                         "LayerNorm.beta")
            new[k] = v
        new["cls.predictions.bias"] = torch.zeros(100)
        new["cls.predictions.transform.dense.weight"] = torch.zeros(32, 32)
        new["cls.predictions.transform.dense.bias"] = torch.zeros(32)
        new["cls.predictions.transform.LayerNorm.weight"] = torch.ones(32)
        new["cls.predictions.transform.LayerNorm.bias"] = torch.zeros(32)
        new["cls.predictions.decoder.weight"] = torch.zeros(100, 32)
        return new
    edit_bin(d, to_mlm)
    edit_config(d, architectures=["BertForMaskedLM"])
    out = os.path.join(tmp, "out-mlm")
    rc, so, se = run_convert(d, out)
    if not check(rc == 0, "BertForMaskedLM: %s" % se):
        return
    got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
    orig = originals("tiny-bert")
    check(set(got) == set(orig), "BertForMaskedLM: names %s" % sorted(set(got) ^ set(orig)))
    check(all(got[n][2] == as_f32(*orig[n]).tobytes() for n in orig if n in got),
          "BertForMaskedLM: tensors not exact")
    with open(os.path.join(out, "config.json")) as f:
        check(json.load(f)["architectures"] == ["BertModel"], "BertForMaskedLM: config arch")
    check("BertForMaskedLM" in so and "cls.predictions" in so, "BertForMaskedLM: no note")

    d = copy_model(tmp, "tiny-distilbert", "mlm-distilbert")

    def to_distil_mlm(sd):
        new = {"distilbert." + k: v for k, v in sd.items()}
        new["vocab_transform.weight"] = torch.zeros(32, 32)
        new["vocab_transform.bias"] = torch.zeros(32)
        new["vocab_layer_norm.weight"] = torch.ones(32)
        new["vocab_layer_norm.bias"] = torch.zeros(32)
        new["vocab_projector.weight"] = torch.zeros(100, 32)
        new["vocab_projector.bias"] = torch.zeros(100)
        return new
    edit_bin(d, to_distil_mlm)
    edit_config(d, architectures=["DistilBertForMaskedLM"])
    out = os.path.join(tmp, "out-distil-mlm")
    rc, so, se = run_convert(d, out)
    if check(rc == 0, "DistilBertForMaskedLM: %s" % se):
        got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
        orig = originals("tiny-distilbert")
        check(set(got) == set(orig), "DistilBertForMaskedLM: names %s" % sorted(set(got) ^ set(orig)))
        with open(os.path.join(out, "config.json")) as f:
            check(json.load(f)["architectures"] == ["DistilBertModel"],
                  "DistilBertForMaskedLM: config arch")


def expect_refusal(what, args, must_contain):
    rc, so, se = run_convert(*args)
    check(rc == 2, "%s: expected exit 2, got %d (stderr %r)" % (what, rc, se))
    check("Traceback" not in se, "%s: printed a traceback" % what)
    for s in must_contain:
        check(s in se, "%s: message does not name %r: %r" % (what, s, se))
    return se


def test_refusals(tmp):
    import torch
    d = copy_model(tmp, "tiny-bert-seqcls", "bad-arch")
    edit_config(d, architectures=["BertForMultipleChoice"])
    expect_refusal("unknown architecture", [d, os.path.join(tmp, "x1")],
                   ["BertForMultipleChoice"])
    d = copy_model(tmp, "tiny-distilbert", "bad-type")
    edit_config(d, model_type="roberta")
    expect_refusal("unknown model_type", [d, os.path.join(tmp, "x2")], ["roberta"])
    d = copy_model(tmp, "tiny-bert-seqcls", "bad-shape")
    name = "bert.encoder.layer.1.intermediate.dense.weight"
    edit_bin(d, lambda sd: dict(sd, **{name: torch.zeros(36, 32)}))
    expect_refusal("wrong shape", [d, os.path.join(tmp, "x3")], [name, "[36, 32]"])
    d = copy_model(tmp, "tiny-distilbert-qa", "missing")
    name = "distilbert.transformer.layer.0.ffn.lin2.bias"
    edit_bin(d, lambda sd: {k: v for k, v in sd.items() if k != name})
    expect_refusal("missing tensor", [d, os.path.join(tmp, "x4")], [name])
    d = copy_model(tmp, "tiny-bert-qa", "extra")
    edit_bin(d, lambda sd: dict(sd, **{"bert.encoder.layer.2.output.dense.bias": torch.zeros(32)}))
    expect_refusal("unexpected tensor", [d, os.path.join(tmp, "x5")],
                   ["bert.encoder.layer.2.output.dense.bias"])
    d = copy_model(tmp, "tiny-bert-seqcls", "labels")
    edit_config(d, id2label={"0": "A", "1": "B"}, label2id={"A": 0, "B": 1})
    expect_refusal("classifier vs id2label", [d, os.path.join(tmp, "x6")], ["classifier.weight"])
    # an existing output is not overwritten without --force
    out = os.path.join(tmp, "out-exists")
    src = make_bin(tmp, "tiny-distilbert")
    check(run_convert(src, out)[0] == 0, "first conversion failed")
    expect_refusal("existing output", [src, out], ["--force"])
    check(run_convert(src, out, "--force")[0] == 0, "--force did not overwrite")


def test_family_refusals(tmp):
    """A family's own tensors are checked like BERT's: RoBERTa's classification head, MPNet's
    relative position table; a pooler in a RoBERTa task model is dropped, as transformers does."""
    import torch
    d = copy_model(tmp, "tiny-roberta-seqcls", "roberta-no-out-proj")
    edit_bin(d, lambda sd: {k: v for k, v in sd.items() if k != "classifier.out_proj.weight"})
    expect_refusal("RoBERTa head missing", [d, os.path.join(tmp, "o-r")], ["classifier.out_proj.weight"])
    d = copy_model(tmp, "tiny-mpnet", "mpnet-bad-bias")

    def cut_bias(sd):
        sd["encoder.relative_attention_bias.weight"] = sd["encoder.relative_attention_bias.weight"][:16].clone()
        return sd
    edit_bin(d, cut_bias)
    expect_refusal("MPNet bias table shape", [d, os.path.join(tmp, "o-m")], ["relative_attention_bias", "[16, 4]"])
    d = copy_model(tmp, "tiny-roberta-qa", "roberta-qa-pooler")

    def add_pooler(sd):
        h = sd["qa_outputs.weight"].shape[1]
        sd["roberta.pooler.dense.weight"] = torch.zeros(h, h)
        sd["roberta.pooler.dense.bias"] = torch.zeros(h)
        return sd
    edit_bin(d, add_pooler)
    out = os.path.join(tmp, "o-rq")
    rc, so, se = run_convert(d, out)
    if check(rc == 0, "RoBERTa QA with a pooler: convert failed: %s" % se):
        got, _ = raw_safetensors(os.path.join(out, "model.safetensors"))
        check(not any("pooler" in n for n in got), "RoBERTa QA: pooler kept")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Test scripts/convert_weights.py")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        print("error: this test needs torch (python3-torch)", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="minibert-convert-test-")
    try:
        test_fp32_round_trip(tmp, "tiny-bert-seqcls")
        test_fp32_round_trip(tmp, "tiny-distilbert-seqcls")
        test_fp32_round_trip(tmp, "tiny-bert")
        test_fp32_round_trip(tmp, "tiny-bert-f16")        # fp16 .bin widened exactly
        test_fp16(tmp, "tiny-distilbert-qa")
        test_fp16(tmp, "tiny-bert-tokcls")
        test_int8(tmp, "tiny-bert-seqcls")
        test_int8(tmp, "tiny-distilbert-qa")
        test_safetensors_source(tmp, "tiny-bert-bf16")
        test_safetensors_source(tmp, "tiny-distilbert-tokcls")
        test_prefix_and_pooler(tmp)
        test_masked_lm(tmp)
        test_refusals(tmp)
        # the other families' names (RoBERTa/XLM-R/CamemBERT, ELECTRA with embeddings_project,
        # MPNet's attention.attn.* and relative_attention_bias), each dtype once
        test_fp32_round_trip(tmp, "tiny-xlmr-seqcls")
        test_fp32_round_trip(tmp, "tiny-electra")
        test_fp32_round_trip(tmp, "tiny-mpnet-qa")
        test_fp16(tmp, "tiny-camembert-tokcls")
        test_int8(tmp, "tiny-electra-seqcls")
        test_int8(tmp, "tiny-mpnet")
        test_family_refusals(tmp)
    finally:
        if args.keep:
            print("kept " + tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (PASSED[0], FAILED[0]))
    return 0 if FAILED[0] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
