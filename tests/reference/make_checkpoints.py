#!/usr/bin/env python3
"""Write deterministic random-weight BERT / DistilBERT checkpoints in Hugging Face folder layout.

Run with Debian's /usr/bin/python3 (or $PYTHON):

    /usr/bin/python3 tests/reference/make_checkpoints.py --out /tmp/minibert-models
    /usr/bin/python3 tests/reference/make_checkpoints.py --out DIR --only tiny-bert tiny-distilbert
    /usr/bin/python3 tests/reference/make_checkpoints.py --out DIR --format bin --only tiny-bert
    /usr/bin/python3 tests/reference/make_checkpoints.py --list

Each model goes to DIR/<name>/ with `config.json` (keys as transformers writes them, sorted,
indent 2) and `model.safetensors` (HF parameter names, metadata {"format": "pt"}).
`--format bin` writes `pytorch_model.bin` (torch.save of the state dict, with the legacy
`embeddings.position_ids` buffer that old transformers versions saved) instead; it needs torch.
The safetensors mode needs numpy only.

Determinism: every model has its own numpy PCG64 stream seeded with crc32(name); values are drawn
as float64 in a fixed parameter order and then cast (fp32; fp16 and bf16 round to nearest even
from the fp32 value), so the bytes are identical on every machine.

Weights are deliberately not HF's init (std 0.02, LayerNorm 1/0, biases 0): matrices use
std 1/sqrt(fan_in) (query/key 1.5/sqrt(fan_in)) so attention logits have a std of about 2 at
every width (softmax neither uniform nor saturated), LayerNorm gammas are 1 + N(0, 0.2), and every bias (LayerNorm beta, attention,
pooler, classifier) is N(0, 0.1), so a swapped, transposed or forgotten tensor changes outputs.

A folder whose stamp (.minibert-stamp.json) records the same spec and whose files still have the
recorded SHA-256 is skipped (fast path: same size and mtime); --force rewrites it.
"""

import argparse
import hashlib
import json
import os
import re
import struct
import sys
import time
import zlib
from collections import OrderedDict

import numpy as np

GENERATOR_VERSION = 1
STAMP_NAME = ".minibert-stamp.json"
TRANSFORMERS_VERSION = "4.40.0"

# --------------------------------------------------------------------------------------------
# Model specs
# --------------------------------------------------------------------------------------------

SENTIMENT3 = ["NEGATIVE", "NEUTRAL", "POSITIVE"]
SENTIMENT2 = ["NEGATIVE", "POSITIVE"]
NER5 = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
NER4 = ["O", "B-ORG", "I-ORG", "B-MISC"]

TINY_BERT = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=37, max_position_embeddings=512, type_vocab_size=2,
                 hidden_act="gelu", layer_norm_eps=1e-12)
TINY_DISTILBERT = dict(vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=37,
                       max_position_embeddings=512, activation="gelu")
BERT_BASE = dict(vocab_size=30522, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
                 max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                 layer_norm_eps=1e-12)
TINY_ROBERTA = dict(TINY_BERT, max_position_embeddings=514, type_vocab_size=1, layer_norm_eps=1e-5,
                    pad_token_id=1)
TINY_ELECTRA = dict(TINY_BERT, embedding_size=16)
TINY_MPNET = dict(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=37, max_position_embeddings=514, hidden_act="gelu",
                  layer_norm_eps=1e-5, relative_attention_num_buckets=32, pad_token_id=1)
BENCH_FAMILY = dict(vocab_size=8000, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                    intermediate_size=1536, max_position_embeddings=512, type_vocab_size=2,
                    hidden_act="gelu", layer_norm_eps=1e-12)
DISTILBERT_BASE = dict(vocab_size=30522, dim=768, n_heads=12, hidden_dim=3072,
                       max_position_embeddings=512, activation="gelu")


def _spec(arch, base, dtype="F32", labels=None, pruned_heads=None, ffn_widths=None, **overrides):
    """pruned_heads {layer: [heads]} and ffn_widths {layer: kept FFN neurons} make a pruned model:
    the full-size tensors are drawn as usual, then cut down as Hugging Face's prune_heads (and
    structured FFN pruning) cut them; see prune_tensors."""
    cfg = dict(base)
    cfg.update(overrides)
    spec = {"architecture": arch, "config": cfg, "dtype": dtype, "labels": labels}
    if pruned_heads or ffn_widths:
        spec["pruned_heads"] = {str(k): sorted(v) for k, v in (pruned_heads or {}).items()}
        spec["ffn_widths"] = {str(k): v for k, v in (ffn_widths or {}).items()}
    return spec


MODELS = OrderedDict([
    ("tiny-bert", _spec("BertModel", TINY_BERT)),
    ("tiny-bert-seqcls", _spec("BertForSequenceClassification", TINY_BERT, labels=SENTIMENT3,
                               hidden_act="gelu_new", type_vocab_size=3)),
    ("tiny-bert-tokcls", _spec("BertForTokenClassification", TINY_BERT, labels=NER5,
                               hidden_act="relu", layer_norm_eps=1e-5)),
    ("tiny-bert-qa", _spec("BertForQuestionAnswering", TINY_BERT)),
    ("tiny-bert-f16", _spec("BertForSequenceClassification", TINY_BERT, dtype="F16",
                            labels=SENTIMENT3, hidden_act="gelu_new", type_vocab_size=3)),
    ("tiny-bert-bf16", _spec("BertForSequenceClassification", TINY_BERT, dtype="BF16",
                             labels=SENTIMENT3, hidden_act="gelu_new", type_vocab_size=3)),
    ("tiny-distilbert", _spec("DistilBertModel", TINY_DISTILBERT)),
    ("tiny-distilbert-seqcls", _spec("DistilBertForSequenceClassification", TINY_DISTILBERT,
                                     labels=SENTIMENT2)),
    ("tiny-distilbert-tokcls", _spec("DistilBertForTokenClassification", TINY_DISTILBERT,
                                     labels=NER4, activation="relu")),
    ("tiny-distilbert-qa", _spec("DistilBertForQuestionAnswering", TINY_DISTILBERT)),
    # Pruned models (HF pruned_heads in config.json, per-layer FFN widths in the tensors).
    ("tiny-bert-pruned", _spec("BertForSequenceClassification", TINY_BERT, labels=SENTIMENT3,
                               num_hidden_layers=3, pruned_heads={0: [1, 3], 2: [0, 1, 2]},
                               ffn_widths={1: 20, 2: 5})),
    ("tiny-distilbert-pruned", _spec("DistilBertForSequenceClassification", TINY_DISTILBERT,
                                     labels=SENTIMENT2, pruned_heads={1: [2]}, ffn_widths={0: 16})),
    ("tinybert-4l-312", _spec("BertForSequenceClassification",
                              dict(BERT_BASE, hidden_size=312, num_hidden_layers=4,
                                   intermediate_size=1200), labels=SENTIMENT2)),
    ("bert-base-2l", _spec("BertModel", BERT_BASE, num_hidden_layers=2)),
    ("distilbert-3l", _spec("DistilBertForQuestionAnswering", DISTILBERT_BASE, n_layers=3)),
    # Real-vocabulary (bert-base-uncased, 30522 ids) narrow models for the text pipelines' tests.
    ("small-bert-tokcls", _spec("BertForTokenClassification", TINY_BERT, labels=NER5, vocab_size=30522)),
    ("small-bert-qa", _spec("BertForQuestionAnswering", TINY_BERT, vocab_size=30522)),
    # A cross-encoder (one label: the relevance logit) for the Reranker's tests.
    ("small-bert-rerank", _spec("BertForSequenceClassification", TINY_BERT, labels=["LABEL_0"],
                                vocab_size=30522)),
    # The other families (models/<family>.hpp): every head, tiny widths, up to 512 tokens.
    # RoBERTa: positions after padding_idx 1 (514 rows hold 512 tokens), one token type, eps
    # 1e-5; XLM-R and CamemBERT are RoBERTa under other names; a one-label head is a
    # cross-encoder's raw score.
    ("tiny-roberta", _spec("RobertaModel", TINY_ROBERTA)),
    ("tiny-xlmr-seqcls", _spec("XLMRobertaForSequenceClassification", TINY_ROBERTA, labels=["LABEL_0"])),
    ("tiny-roberta-seqcls", _spec("RobertaForSequenceClassification", TINY_ROBERTA, labels=SENTIMENT3,
                                  hidden_act="gelu_new")),
    ("tiny-camembert-tokcls", _spec("CamembertForTokenClassification", TINY_ROBERTA, labels=NER5)),
    ("tiny-roberta-qa", _spec("RobertaForQuestionAnswering", TINY_ROBERTA)),
    # ELECTRA: embedding_size 16 < hidden 32 (embeddings_project), gelu classification head.
    ("tiny-electra", _spec("ElectraModel", TINY_ELECTRA)),
    ("tiny-electra-seqcls", _spec("ElectraForSequenceClassification", TINY_ELECTRA, labels=SENTIMENT2,
                                  hidden_act="relu")),
    ("tiny-electra-reranker", _spec("ElectraForSequenceClassification", TINY_ELECTRA, labels=["LABEL_0"],
                                    embedding_size=32)),
    ("tiny-electra-tokcls", _spec("ElectraForTokenClassification", TINY_ELECTRA, labels=NER4)),
    ("tiny-electra-qa", _spec("ElectraForQuestionAnswering", TINY_ELECTRA)),
    # MPNet: relative position bias (32 buckets, max distance 128: lengths up to 512 reach every
    # bucket), no token types, positions after padding_idx 1.
    ("tiny-mpnet", _spec("MPNetModel", TINY_MPNET)),
    ("tiny-mpnet-seqcls", _spec("MPNetForSequenceClassification", TINY_MPNET, labels=SENTIMENT2)),
    ("tiny-mpnet-tokcls", _spec("MPNetForTokenClassification", TINY_MPNET, labels=NER5)),
    ("tiny-mpnet-qa", _spec("MPNetForQuestionAnswering", TINY_MPNET)),
])

# Full-depth shapes for benchmarks only (bench/, docs/benchmarks.md): large (BERT-base is 440 MB),
# so they are written only when named with --only, never by the test fixture's default run.
BENCH_MODELS = OrderedDict([
    ("bench-tinybert-4l-312", _spec("BertForSequenceClassification",
                                    dict(BERT_BASE, hidden_size=312, num_hidden_layers=4,
                                         intermediate_size=1200), labels=SENTIMENT2)),
    ("bench-distilbert-base", _spec("DistilBertForSequenceClassification", DISTILBERT_BASE,
                                    n_layers=6, labels=SENTIMENT2)),
    ("bench-bert-base", _spec("BertForSequenceClassification", BERT_BASE, num_hidden_layers=12,
                              labels=SENTIMENT2)),
    # One shape (MiniLM-L6 widths: H 384, 6 layers, 12 heads, FFN 1536) in every family, for
    # the per-token cost of each family against BERT (docs/architecture.md, "Adding a family").
    ("bench-family-bert", _spec("BertForSequenceClassification", BENCH_FAMILY, labels=SENTIMENT2)),
    ("bench-family-roberta", _spec("XLMRobertaForSequenceClassification", BENCH_FAMILY, labels=["LABEL_0"],
                                   max_position_embeddings=514, type_vocab_size=1, pad_token_id=1)),
    ("bench-family-electra", _spec("ElectraForSequenceClassification", BENCH_FAMILY, labels=SENTIMENT2,
                                   embedding_size=384)),
    ("bench-family-mpnet", _spec("MPNetForSequenceClassification", BENCH_FAMILY, labels=SENTIMENT2,
                                 max_position_embeddings=514, pad_token_id=1, relative_attention_num_buckets=32)),
])
DEFAULT_MODELS = list(MODELS)
MODELS.update(BENCH_MODELS)

TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


ARCH_PREFIXES = [("DistilBert", "distilbert", "distilbert"), ("Bert", "bert", "bert"),
                 ("XLMRoberta", "roberta", "xlm-roberta"), ("Camembert", "roberta", "camembert"),
                 ("Roberta", "roberta", "roberta"), ("Electra", "electra", "electra"),
                 ("MPNet", "mpnet", "mpnet")]
HEAD_SUFFIXES = ("Model", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")


def _split_arch(arch):
    for prefix, fam, model_type in ARCH_PREFIXES:
        if arch.startswith(prefix) and arch[len(prefix):] in HEAD_SUFFIXES:
            return fam, model_type, arch[len(prefix):]
    raise ValueError("unknown architecture %s" % arch)


def family(arch):
    """bert, distilbert, roberta (also XLM-R, CamemBERT), electra or mpnet."""
    return _split_arch(arch)[0]


def build_config(spec):
    """config.json contents, with the keys transformers writes for this architecture."""
    arch, c = spec["architecture"], spec["config"]
    if family(arch) == "bert":
        cfg = {
            "architectures": [arch],
            "attention_probs_dropout_prob": 0.1,
            "classifier_dropout": None,
            "hidden_act": c["hidden_act"],
            "hidden_dropout_prob": 0.1,
            "hidden_size": c["hidden_size"],
            "initializer_range": 0.02,
            "intermediate_size": c["intermediate_size"],
            "layer_norm_eps": c["layer_norm_eps"],
            "max_position_embeddings": c["max_position_embeddings"],
            "model_type": "bert",
            "num_attention_heads": c["num_attention_heads"],
            "num_hidden_layers": c["num_hidden_layers"],
            "pad_token_id": 0,
            "position_embedding_type": "absolute",
            "torch_dtype": TORCH_DTYPE_NAME[spec["dtype"]],
            "transformers_version": TRANSFORMERS_VERSION,
            "type_vocab_size": c["type_vocab_size"],
            "use_cache": True,
            "vocab_size": c["vocab_size"],
        }
    elif family(arch) == "distilbert":
        cfg = {
            "activation": c["activation"],
            "architectures": [arch],
            "attention_dropout": 0.1,
            "dim": c["dim"],
            "dropout": 0.1,
            "hidden_dim": c["hidden_dim"],
            "initializer_range": 0.02,
            "max_position_embeddings": c["max_position_embeddings"],
            "model_type": "distilbert",
            "n_heads": c["n_heads"],
            "n_layers": c["n_layers"],
            "pad_token_id": 0,
            "qa_dropout": 0.1,
            "seq_classif_dropout": 0.2,
            "sinusoidal_pos_embds": False,
            "tie_weights_": True,
            "torch_dtype": TORCH_DTYPE_NAME[spec["dtype"]],
            "transformers_version": TRANSFORMERS_VERSION,
            "vocab_size": c["vocab_size"],
        }
    else:  # roberta / electra / mpnet: BERT's keys, as their transformers configs write them
        fam, model_type, _ = _split_arch(arch)
        cfg = {
            "architectures": [arch],
            "attention_probs_dropout_prob": 0.1,
            "hidden_act": c["hidden_act"],
            "hidden_dropout_prob": 0.1,
            "hidden_size": c["hidden_size"],
            "initializer_range": 0.02,
            "intermediate_size": c["intermediate_size"],
            "layer_norm_eps": c["layer_norm_eps"],
            "max_position_embeddings": c["max_position_embeddings"],
            "model_type": model_type,
            "num_attention_heads": c["num_attention_heads"],
            "num_hidden_layers": c["num_hidden_layers"],
            "pad_token_id": c.get("pad_token_id", 0),
            "torch_dtype": TORCH_DTYPE_NAME[spec["dtype"]],
            "transformers_version": TRANSFORMERS_VERSION,
            "vocab_size": c["vocab_size"],
        }
        if fam in ("roberta", "electra"):
            cfg.update(type_vocab_size=c["type_vocab_size"], position_embedding_type="absolute",
                       classifier_dropout=None)
        if fam in ("roberta", "mpnet"):
            cfg.update(bos_token_id=0, eos_token_id=2)
        if fam == "electra":
            cfg.update(embedding_size=c["embedding_size"], summary_activation="gelu",
                       summary_last_dropout=0.1, summary_type="first", summary_use_proj=True)
        if fam == "mpnet":
            cfg["relative_attention_num_buckets"] = c["relative_attention_num_buckets"]
    if spec.get("pruned_heads"):
        cfg["pruned_heads"] = spec["pruned_heads"]
    if spec.get("ffn_widths"):      # minibert's key (include/minibert/pruning.hpp)
        n = c["num_hidden_layers"] if family(arch) == "bert" else c["n_layers"]
        full = c["intermediate_size"] if family(arch) == "bert" else c["hidden_dim"]
        cfg["intermediate_sizes"] = [spec["ffn_widths"].get(str(i), full) for i in range(n)]
    if spec["labels"]:
        cfg["id2label"] = {str(i): l for i, l in enumerate(spec["labels"])}
        cfg["label2id"] = {l: i for i, l in enumerate(spec["labels"])}
    return OrderedDict(sorted(cfg.items()))


def config_json_text(cfg):
    return json.dumps(cfg, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------------------------
# Parameter list: (name, shape, kind) in a fixed order. kind: emb | linear | qk | ln | bias
# --------------------------------------------------------------------------------------------

def _linear(prefix, out_f, in_f, kind="linear"):
    return [(prefix + ".weight", (out_f, in_f), kind), (prefix + ".bias", (out_f,), "bias")]


def _layer_norm(prefix, n):
    return [(prefix + ".weight", (n,), "ln"), (prefix + ".bias", (n,), "bias")]


def _ffn(L, H, I):
    """A BERT-layout layer's feed-forward half: intermediate.dense, output.dense, output.LayerNorm."""
    return (_linear(L + "intermediate.dense", I, H) + _linear(L + "output.dense", H, I)
            + _layer_norm(L + "output.LayerNorm", H))


def _bert_layer(L, H, I):
    """A BertLayer's parameters (RoBERTa and ELECTRA share the layout), in the order HF creates them."""
    return (_linear(L + "attention.self.query", H, H, "qk") + _linear(L + "attention.self.key", H, H, "qk")
            + _linear(L + "attention.self.value", H, H) + _linear(L + "attention.output.dense", H, H)
            + _layer_norm(L + "attention.output.LayerNorm", H) + _ffn(L, H, I))


def parameter_list(arch, c, num_labels):
    params = []
    if family(arch) == "bert":
        H, I = c["hidden_size"], c["intermediate_size"]
        p = "" if arch == "BertModel" else "bert."
        params += [(p + "embeddings.word_embeddings.weight", (c["vocab_size"], H), "emb"),
                   (p + "embeddings.position_embeddings.weight",
                    (c["max_position_embeddings"], H), "emb"),
                   (p + "embeddings.token_type_embeddings.weight",
                    (c["type_vocab_size"], H), "emb")]
        params += _layer_norm(p + "embeddings.LayerNorm", H)
        for i in range(c["num_hidden_layers"]):
            params += _bert_layer("%sencoder.layer.%d." % (p, i), H, I)
        # HF builds the pooler for BertModel and BertForSequenceClassification only
        # (token classification and QA use add_pooling_layer=False).
        if arch in ("BertModel", "BertForSequenceClassification"):
            params += _linear(p + "pooler.dense", H, H)
        if arch == "BertForSequenceClassification":
            params += _linear("classifier", num_labels, H)
        elif arch == "BertForTokenClassification":
            params += _linear("classifier", num_labels, H)
        elif arch == "BertForQuestionAnswering":
            params += _linear("qa_outputs", 2, H)
    elif family(arch) == "distilbert":
        D, F = c["dim"], c["hidden_dim"]
        p = "" if arch == "DistilBertModel" else "distilbert."
        params += [(p + "embeddings.word_embeddings.weight", (c["vocab_size"], D), "emb"),
                   (p + "embeddings.position_embeddings.weight",
                    (c["max_position_embeddings"], D), "emb")]
        params += _layer_norm(p + "embeddings.LayerNorm", D)
        for i in range(c["n_layers"]):
            L = "%stransformer.layer.%d." % (p, i)
            params += _linear(L + "attention.q_lin", D, D, "qk")
            params += _linear(L + "attention.k_lin", D, D, "qk")
            params += _linear(L + "attention.v_lin", D, D)
            params += _linear(L + "attention.out_lin", D, D)
            params += _layer_norm(L + "sa_layer_norm", D)
            params += _linear(L + "ffn.lin1", F, D)
            params += _linear(L + "ffn.lin2", D, F)
            params += _layer_norm(L + "output_layer_norm", D)
        if arch == "DistilBertForSequenceClassification":
            params += _linear("pre_classifier", D, D)
            params += _linear("classifier", num_labels, D)
        elif arch == "DistilBertForTokenClassification":
            params += _linear("classifier", num_labels, D)
        elif arch == "DistilBertForQuestionAnswering":
            params += _linear("qa_outputs", 2, D)
    else:
        params += _family_parameters(arch, c, num_labels)
    return params


def _family_parameters(arch, c, num_labels):
    """RoBERTa / ELECTRA / MPNet in transformers' names (base models saved without prefix)."""
    fam, _, head = _split_arch(arch)
    H, I = c["hidden_size"], c["intermediate_size"]
    E = c.get("embedding_size", H)
    p = "" if head == "Model" else fam + "."
    params = [(p + "embeddings.word_embeddings.weight", (c["vocab_size"], E), "emb"),
              (p + "embeddings.position_embeddings.weight", (c["max_position_embeddings"], E), "emb")]
    if fam != "mpnet":
        params.append((p + "embeddings.token_type_embeddings.weight", (c["type_vocab_size"], E), "emb"))
    params += _layer_norm(p + "embeddings.LayerNorm", E)
    if fam == "electra" and E != H:
        params += _linear(p + "embeddings_project", H, E)
    for i in range(c["num_hidden_layers"]):
        L = "%sencoder.layer.%d." % (p, i)
        if fam == "mpnet":
            params += _linear(L + "attention.attn.q", H, H, "qk")
            params += _linear(L + "attention.attn.k", H, H, "qk")
            params += _linear(L + "attention.attn.v", H, H)
            params += _linear(L + "attention.attn.o", H, H)
            params += _layer_norm(L + "attention.LayerNorm", H)
            params += _ffn(L, H, I)
        else:
            params += _bert_layer(L, H, I)
    if fam == "mpnet":  # nn.Embedding(buckets, heads); "emb" scale: biases of std 0.5 on the scores
        params.append((p + "encoder.relative_attention_bias.weight",
                       (c["relative_attention_num_buckets"], c["num_attention_heads"]), "emb"))
    if head == "Model" and fam in ("roberta", "mpnet"):  # add_pooling_layer=True in the base model only
        params += _linear(p + "pooler.dense", H, H)
    if head == "ForSequenceClassification":
        params += _linear("classifier.dense", H, H)
        params += _linear("classifier.out_proj", num_labels, H)
    elif head == "ForTokenClassification":
        params += _linear("classifier", num_labels, H)
    elif head == "ForQuestionAnswering":
        params += _linear("qa_outputs", 2, H)
    return params


EMB_STD = 0.5
QK_GAIN = 1.5      # query/key: attention logits with std ~2, clearly non-uniform, not one-hot
LN_STD = 0.2
BIAS_STD = 0.1


def model_seed(name):
    return zlib.crc32(("minibert:" + name).encode("utf-8"))


def float32_to_bf16_bits(a):
    """Round-to-nearest-even float32 -> bfloat16, returned as uint16 bit patterns."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16)


def bf16_bits_to_float32(bits):
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def prune_tensors(spec, tensors):
    """Cuts full-size [(name, array)] down as the spec's pruned_heads / ffn_widths say.

    Heads: what transformers' prune_linear_layer does in BertAttention.prune_heads (and
    DistilBERT's MultiHeadSelfAttention.prune_heads): the rows of the removed heads leave the
    query, key and value weights and biases (index_select dim 0), and the same columns leave the
    attention output weight (dim 1; its bias stays). FFN: the first `width` neurons are kept
    (rows of the up projection and its bias, columns of the down projection)."""
    heads_cut = {int(k): v for k, v in spec.get("pruned_heads", {}).items()}
    ffn_cut = {int(k): v for k, v in spec.get("ffn_widths", {}).items()}
    if not heads_cut and not ffn_cut:
        return tensors
    c = spec["config"]
    bert = family(spec["architecture"]) == "bert"
    H = c["hidden_size"] if bert else c["dim"]
    d = H // (c["num_attention_heads"] if bert else c["n_heads"])
    pat = re.compile(r"(?:encoder|transformer)\.layer\.(\d+)\.(.*)\.(weight|bias)$")
    qkv = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.q_lin", "attention.k_lin", "attention.v_lin")
    out_names = ("attention.output.dense", "attention.out_lin")
    up_names, down_names = ("intermediate.dense", "ffn.lin1"), ("output.dense", "ffn.lin2")
    result = []
    for name, a in tensors:
        m = pat.search(name)
        if m:
            layer, mod, kind = int(m.group(1)), m.group(2), m.group(3)
            if layer in heads_cut:
                keep = np.array([i for i in range(H) if i // d not in heads_cut[layer]])
                if mod in qkv:
                    a = a[keep]
                elif mod in out_names and kind == "weight":
                    a = a[:, keep]
            if layer in ffn_cut:
                w = ffn_cut[layer]
                if mod in up_names:
                    a = a[:w]
                elif mod in down_names and kind == "weight":
                    a = a[:, :w]
        result.append((name, np.ascontiguousarray(a)))
    return result


def generate_tensors(name):
    """Returns (config, [(hf_name, st_dtype, array)]) for a model of MODELS.

    array is float32 for F32, float16 for F16 and uint16 bit patterns for BF16."""
    spec = MODELS[name]
    cfg = build_config(spec)
    num_labels = len(spec["labels"]) if spec["labels"] else 2
    rng = np.random.default_rng(model_seed(name))
    out, drawn = [], []
    for pname, shape, kind in parameter_list(spec["architecture"], spec["config"], num_labels):
        z = rng.standard_normal(size=shape, dtype=np.float64)
        if kind == "emb":
            v = z * EMB_STD
        elif kind == "linear":
            v = z * (1.0 / np.sqrt(shape[1]))
        elif kind == "qk":
            v = z * (QK_GAIN / np.sqrt(shape[1]))
        elif kind == "ln":
            v = 1.0 + z * LN_STD
        else:
            v = z * BIAS_STD
        drawn.append((pname, v.astype(np.float32)))
    for pname, f32 in prune_tensors(spec, drawn):
        if spec["dtype"] == "F32":
            out.append((pname, "F32", f32))
        elif spec["dtype"] == "F16":
            out.append((pname, "F16", f32.astype(np.float16)))
        else:
            out.append((pname, "BF16", float32_to_bf16_bits(f32)))
    return cfg, out


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata=None):
    """tensors: iterable of (name, st_dtype, ndarray). Writes atomically (temp file + rename)."""
    header = OrderedDict()
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    arrays = []
    for name, st_dtype, arr in tensors:
        arr = np.ascontiguousarray(arr)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        n = arr.nbytes
        header[name] = {"dtype": st_dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
        arrays.append(arr)
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for arr in arrays:
            f.write(arr.tobytes(order="C"))
    os.replace(tmp, path)


def write_pytorch_bin(path, cfg, tensors, add_position_ids=True):
    """torch.save of the state dict, as transformers < 4.31 saved it (with position_ids)."""
    import torch
    sd = OrderedDict()
    for name, st_dtype, arr in tensors:
        if st_dtype == "BF16":
            t = torch.from_numpy(bf16_bits_to_float32(arr)).to(torch.bfloat16)
        else:
            t = torch.from_numpy(np.array(arr))
        sd[name] = t
        if add_position_ids and name.endswith("embeddings.position_embeddings.weight"):
            sd[name.replace("position_embeddings.weight", "position_ids")] = \
                torch.arange(cfg["max_position_embeddings"], dtype=torch.int64).unsqueeze(0)
    tmp = path + ".tmp"
    torch.save(sd, tmp)
    os.replace(tmp, path)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def spec_hash(name, fmt):
    spec = MODELS[name]
    text = json.dumps({"v": GENERATOR_VERSION, "name": name, "format": fmt,
                       "config": build_config(spec), "spec": spec, "seed": model_seed(name),
                       "std": [EMB_STD, LN_STD, BIAS_STD, QK_GAIN]}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def folder_is_current(folder, shash):
    """True when the stamp matches the spec and every recorded file still has its content."""
    stamp_path = os.path.join(folder, STAMP_NAME)
    try:
        with open(stamp_path) as f:
            stamp = json.load(f)
    except (OSError, ValueError):
        return False
    if stamp.get("spec_hash") != shash:
        return False
    files = stamp.get("files", {})
    if not files:
        return False
    for fname, rec in files.items():
        p = os.path.join(folder, fname)
        try:
            st = os.stat(p)
        except OSError:
            return False
        if st.st_size != rec["size"]:
            return False
        if st.st_mtime_ns != rec["mtime_ns"] and _sha256(p) != rec["sha256"]:
            return False
    return True


def write_model(name, out_dir, fmt="safetensors", force=False):
    """Writes out_dir/<name>; returns (folder, written: bool)."""
    folder = os.path.join(out_dir, name)
    shash = spec_hash(name, fmt)
    if not force and folder_is_current(folder, shash):
        return folder, False
    os.makedirs(folder, exist_ok=True)
    stamp_path = os.path.join(folder, STAMP_NAME)
    if os.path.exists(stamp_path):
        os.remove(stamp_path)
    cfg, tensors = generate_tensors(name)
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(config_json_text(cfg))
    if fmt == "safetensors":
        weights = "model.safetensors"
        write_safetensors(os.path.join(folder, weights), tensors, {"format": "pt"})
        stale = "pytorch_model.bin"
    else:
        weights = "pytorch_model.bin"
        write_pytorch_bin(os.path.join(folder, weights), cfg, tensors)
        stale = "model.safetensors"
    if os.path.exists(os.path.join(folder, stale)):
        os.remove(os.path.join(folder, stale))
    files = {}
    for fname in ("config.json", weights):
        p = os.path.join(folder, fname)
        st = os.stat(p)
        files[fname] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(p)}
    with open(stamp_path, "w") as f:
        json.dump({"generator": "tests/reference/make_checkpoints.py",
                   "generator_version": GENERATOR_VERSION, "spec_hash": shash,
                   "format": fmt, "files": files}, f, indent=1, sort_keys=True)
    return folder, True


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", help="output directory (one sub-folder per model)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these models")
    ap.add_argument("--format", choices=["safetensors", "bin"], default="safetensors",
                    help="weights file to write (bin needs torch)")
    ap.add_argument("--force", action="store_true", help="rewrite even if the stamp matches")
    ap.add_argument("--list", action="store_true", help="print the model names and exit")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for n, s in MODELS.items():
            print("%-24s %s %s%s" % (n, s["architecture"], s["dtype"],
                                     "" if n in DEFAULT_MODELS else "  (benchmarks; --only)"))
        return 0
    if not args.out:
        ap.error("--out is required")
    names = args.only or DEFAULT_MODELS
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        print("error: unknown model name(s): %s (known: %s)"
              % (", ".join(unknown), ", ".join(MODELS)), file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    t0 = time.time()
    for n in names:
        t = time.time()
        folder, written = write_model(n, args.out, args.format, args.force)
        if not args.quiet:
            print("%-24s %-8s %8.1f MB  %.2fs  %s" % (
                n, "written" if written else "skipped", folder_size(folder) / 1e6,
                time.time() - t, folder))
    if not args.quiet:
        print("done in %.2fs" % (time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
