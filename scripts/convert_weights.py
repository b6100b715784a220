#!/usr/bin/env python3
"""Convert a Hugging Face BERT / DistilBERT / RoBERTa / XLM-R / CamemBERT / ELECTRA / MPNet folder
into a minibert folder (model.safetensors).

Run with Debian's /usr/bin/python3 (or $PYTHON):

    /usr/bin/python3 scripts/convert_weights.py SRC_DIR OUT_DIR [--dtype fp32|fp16|int8] [--force]
        [--embeddings int8|fp16|fp32] [--calibrate FILE [--tokenizer-dir DIR] [--tokenizer-bin PATH]]

SRC_DIR is a Hugging Face model folder with config.json and either model.safetensors (read with
numpy only; sharded model.safetensors.index.json too) or pytorch_model.bin (needs torch; loaded
on the CPU with weights_only=True where torch supports it; sharded .bin.index.json too).

OUT_DIR receives model.safetensors (HF tensor names; metadata {"format": "pt",
"minibert_dtype": "fp32"|"fp16"}), config.json and the tokenizer files that exist
(vocab.txt, tokenizer.json, tokenizer_config.json, special_tokens_map.json).

Checks before writing anything:
  * config.json: model_type bert, distilbert, roberta, xlm-roberta, camembert, electra or mpnet;
    architectures <Prefix>Model and <Prefix>For{SequenceClassification,TokenClassification,
    QuestionAnswering} with the prefix of the model_type (Bert, DistilBert, Roberta, XLMRoberta,
    Camembert, Electra, MPNet). BertForMaskedLM, BertForPreTraining, DistilBertForMaskedLM,
    {Roberta,XLMRoberta,Camembert,MPNet}ForMaskedLM and ElectraForPreTraining (a discriminator)
    are accepted as encoders: their LM / NSP / discriminator head tensors are dropped and the
    output config says <Prefix>Model.
  * every tensor name and shape against the config: a missing, unexpected or mis-shaped tensor
    is refused and named. Tensors transformers itself ignores are dropped: `position_ids` and
    `token_type_ids` buffers, `*.num_batches_tracked`, and the pooler of token-classification /
    QA checkpoints. Legacy `LayerNorm.gamma/beta` names become `weight/bias`. Names are written
    as transformers saves them: bare for BertModel / DistilBertModel, with the `bert.` /
    `distilbert.` prefix for the task models.

--dtype fp32 keeps every tensor in float32 (F16 / BF16 sources are widened exactly; fp32 sources
round-trip bit-exactly). --dtype fp16 stores the matrices (embeddings and linear weights) as
IEEE fp16 (round to nearest even) and keeps the 1-D tensors (biases, LayerNorm) in fp32, which
costs nothing in size and keeps LayerNorm exact. Each dtype is one function in CONVERTERS.

--dtype int8 quantises the encoder's linear weights (Q, K, V, attention output, FFN up and down)
to symmetric int8 codes with one fp32 scale per output channel: scale = max|row| / 127, code =
round_half_even(w * (127 / max|row|)) in [-127, 127], in float32 arithmetic exactly as minibert
does at load time (so a converted folder and load-time quantisation give the same codes). Each
weight becomes an I8 tensor `<name>.weight` plus `<name>.weight_scale` (F32 [out]). The word
embeddings follow --embeddings (default int8, one scale per row; fp16; fp32); position and
token-type embeddings, biases, LayerNorms, the pooler and the task heads stay fp32. Metadata:
"minibert_dtype": "int8", "minibert_activations": "dynamic" | "static". See docs/formats.md.

--calibrate FILE (int8 only) adds static activation scales: FILE holds text lines (a TSV with a
"sentence" column, such as GLUE's, is read by that column), tokenised with the model's own
vocabulary by the repo's minibert-tokenize (--tokenizer-dir, default SRC_DIR); the PyTorch
reference (tests/reference/bert_reference.py, float32) runs them and records max|x| of every
linear layer's input; `<name>.input_scale` = max|x| / 127 (F32 scalar). The maximum, not a
percentile: BERT's large activation outliers sit in a few fixed channels and carry signal, so
clipping them costs more accuracy than the coarser step costs; and with a few hundred lines a
high percentile is barely different from the maximum anyway.

Refusals print "error: ..." to stderr and exit 2 (no traceback).
"""

import argparse
import json
import os
import re
import shutil
import struct
import sys
from collections import OrderedDict

import numpy as np

try:
    from tqdm import tqdm
except ImportError:  # tqdm is optional
    tqdm = None

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json",
                   "special_tokens_map.json")

_HEADS = ("Model", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")
# model_type -> (family, architecture prefix); the family fixes the tensor layout
# (include/minibert/models/<family>.hpp), the prefix the architecture names.
FAMILY = {"bert": ("bert", "Bert"), "distilbert": ("distilbert", "DistilBert"),
          "roberta": ("roberta", "Roberta"), "xlm-roberta": ("roberta", "XLMRoberta"),
          "camembert": ("roberta", "Camembert"), "electra": ("electra", "Electra"),
          "mpnet": ("mpnet", "MPNet")}
SUPPORTED = {t: tuple(prefix + h for h in _HEADS) for t, (_, prefix) in FAMILY.items()}
# Pre-training heads: accepted, head dropped, converted as the bare encoder.
ENCODER_ONLY = {
    "BertForMaskedLM": ("BertModel", re.compile(r"^cls\.")),
    "BertForPreTraining": ("BertModel", re.compile(r"^cls\.")),
    "DistilBertForMaskedLM": ("DistilBertModel",
                              re.compile(r"^(vocab_transform|vocab_layer_norm|vocab_projector)\.")),
    "RobertaForMaskedLM": ("RobertaModel", re.compile(r"^lm_head\.")),
    "XLMRobertaForMaskedLM": ("XLMRobertaModel", re.compile(r"^lm_head\.")),
    "CamembertForMaskedLM": ("CamembertModel", re.compile(r"^lm_head\.")),
    "ElectraForPreTraining": ("ElectraModel", re.compile(r"^discriminator_predictions\.")),
    "MPNetForMaskedLM": ("MPNetModel", re.compile(r"^lm_head\.")),
}
PREFIX = {"bert": "bert.", "distilbert": "distilbert.", "roberta": "roberta.", "electra": "electra.",
          "mpnet": "mpnet."}
# One encoder layer's tensors (without the prefix above): the layer's name pattern, then Q, K, V,
# attention output, its LayerNorm, FFN up, FFN down and the output LayerNorm, in checkpoint order.
LAYER_NAMES = {
    "bert": ("encoder.layer.%d.", ("attention.self.query", "attention.self.key",
                                   "attention.self.value", "attention.output.dense",
                                   "attention.output.LayerNorm", "intermediate.dense",
                                   "output.dense", "output.LayerNorm")),
    "distilbert": ("transformer.layer.%d.", ("attention.q_lin", "attention.k_lin", "attention.v_lin",
                                             "attention.out_lin", "sa_layer_norm", "ffn.lin1",
                                             "ffn.lin2", "output_layer_norm")),
    "mpnet": ("encoder.layer.%d.", ("attention.attn.q", "attention.attn.k", "attention.attn.v",
                                    "attention.attn.o", "attention.LayerNorm", "intermediate.dense",
                                    "output.dense", "output.LayerNorm")),
}
LAYER_NAMES["roberta"] = LAYER_NAMES["electra"] = LAYER_NAMES["bert"]

ST_DTYPES = {"F64": (np.float64, 8), "F32": (np.float32, 4), "F16": (np.float16, 2),
             "BF16": (np.uint16, 2), "I64": (np.int64, 8), "I32": (np.int32, 4),
             "I16": (np.int16, 2), "I8": (np.int8, 1), "U8": (np.uint8, 1), "BOOL": (np.bool_, 1)}


class ConvertError(Exception):
    pass


def progress(it, total, desc):
    if tqdm is None:
        return it
    return tqdm(it, total=total, desc=desc, unit="tensor", disable=None, leave=False)


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------

class ModelSpec:
    """What the checkpoint must contain, derived from config.json."""

    def __init__(self, cfg, path):
        self.cfg = cfg
        self.model_type = cfg.get("model_type")
        if self.model_type not in SUPPORTED:
            raise ConvertError("%s: model_type %r is not supported (minibert converts: %s)"
                               % (path, self.model_type, ", ".join(sorted(SUPPORTED))))
        archs = cfg.get("architectures") or []
        self.source_arch = archs[0] if archs else None
        if self.source_arch is None:
            self.arch = SUPPORTED[self.model_type][0]
        elif self.source_arch in SUPPORTED[self.model_type]:
            self.arch = self.source_arch
        elif self.source_arch in ENCODER_ONLY and \
                ENCODER_ONLY[self.source_arch][0] in SUPPORTED[self.model_type]:
            self.arch = ENCODER_ONLY[self.source_arch][0]
        else:
            accepted = list(SUPPORTED[self.model_type]) + [
                a for a, (base, _) in ENCODER_ONLY.items() if base in SUPPORTED[self.model_type]]
            raise ConvertError("%s: architecture %r is not supported for model_type %r "
                               "(supported: %s)" % (path, self.source_arch, self.model_type,
                                                    ", ".join(accepted)))

        def need(key):
            if key not in cfg:
                raise ConvertError("%s: missing key %r" % (path, key))
            v = cfg[key]
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ConvertError("%s: %r must be a positive integer, got %r" % (path, key, v))
            return v

        self.family = FAMILY[self.model_type][0]
        self.embedding_size = None
        if self.family != "distilbert":
            self.hidden = need("hidden_size")
            self.heads = need("num_attention_heads")
            self.layers = need("num_hidden_layers")
            self.intermediate = need("intermediate_size")
            self.type_vocab = need("type_vocab_size") if "type_vocab_size" in cfg else 2
            if self.family == "mpnet":
                self.type_vocab = 0
                self.buckets = need("relative_attention_num_buckets") \
                    if "relative_attention_num_buckets" in cfg else 32
            if self.family == "electra":
                self.embedding_size = need("embedding_size") if "embedding_size" in cfg else 128
            pet = cfg.get("position_embedding_type", "absolute")
            if pet != "absolute":
                raise ConvertError("%s: position_embedding_type %r is not supported (only "
                                   "'absolute')" % (path, pet))
            if cfg.get("is_decoder") or cfg.get("add_cross_attention"):
                raise ConvertError("%s: decoder / cross-attention BERT is not supported" % path)
            self.act = cfg.get("hidden_act", "gelu")
        else:
            self.hidden = need("dim")
            self.heads = need("n_heads")
            self.layers = need("n_layers")
            self.intermediate = need("hidden_dim")
            self.type_vocab = 0
            self.act = cfg.get("activation", "gelu")
        self.vocab = need("vocab_size")
        self.max_positions = need("max_position_embeddings")
        if self.hidden % self.heads:
            raise ConvertError("%s: hidden size %d is not a multiple of the %d heads"
                               % (path, self.hidden, self.heads))
        # A structurally pruned model (include/minibert/pruning.hpp): HF's pruned_heads
        # {"layer": [heads]} and minibert's per-layer intermediate_sizes [width per layer].
        pruned = cfg.get("pruned_heads") or {}
        self.layer_heads = [self.heads - len(set(pruned.get(str(i), pruned.get(i, []))))
                            for i in range(self.layers)]
        sizes = cfg.get("intermediate_sizes")
        if sizes is not None and (not isinstance(sizes, list) or len(sizes) != self.layers or any(
                not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= self.intermediate
                for w in sizes)):
            raise ConvertError("%s: intermediate_sizes must list one width in [1, %d] per layer "
                               "(%d), got %r" % (path, self.intermediate, self.layers, sizes))
        self.layer_ffn = list(sizes) if sizes is not None else [self.intermediate] * self.layers
        if "id2label" in cfg and cfg["id2label"]:
            self.num_labels = len(cfg["id2label"])
        else:
            self.num_labels = int(cfg.get("num_labels", 2))
        self.prefix = PREFIX[self.family]
        self.out_prefix = "" if self.arch.endswith("Model") else self.prefix
        # the base models keep a pooler when they have one; BERT's sequence classifier needs it;
        # every other task model is built with add_pooling_layer=False (transformers ignores one)
        self.pooler = self.family in ("bert", "roberta", "mpnet") and (
            self.arch.endswith("Model") or self.arch == "BertForSequenceClassification")
        self.notes = []
        if self.act not in ("gelu", "gelu_new", "relu", "gelu_pytorch_tanh"):
            self.notes.append("activation %r may not be supported by minibert" % self.act)

    def body_shapes(self):
        """Encoder tensors, names without prefix: OrderedDict name -> (shape, required)."""
        H = self.hidden
        s = OrderedDict()

        def lin(n, o, i, req=True):
            s[n + ".weight"] = ((o, i), req)
            s[n + ".bias"] = ((o,), req)

        def ln(n, width=H):
            s[n + ".weight"] = ((width,), True)
            s[n + ".bias"] = ((width,), True)

        E = self.embedding_size or H
        s["embeddings.word_embeddings.weight"] = ((self.vocab, E), True)
        s["embeddings.position_embeddings.weight"] = ((self.max_positions, E), True)
        if self.type_vocab:
            s["embeddings.token_type_embeddings.weight"] = ((self.type_vocab, E), True)
        ln("embeddings.LayerNorm", E)
        if E != H:
            lin("embeddings_project", H, E)
        layer, (q, k, v, out, attn_ln, up, down, out_ln) = LAYER_NAMES[self.family]
        for i in range(self.layers):
            p = layer % i
            A, F = self.layer_heads[i] * (H // self.heads), self.layer_ffn[i]   # pruned widths
            for n in (q, k, v):
                lin(p + n, A, H)
            lin(p + out, H, A)
            ln(p + attn_ln)
            lin(p + up, F, H)
            lin(p + down, H, F)
            ln(p + out_ln)
        if self.family == "mpnet":
            s["encoder.relative_attention_bias.weight"] = ((self.buckets, self.heads), True)
        if self.pooler:  # optional in the base models (kept when present), required by BERT's classifier
            lin("pooler.dense", H, H, req=self.arch == "BertForSequenceClassification")
        return s

    def head_shapes(self):
        H, n = self.hidden, self.num_labels
        s = OrderedDict()
        a = self.arch
        if a.endswith("ForSequenceClassification") and self.family in ("roberta", "electra", "mpnet"):
            # Roberta/Electra/MPNetClassificationHead: dense, tanh (ELECTRA: gelu), out_proj
            s["classifier.dense.weight"] = ((H, H), True)
            s["classifier.dense.bias"] = ((H,), True)
            s["classifier.out_proj.weight"] = ((n, H), True)
            s["classifier.out_proj.bias"] = ((n,), True)
        elif a.endswith("ForSequenceClassification"):
            if self.family == "distilbert":
                s["pre_classifier.weight"] = ((H, H), True)
                s["pre_classifier.bias"] = ((H,), True)
            s["classifier.weight"] = ((n, H), True)
            s["classifier.bias"] = ((n,), True)
        elif a.endswith("ForTokenClassification"):
            s["classifier.weight"] = ((n, H), True)
            s["classifier.bias"] = ((n,), True)
        elif a.endswith("ForQuestionAnswering"):
            s["qa_outputs.weight"] = ((2, H), True)
            s["qa_outputs.bias"] = ((2,), True)
        return s


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

def read_safetensors(path):
    """OrderedDict name -> ndarray (memory-mapped; BF16 widened to float32). Checks offsets."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ConvertError("%s: too short for a safetensors file" % path)
        (n,) = struct.unpack("<Q", head)
        if n > size - 8 or n > 100 * 1024 * 1024:
            raise ConvertError("%s: header length %d does not fit the file (%d bytes)"
                               % (path, n, size))
        try:
            header = json.loads(f.read(n).decode("utf-8"), object_pairs_hook=OrderedDict)
        except (UnicodeDecodeError, ValueError) as e:
            raise ConvertError("%s: bad safetensors header: %s" % (path, e))
    header.pop("__metadata__", None)
    base = 8 + n
    data = np.memmap(path, dtype=np.uint8, mode="r") if size > base else np.zeros(0, np.uint8)
    out = OrderedDict()
    for name, info in header.items():
        try:
            dt = info["dtype"]
            shape = tuple(int(x) for x in info["shape"])
            b, e = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ConvertError("%s: malformed header entry for tensor %s" % (path, name))
        if dt not in ST_DTYPES:
            raise ConvertError("%s: tensor %s has unsupported dtype %s" % (path, name, dt))
        npdt, isz = ST_DTYPES[dt]
        count = int(np.prod(shape)) if shape else 1
        if any(x < 0 for x in shape) or not (0 <= b <= e <= size - base) or e - b != count * isz:
            raise ConvertError("%s: tensor %s: data_offsets %s do not match shape %s %s"
                               % (path, name, [b, e], list(shape), dt))
        arr = data[base + b:base + e].view(np.dtype(npdt).newbyteorder("<")).reshape(shape)
        if dt == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr
    return out


def read_pytorch_bin(path):
    try:
        import torch
    except ImportError:
        raise ConvertError("%s: reading pytorch_model.bin needs torch (python3-torch)" % path)
    import inspect
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = True
    try:
        sd = torch.load(path, **kwargs)
    except Exception as e:  # pickle / zip errors, or weights_only refusing arbitrary objects
        raise ConvertError("%s: cannot load: %s" % (path, str(e).splitlines()[0] if str(e) else e))
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise ConvertError("%s: does not hold a state dict" % path)
    out = OrderedDict()
    for name, t in sd.items():
        if not hasattr(t, "dtype"):
            raise ConvertError("%s: entry %s is not a tensor" % (path, name))
        t = t.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            out[name] = t.float().numpy()       # exact widening
        else:
            out[name] = t.numpy()
    return out


def load_source(src):
    """Returns (tensors, [weight files read])."""
    def sharded(index_name, reader):
        with open(os.path.join(src, index_name)) as f:
            weight_map = json.load(f).get("weight_map", {})
        files = sorted(set(weight_map.values()))
        out = OrderedDict()
        for fn in files:
            for k, v in reader(os.path.join(src, fn)).items():
                if k in out:
                    raise ConvertError("%s: tensor %s appears in two shards" % (src, k))
                out[k] = v
        return out, [os.path.join(src, fn) for fn in files]

    p = os.path.join(src, "model.safetensors")
    if os.path.exists(p):
        return read_safetensors(p), [p]
    if os.path.exists(os.path.join(src, "model.safetensors.index.json")):
        return sharded("model.safetensors.index.json", read_safetensors)
    p = os.path.join(src, "pytorch_model.bin")
    if os.path.exists(p):
        return read_pytorch_bin(p), [p]
    if os.path.exists(os.path.join(src, "pytorch_model.bin.index.json")):
        return sharded("pytorch_model.bin.index.json", read_pytorch_bin)
    raise ConvertError("%s: no model.safetensors or pytorch_model.bin" % src)


# --------------------------------------------------------------------------------------------
# Names and shapes
# --------------------------------------------------------------------------------------------

def is_ignored_buffer(name, arr):
    return (name.endswith(".position_ids") or name.endswith(".num_batches_tracked")
            or (name.endswith("embeddings.token_type_ids") and arr.dtype.kind in "iu"))


def normalize(spec, tensors, source="checkpoint"):
    """Drops what HF ignores, renames legacy names, checks names and shapes.

    Returns (OrderedDict out_name -> array in the expected order, [notes])."""
    notes = list(spec.notes)
    dropped, head_dropped, renamed = [], [], []
    head_re = ENCODER_ONLY[spec.source_arch][1] if spec.source_arch in ENCODER_ONLY else None
    body, heads = OrderedDict(), OrderedDict()
    for name, arr in tensors.items():
        if is_ignored_buffer(name, arr):
            dropped.append(name)
            continue
        new = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
        new = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", new)
        if new != name:
            renamed.append(name)
        if head_re is not None and head_re.match(new):
            head_dropped.append(name)
            continue
        if new.startswith(spec.prefix):
            key = new[len(spec.prefix):]
            target = body
        elif new.startswith(("embeddings.", "encoder.", "transformer.", "pooler.", "embeddings_project.")):
            key, target = new, body
        else:
            key, target = new, heads
        if key in target:
            raise ConvertError("%s: tensor %s appears twice (with and without the %r prefix)"
                               % (source, key, spec.prefix))
        target[key] = (name, arr)
    if not spec.pooler:
        for k in [k for k in body if k.startswith("pooler.")]:
            dropped.append(body.pop(k)[0])      # HF ignores the pooler of these models

    def listing(names):
        return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")

    if renamed:
        notes.append("renamed %d legacy LayerNorm gamma/beta tensor(s) to weight/bias (%s)"
                     % (len(renamed), listing(renamed)))
    if head_re is not None:
        notes.append("%s: dropped the pre-training head (%d tensor(s): %s); converted as %s"
                     % (spec.source_arch, len(head_dropped), listing(head_dropped), spec.arch))
    if dropped:
        notes.append("dropped %d tensor(s) transformers ignores: %s"
                     % (len(dropped), listing(dropped)))

    out = OrderedDict()
    problems = []
    for table, got, prefix in ((spec.body_shapes(), body, spec.out_prefix),
                               (spec.head_shapes(), heads, "")):
        for key, (shape, required) in table.items():
            if key not in got:
                if required:
                    problems.append("missing tensor %s%s (expected shape %s)"
                                    % (prefix, key, list(shape)))
                continue
            src_name, arr = got.pop(key)
            if tuple(arr.shape) != tuple(shape):
                problems.append("tensor %s has shape %s, config.json implies %s"
                                % (src_name, list(arr.shape), list(shape)))
                continue
            if arr.dtype.kind != "f":
                problems.append("tensor %s has non-float dtype %s" % (src_name, arr.dtype))
                continue
            out[prefix + key] = arr
    for key, (src_name, arr) in list(body.items()) + list(heads.items()):
        problems.append("unexpected tensor %s (shape %s) for %s"
                        % (src_name, list(arr.shape), spec.arch))
    if problems:
        shown = problems[:12] + (["... and %d more" % (len(problems) - 12)]
                                 if len(problems) > 12 else [])
        raise ConvertError("%s does not match config.json (%s):\n  %s"
                           % (source, spec.arch, "\n  ".join(shown)))
    if spec.pooler and spec.arch.endswith("Model") and "pooler.dense.weight" not in out:
        notes.append("no pooler tensors: pooler_output will not be available")
    return out, notes


# --------------------------------------------------------------------------------------------
# dtype converters: each maps OrderedDict name -> float array to [(name, st_dtype, array)]
# --------------------------------------------------------------------------------------------

def convert_fp32(tensors, options=None):
    return [(n, "F32", np.asarray(a, dtype=np.float32))
            for n, a in progress(tensors.items(), len(tensors), "fp32")]


def convert_fp16(tensors, options=None):
    """Matrices -> fp16 (round to nearest even); biases and LayerNorm stay fp32."""
    out = []
    limit = float(np.finfo(np.float16).max)
    for n, a in progress(tensors.items(), len(tensors), "fp16"):
        a32 = np.asarray(a, dtype=np.float32)
        if a32.ndim >= 2:
            m = float(np.abs(a32).max()) if a32.size else 0.0
            if m > limit:
                raise ConvertError("tensor %s has |value| %g beyond the fp16 range (%g); "
                                   "use --dtype fp32" % (n, m, limit))
            out.append((n, "F16", a32.astype(np.float16)))
        else:
            out.append((n, "F32", a32))
    return out


# The encoder's linear weights (what int8 quantises), with or without the bert./distilbert. prefix.
QUANTIZED_LINEAR = re.compile(
    r"(^|\.)(encoder\.layer\.\d+\.(attention\.self\.(query|key|value)|attention\.output\.dense|"
    r"intermediate\.dense|output\.dense|attention\.attn\.[qkvo])|"
    r"transformer\.layer\.\d+\.(attention\.(q|k|v|out)_lin|ffn\.lin[12]))\.weight$")
WORD_EMBEDDINGS = re.compile(r"(^|\.)embeddings\.word_embeddings\.weight$")


def quantize_rows(a):
    """Per-row symmetric int8, float32 arithmetic as minibert's quantize_rows_symmetric:
    scale = max/127, code = rint(w * (127/max)) clipped to [-127, 127]; all-zero rows: scale 0."""
    a = np.asarray(a, dtype=np.float32)
    m = np.abs(a).max(axis=1).astype(np.float32)
    nz = m > 0
    scale = np.zeros_like(m)
    inv = np.zeros_like(m)
    np.divide(m, np.float32(127.0), out=scale, where=nz)
    np.divide(np.float32(127.0), m, out=inv, where=nz)
    codes = np.clip(np.rint(a * inv[:, None]), -127, 127).astype(np.int8)
    return codes, scale.astype(np.float32)


def convert_int8(tensors, options=None):
    """Encoder linear weights (and optionally word embeddings) -> I8 + per-row F32 scales;
    static input scales from options["input_scales"] (name -> max|x|); the rest fp32."""
    options = options or {}
    embeddings = options.get("embeddings", "int8")
    input_scales = options.get("input_scales") or {}
    summary = options.setdefault("summary", {"int8": [], "fp16": [], "fp32": [], "static": 0})
    out = []
    for n, a in progress(tensors.items(), len(tensors), "int8"):
        a32 = np.asarray(a, dtype=np.float32)
        if a32.ndim == 2 and (QUANTIZED_LINEAR.search(n) or
                              (WORD_EMBEDDINGS.search(n) and embeddings == "int8")):
            if not np.isfinite(a32).all():
                raise ConvertError("tensor %s holds inf or nan; it cannot be quantised" % n)
            codes, scale = quantize_rows(a32)
            out.append((n, "I8", codes))
            out.append((n + "_scale", "F32", scale))
            summary["int8"].append(n)
            base = n[:-len(".weight")]
            if QUANTIZED_LINEAR.search(n) and input_scales:
                key = re.sub(r"^(bert|distilbert|roberta|electra|mpnet)\.", "", base)
                if key not in input_scales:
                    raise ConvertError("calibration recorded no input for %s" % base)
                m = np.float32(input_scales[key])
                if not (np.isfinite(m) and m > 0):
                    raise ConvertError("calibration gave %s a max |input| of %r; cannot make a scale"
                                       % (base, float(m)))
                out.append((base + ".input_scale", "F32", np.array(m / np.float32(127.0),
                                                                   dtype=np.float32)))
                summary["static"] += 1
        elif a32.ndim == 2 and WORD_EMBEDDINGS.search(n) and embeddings == "fp16":
            out.extend(convert_fp16(OrderedDict([(n, a32)])))
            summary["fp16"].append(n)
        else:
            out.append((n, "F32", a32))
            if a32.ndim == 2:
                summary["fp32"].append(n)
    return out


CONVERTERS = OrderedDict([("fp32", convert_fp32), ("fp16", convert_fp16), ("int8", convert_int8)])


# --------------------------------------------------------------------------------------------
# Static calibration (int8 --calibrate)
# --------------------------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_tokenizer_bin(explicit=None):
    import glob
    candidates = [explicit] if explicit else []
    candidates += [os.environ.get("MINIBERT_TOKENIZE")]
    candidates += sorted(glob.glob(os.path.join(REPO, "build*", "examples", "minibert-tokenize")))
    candidates += [shutil.which("minibert-tokenize")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise ConvertError("--calibrate needs the minibert-tokenize program (build it: cmake --build "
                       "build --target minibert-tokenize), or pass --tokenizer-bin PATH")


def read_calibration_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            lines = [l.rstrip("\n") for l in f]
    except OSError as e:
        raise ConvertError("--calibrate %s: %s" % (path, e.strerror or e))
    if lines and "\t" in lines[0] and lines[0].split("\t")[0] == "sentence":
        lines = [l.split("\t")[0] for l in lines[1:]]      # a GLUE-style TSV: the sentence column
    lines = [l.strip() for l in lines if l.strip()]
    if not lines:
        raise ConvertError("--calibrate %s holds no text lines" % path)
    return lines


def tokenize_lines(lines, tokenizer_dir, tokenizer_bin, max_length):
    import subprocess
    for fn in ("vocab.txt", "tokenizer.json"):
        if os.path.exists(os.path.join(tokenizer_dir, fn)):
            break
    else:
        raise ConvertError("%s has no vocab.txt or tokenizer.json to tokenise the calibration "
                           "text with (pass --tokenizer-dir)" % tokenizer_dir)
    payload = "".join(json.dumps({"text": l}) + "\n" for l in lines)
    proc = subprocess.run([tokenizer_bin, "--model", tokenizer_dir, "--max-length", str(max_length)],
                          input=payload.encode("utf-8"), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise ConvertError("%s failed: %s" % (tokenizer_bin, proc.stderr.decode(errors="replace").strip()))
    out = [json.loads(l) for l in proc.stdout.decode("utf-8").splitlines() if l.strip()]
    return [(o["ids"], o.get("type_ids")) for o in out]


def calibrate(src, lines_path, tokenizer_dir=None, tokenizer_bin=None, log=print):
    """max |x| of every encoder linear layer's input over the calibration lines, from the PyTorch
    reference in float32: {"encoder.layer.0.attention.self.query": max, ...}."""
    # bert_reference.py: tests/reference in the source tree, or beside this script when installed
    # (<prefix>/share/minibert/scripts, where minibert-compare finds both).
    sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import torch
        import bert_reference
    except ImportError as e:
        raise ConvertError("--calibrate needs torch (python3-torch) and tests/reference: %s" % e)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    model = bert_reference.load_model(src, dtype=torch.float32)
    lines = read_calibration_lines(lines_path)
    encoded = tokenize_lines(lines, tokenizer_dir or src, find_tokenizer_bin(tokenizer_bin),
                             model.config.max_positions)
    names = {id(t): k[:-len(".weight")] for k, t in model.w.items() if QUANTIZED_LINEAR.search(k)}
    maxima = {}
    original = bert_reference.linear

    def recording_linear(x, w, b):
        name = names.get(id(w))
        if name is not None:
            maxima[name] = max(maxima.get(name, 0.0), float(x.abs().max()))
        return original(x, w, b)

    bert_reference.linear = recording_linear
    try:
        for ids, types in progress(encoded, len(encoded), "calibrate"):
            model.forward([ids], token_type_ids=[types] if types else None)
    finally:
        bert_reference.linear = original
    log("calibrated %d linear inputs on %d lines of %s" % (len(maxima), len(encoded), lines_path))
    return maxima


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    header = OrderedDict([("__metadata__", OrderedDict(metadata))])
    offset = 0
    for name, st_dtype, arr in tensors:
        n = arr.nbytes
        header[name] = OrderedDict([("dtype", st_dtype), ("shape", list(arr.shape)),
                                    ("data_offsets", [offset, offset + n])])
        offset += n
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)
    tmp = path + ".tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(hbytes)))
            f.write(hbytes)
            for name, st_dtype, arr in progress(tensors, len(tensors), "write"):
                a = np.ascontiguousarray(arr)
                f.write(a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def convert(src, out, dtype="fp32", force=False, log=print, embeddings="int8", calibrate_file=None,
            tokenizer_dir=None, tokenizer_bin=None):
    if dtype not in CONVERTERS:
        raise ConvertError("unknown --dtype %s (known: %s)" % (dtype, ", ".join(CONVERTERS)))
    if calibrate_file and dtype != "int8":
        raise ConvertError("--calibrate gives static int8 activation scales; it needs --dtype int8")
    if embeddings not in ("int8", "fp16", "fp32"):
        raise ConvertError("unknown --embeddings %s (known: int8, fp16, fp32)" % embeddings)
    if not os.path.isdir(src):
        raise ConvertError("%s is not a directory" % src)
    cfg_path = os.path.join(src, "config.json")
    try:
        with open(cfg_path) as f:
            cfg = json.load(f, object_pairs_hook=OrderedDict)
    except OSError:
        raise ConvertError("%s: missing config.json" % src)
    except ValueError as e:
        raise ConvertError("%s: invalid JSON: %s" % (cfg_path, e))
    spec = ModelSpec(cfg, cfg_path)
    out_st = os.path.join(out, "model.safetensors")
    same_dir = os.path.abspath(src) == os.path.abspath(out)
    if os.path.exists(out_st) and not force:
        raise ConvertError("%s exists (use --force to overwrite)" % out_st)

    tensors, files = load_source(src)
    size_before = sum(os.path.getsize(p) for p in files)
    quantized = [n for n, a in tensors.items() if a.dtype == np.int8]
    if quantized:
        raise ConvertError("%s holds int8 tensors (%s, ...): it is already quantised; convert from "
                           "the original fp32/fp16 folder" % (", ".join(files), quantized[0]))
    checked, notes = normalize(spec, tensors, ", ".join(files))
    options = {"embeddings": embeddings}
    if calibrate_file:
        options["input_scales"] = calibrate(src, calibrate_file, tokenizer_dir, tokenizer_bin, log)
    converted = CONVERTERS[dtype](checked, options)

    os.makedirs(out, exist_ok=True)
    metadata = [("format", "pt"), ("minibert_dtype", dtype)]
    if dtype == "int8":
        metadata.append(("minibert_activations", "static" if calibrate_file else "dynamic"))
        metadata.append(("minibert_embeddings", embeddings))
    write_safetensors(out_st, converted, metadata)
    out_cfg = os.path.join(out, "config.json")
    if spec.source_arch != spec.arch:
        cfg["architectures"] = [spec.arch]
        with open(out_cfg, "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
            f.write("\n")
    elif not same_dir:
        shutil.copyfile(cfg_path, out_cfg)
    copied = []
    for fn in TOKENIZER_FILES:
        p = os.path.join(src, fn)
        if os.path.exists(p):
            if not same_dir:
                shutil.copyfile(p, os.path.join(out, fn))
            copied.append(fn)
    size_after = os.path.getsize(out_st)
    for n in notes:
        log("note: " + n)
    counts = {}
    for _, st, _ in converted:
        counts[st] = counts.get(st, 0) + 1
    log("%s (%s) -> %s" % (src, spec.arch, out_st))
    log("  %d tensors (%s), %.1f MB -> %.1f MB (%.0f%%), tokenizer files: %s"
        % (len(converted), ", ".join("%d %s" % (c, d) for d, c in sorted(counts.items())),
           size_before / 1e6, size_after / 1e6, 100.0 * size_after / max(size_before, 1),
           ", ".join(copied) or "none"))
    if "summary" in options:
        sm = options["summary"]
        log("  quantised to int8 (per-row scales): %d matrices%s"
            % (len(sm["int8"]), " incl. word embeddings" if any(WORD_EMBEDDINGS.search(n) for n in sm["int8"]) else ""))
        if sm["fp16"]:
            log("  fp16: %s" % ", ".join(sm["fp16"]))
        log("  kept fp32: %s, and every bias / LayerNorm" % (", ".join(sm["fp32"]) or "no matrices"))
        log("  activations: %s" % ("static, %d calibrated input scales" % sm["static"]
                                   if sm["static"] else "dynamic (quantised per token at run time)"))
    return {"tensors": len(converted), "size_before": size_before, "size_after": size_after,
            "notes": notes, "architecture": spec.arch}


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Convert a Hugging Face BERT/DistilBERT/RoBERTa/XLM-R/CamemBERT/ELECTRA/MPNet folder "
                    "to minibert's safetensors.")
    ap.add_argument("src", metavar="SRC_DIR")
    ap.add_argument("out", metavar="OUT_DIR")
    ap.add_argument("--dtype", default="fp32", choices=list(CONVERTERS))
    ap.add_argument("--force", action="store_true", help="overwrite OUT_DIR/model.safetensors")
    ap.add_argument("--embeddings", default="int8", choices=["int8", "fp16", "fp32"],
                    help="word-embedding storage with --dtype int8 (default int8, per-row scales)")
    ap.add_argument("--calibrate", metavar="FILE",
                    help="text lines (or a GLUE TSV) for static activation scales (--dtype int8)")
    ap.add_argument("--tokenizer-dir", metavar="DIR",
                    help="folder whose vocab.txt / tokenizer.json tokenises --calibrate (default SRC_DIR)")
    ap.add_argument("--tokenizer-bin", metavar="PATH", help="the minibert-tokenize program")
    args = ap.parse_args(argv)
    try:
        convert(args.src, args.out, args.dtype, args.force, embeddings=args.embeddings,
                calibrate_file=args.calibrate, tokenizer_dir=args.tokenizer_dir,
                tokenizer_bin=args.tokenizer_bin)
    except ConvertError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    except (OSError, MemoryError) as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
