#!/usr/bin/env python3
"""Sanity checks of the PyTorch reference itself (not of minibert).

Run with Debian's /usr/bin/python3 (or $PYTHON), after make_checkpoints.py:

    /usr/bin/python3 tests/reference/check_reference.py --models /tmp/minibert-models [--goldens tests/data/goldens]

Checks, exit 0 when all pass ("N passed, 0 failed"):
  1. bert_reference agrees with a second, independent construction from torch.nn building
     blocks (nn.TransformerEncoderLayer post-norm + nn.Embedding + nn.Linear, F.gelu exact /
     tanh, relu) on the tiny models, padded batch included, in float64.
  2. A padded batch gives the same valid outputs as running each sequence alone.
  3. Head models share the encoder math: the encoder of a BertFor*/DistilBertFor* checkpoint
     saved as a bare BertModel/DistilBertModel (prefix stripped) gives the same hidden states,
     and the head recomputed by hand from them gives the same logits.
  4. The checkpoints are not degenerate: attention is neither uniform nor one-hot, hidden
     states vary across tokens, tanh in the pooler is not saturated.
  5. The goldens (if --goldens) are reproduced by the reference from the checkpoints.
Also prints float32-vs-float64 reference differences, which back the tolerance advice.
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_reference import load_model, read_safetensors  # noqa: E402
from make_checkpoints import write_safetensors  # noqa: E402
from make_goldens import golden_seed, make_cases, sample_positions  # noqa: E402

TINY = ["tiny-bert", "tiny-bert-seqcls", "tiny-bert-tokcls", "tiny-bert-qa", "tiny-bert-f16",
        "tiny-bert-bf16", "tiny-distilbert", "tiny-distilbert-seqcls", "tiny-distilbert-tokcls",
        "tiny-distilbert-qa"]

RESULTS = {"passed": 0, "failed": 0}


def check(cond, what):
    if cond:
        RESULTS["passed"] += 1
    else:
        RESULTS["failed"] += 1
        print("FAIL:", what)


def maxdiff(a, b):
    return float((a - b).abs().max())


# ---- 1. independent construction with torch.nn ----------------------------------------------

def torch_nn_encoder(model):
    """Builds an equivalent encoder from nn modules using model.w (already prefix-stripped)."""
    c, w = model.config, model.w
    dt = torch.float64
    act = {"gelu": lambda x: F.gelu(x), "relu": F.relu,
           "gelu_new": lambda x: F.gelu(x, approximate="tanh")}[c.act]
    bert = c.model_type == "bert"
    names = (("attention.self.query", "attention.self.key", "attention.self.value",
              "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
              "output.dense", "output.LayerNorm") if bert else
             ("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin",
              "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"))
    layers = []
    for i in range(c.layers):
        P = ("encoder.layer.%d." if bert else "transformer.layer.%d.") % i
        q, k, v, o, ln1, f1, f2, ln2 = [P + n for n in names]
        L = torch.nn.TransformerEncoderLayer(c.hidden, c.heads, c.intermediate, dropout=0.0,
                                             activation=act, layer_norm_eps=c.eps,
                                             batch_first=True, norm_first=False).to(dt)
        with torch.no_grad():
            L.self_attn.in_proj_weight.copy_(torch.cat([w[q + ".weight"], w[k + ".weight"],
                                                        w[v + ".weight"]]))
            L.self_attn.in_proj_bias.copy_(torch.cat([w[q + ".bias"], w[k + ".bias"],
                                                      w[v + ".bias"]]))
            L.self_attn.out_proj.weight.copy_(w[o + ".weight"])
            L.self_attn.out_proj.bias.copy_(w[o + ".bias"])
            L.norm1.weight.copy_(w[ln1 + ".weight"]); L.norm1.bias.copy_(w[ln1 + ".bias"])
            L.linear1.weight.copy_(w[f1 + ".weight"]); L.linear1.bias.copy_(w[f1 + ".bias"])
            L.linear2.weight.copy_(w[f2 + ".weight"]); L.linear2.bias.copy_(w[f2 + ".bias"])
            L.norm2.weight.copy_(w[ln2 + ".weight"]); L.norm2.bias.copy_(w[ln2 + ".bias"])
        L.eval()
        layers.append(L)
    emb_ln = torch.nn.LayerNorm(c.hidden, eps=c.eps).to(dt)
    with torch.no_grad():
        emb_ln.weight.copy_(w["embeddings.LayerNorm.weight"])
        emb_ln.bias.copy_(w["embeddings.LayerNorm.bias"])

    @torch.no_grad()
    def run(ids, mask, types):
        ids = torch.as_tensor(ids)
        B, T = ids.shape
        x = F.embedding(ids, w["embeddings.word_embeddings.weight"])
        x = x + w["embeddings.position_embeddings.weight"][torch.arange(T)][None]
        if bert:
            tt = torch.zeros_like(ids) if types is None else torch.as_tensor(types)
            x = x + F.embedding(tt, w["embeddings.token_type_embeddings.weight"])
        x = emb_ln(x)
        pad = None if mask is None else (torch.as_tensor(mask) == 0)
        for L in layers:
            x = L(x, src_key_padding_mask=pad)
        return x
    return run


def check_against_torch_nn(models_dir):
    worst = 0.0
    for name in TINY:
        m = load_model(os.path.join(models_dir, name))
        run = torch_nn_encoder(m)
        for case in make_cases(m.config, 1234, single_lengths=(1, 5, 40), padded_lengths=(9, 1, 30)):
            mask, types = case.get("attention_mask"), case.get("token_type_ids")
            ref = m.forward(case["input_ids"], mask, types)["last_hidden_state"]
            alt = run(case["input_ids"], mask, types)
            d = max(maxdiff(ref[b, :n], alt[b, :n]) for b, n in enumerate(case["lengths"]))
            worst = max(worst, d)
            check(d < 1e-10, "%s %s: reference vs torch.nn encoder differ by %g"
                  % (name, case["id"], d))
    print("1. reference vs torch.nn construction: max |diff| %.3g (float64)" % worst)


# ---- 2. padded batch == one by one ---------------------------------------------------------

def check_padding(models_dir, names):
    worst = 0.0
    for name in names:
        m = load_model(os.path.join(models_dir, name))
        case = make_cases(m.config, 99, single_lengths=(), padded_lengths=(17, 1, 128))[0]
        full = m.forward(case["input_ids"], case["attention_mask"], case.get("token_type_ids"))
        for b, n in enumerate(case["lengths"]):
            one = m.forward([case["input_ids"][b][:n]], [[1] * n],
                            [case["token_type_ids"][b][:n]] if "token_type_ids" in case else None)
            for k, v in one.items():
                if k == "logits" and v.dim() == 2 or k in ("pooler_output", "mean_pooled"):
                    d = maxdiff(full[k][b], v[0])
                else:
                    d = maxdiff(full[k][b, :n], v[0])
                worst = max(worst, d)
                check(d < 1e-12, "%s row %d %s: padded vs alone differ by %g" % (name, b, k, d))
    print("2. padded batch vs one by one: max |diff| %.3g" % worst)


# ---- 3. heads share the encoder math --------------------------------------------------------

def check_heads(models_dir):
    tmp = tempfile.mkdtemp(prefix="minibert-ref-")
    try:
        for name, bare_arch in (("tiny-bert-seqcls", "BertModel"),
                                ("tiny-bert-tokcls", "BertModel"),
                                ("tiny-bert-qa", "BertModel"),
                                ("tiny-distilbert-seqcls", "DistilBertModel"),
                                ("tiny-distilbert-tokcls", "DistilBertModel"),
                                ("tiny-distilbert-qa", "DistilBertModel")):
            src = os.path.join(models_dir, name)
            with open(os.path.join(src, "config.json")) as f:
                cfg = json.load(f)
            tensors, _ = read_safetensors(os.path.join(src, "model.safetensors"))
            prefix = "bert." if cfg["model_type"] == "bert" else "distilbert."
            bare = [(k[len(prefix):], "F32", v) for k, v in tensors.items() if k.startswith(prefix)]
            heads = {k: torch.from_numpy(np.array(v, dtype=np.float64))
                     for k, v in tensors.items() if not k.startswith(prefix)}
            cfg["architectures"] = [bare_arch]
            d = os.path.join(tmp, name)
            os.makedirs(d)
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(cfg, f)
            write_safetensors(os.path.join(d, "model.safetensors"), bare, {"format": "pt"})
            m_head = load_model(src)
            m_bare = load_model(d)      # tokcls / QA encoders have no pooler: none computed
            case = make_cases(m_head.config, 7, single_lengths=(), padded_lengths=(11, 3))[0]
            args = (case["input_ids"], case["attention_mask"], case.get("token_type_ids"))
            oh = m_head.forward(*args)
            ob = m_bare.forward(*args)
            h = ob["last_hidden_state"]
            d1 = max(maxdiff(oh["last_hidden_state"][b, :n], h[b, :n])
                     for b, n in enumerate(case["lengths"]))
            check(d1 == 0.0, "%s: head model encoder != bare encoder (%g)" % (name, d1))
            lin = lambda x, p: x @ heads[p + ".weight"].t() + heads[p + ".bias"]  # noqa: E731
            if name.endswith("seqcls"):
                if prefix == "bert.":
                    feat = ob["pooler_output"]
                else:
                    feat = torch.relu(lin(h[:, 0], "pre_classifier"))
                d2 = maxdiff(lin(feat, "classifier"), oh["logits"])
            elif name.endswith("tokcls"):
                d2 = max(maxdiff(lin(h, "classifier")[b, :n], oh["logits"][b, :n])
                         for b, n in enumerate(case["lengths"]))
            else:
                se = lin(h, "qa_outputs")
                d2 = max(max(maxdiff(se[b, :n, 0], oh["start_logits"][b, :n]),
                             maxdiff(se[b, :n, 1], oh["end_logits"][b, :n]))
                         for b, n in enumerate(case["lengths"]))
            check(d2 < 1e-12, "%s: head recomputed by hand differs by %g" % (name, d2))
        print("3. heads share the encoder; heads recomputed by hand agree")
    finally:
        shutil.rmtree(tmp)


# ---- 4. non-degenerate ----------------------------------------------------------------------

def attention_stats(m, ids):
    """Mean max-probability and mean entropy/log(L) of layer 0's attention."""
    c = m.config
    L = len(ids[0])
    h = m.embeddings(torch.as_tensor(ids), torch.zeros(1, L, dtype=torch.long))
    q_name, k_name = (("encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.key")
                      if c.model_type == "bert" else
                      ("transformer.layer.0.attention.q_lin", "transformer.layer.0.attention.k_lin"))
    d = c.hidden // c.heads
    q = (h @ m.w[q_name + ".weight"].t() + m.w[q_name + ".bias"]).view(1, L, c.heads, d).transpose(1, 2)
    k = (h @ m.w[k_name + ".weight"].t() + m.w[k_name + ".bias"]).view(1, L, c.heads, d).transpose(1, 2)
    p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), -1)
    ent = -(p * torch.log(p.clamp_min(1e-300))).sum(-1) / math.log(L)
    return float(p.max(-1).values.mean()), float(ent.mean())


def check_nondegenerate(models_dir, names):
    for name in names:
        m = load_model(os.path.join(models_dir, name))
        rng = np.random.default_rng(5)
        ids = rng.integers(0, m.config.vocab, size=(1, 64)).tolist()
        pmax, ent = attention_stats(m, ids)
        out = m.forward(ids)
        h = out["last_hidden_state"][0]
        tok_std = float(h.std(0).mean())          # variation across tokens
        msg = "%-24s attn mean max-prob %.2f, entropy/log L %.2f, token std %.2f" % (
            name, pmax, ent, tok_std)
        if "pooler_output" in out:
            sat = float((out["pooler_output"].abs() > 0.999).double().mean())
            msg += ", pooler |tanh|>0.999: %.0f%%" % (100 * sat)
            check(sat < 0.2, "%s: pooler saturated" % name)
        print("4. " + msg)
        check(0.06 < pmax < 0.9 and 0.2 < ent < 0.98, "%s: attention degenerate" % name)
        check(tok_std > 0.2, "%s: hidden states hardly vary across tokens" % name)


# ---- 5. goldens reproduce -------------------------------------------------------------------

def check_goldens(models_dir, goldens_dir, names):
    worst = 0.0
    for name in names:
        path = os.path.join(goldens_dir, name + ".json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            g = json.load(f)
        m = load_model(os.path.join(models_dir, name))
        fresh = make_cases(m.config, golden_seed(name))
        check([c["input_ids"] for c in fresh] == [c["input_ids"] for c in g["cases"]],
              "%s: golden inputs are not reproducible" % name)
        for case in g["cases"]:
            out = m.forward(case["input_ids"], case.get("attention_mask"),
                            case.get("token_type_ids"))
            e = case["expected"]
            lhs = e["last_hidden_state"]
            for (b, t), vals in zip(lhs["positions"], lhs["values"]):
                check(t in sample_positions(case["lengths"][b]), "%s: odd position" % name)
                d = float(np.abs(np.array(vals) - out["last_hidden_state"][b, t].numpy()).max())
                worst = max(worst, d)
            for k in ("pooler_output", "mean_pooled"):
                if k in out:
                    worst = max(worst, float(np.abs(np.array(e[k]) - out[k].numpy()).max()))
            check(d < 1e-5, "%s %s: golden differs" % (name, case["id"]))
    print("5. goldens reproduce: max |golden - reference| %.3g (7-digit rounding)" % worst)


def float32_vs_float64(models_dir, names):
    for name in names:
        folder = os.path.join(models_dir, name)
        m64 = load_model(folder, torch.float64)
        m32 = load_model(folder, torch.float32)
        case = make_cases(m64.config, 3, single_lengths=(), padded_lengths=(128,))[0]
        args = (case["input_ids"], case["attention_mask"], case.get("token_type_ids"))
        o64, o32 = m64.forward(*args), m32.forward(*args)
        parts = ["%s %.2g" % (k, maxdiff(o64[k], o32[k].double())) for k in o64]
        print("   fp32 vs fp64 reference, %-22s L=128: %s" % (name, ", ".join(parts)))


def main(argv=None):
    ap = argparse.ArgumentParser(description="Sanity checks of bert_reference.py")
    ap.add_argument("--models", required=True)
    ap.add_argument("--goldens", help="also check these goldens reproduce")
    ap.add_argument("--big", action="store_true",
                    help="also run the wide models (tinybert-4l-312, bert-base-2l, distilbert-3l)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    big = ["tinybert-4l-312", "bert-base-2l", "distilbert-3l"]
    all_names = TINY + (big if args.big else [])
    check_against_torch_nn(args.models)
    check_padding(args.models, TINY + (["tinybert-4l-312"] if args.big else []))
    check_heads(args.models)
    check_nondegenerate(args.models, all_names)
    if args.goldens:
        check_goldens(args.models, args.goldens, all_names)
    float32_vs_float64(args.models, ["tiny-bert", "tiny-distilbert-qa"] + (big if args.big else []))
    print("%d passed, %d failed" % (RESULTS["passed"], RESULTS["failed"]))
    return 0 if RESULTS["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
