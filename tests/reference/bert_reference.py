#!/usr/bin/env python3
"""Independent PyTorch reference for BERT / DistilBERT encoders and their HF heads (eval mode).

Run with Debian's /usr/bin/python3 (or $PYTHON); needs torch and numpy, not transformers:

    /usr/bin/python3 tests/reference/bert_reference.py MODEL_DIR [--length 17] [--float32]

As a module:

    from bert_reference import load_model
    m = load_model("/tmp/minibert-models/tiny-bert")          # float64 by default
    out = m.forward(input_ids, attention_mask=None, token_type_ids=None)   # dict of tensors

Written from the Hugging Face definitions (modeling_bert.py, modeling_distilbert.py):

  BERT embeddings     LayerNorm(word[ids] + position[0..L) + token_type[type_ids]); type ids
                      default to 0.
  DistilBERT emb.     LayerNorm(word[ids] + position[0..L)); no token types; eps 1e-12.
  self-attention      q, k, v = Linear(x); per head softmax(q k^T / sqrt(d_head) + ext_mask) v,
                      ext_mask = (1 - mask) * finfo(dtype).min on the key axis.
  BERT layer          a = LN(dense(ctx) + x); y = LN(dense(act(dense(a))) + a), eps from config.
  DistilBERT layer    a = sa_layer_norm(out_lin(ctx) + x); y = output_layer_norm(lin2(act(lin1(a))) + a).
  activations         gelu: exact erf; gelu_new / gelu_pytorch_tanh: tanh approximation; relu.
  BERT pooler         tanh(dense(h[:, 0])) (BertModel and BertForSequenceClassification only).
  heads               BERT seq-cls: classifier(pooler_output);
                      DistilBERT seq-cls: classifier(relu(pre_classifier(h[:, 0])));
                      token-cls: classifier(h); QA: qa_outputs(h) -> start, end.
  mean_pooled         sum_t(h * mask) / max(sum_t(mask), 1e-9) (sentence-transformers pooling).

The other families (modeling_roberta.py, modeling_xlm_roberta.py, modeling_camembert.py,
modeling_electra.py, modeling_mpnet.py), restated the same way:

  RoBERTa / XLM-R /   BERT's layers under "roberta."; position ids by
  CamemBERT           create_position_ids_from_input_ids: mask = ids != padding_idx (pad_token_id),
                      positions = cumsum(mask) * mask + padding_idx; pooler only in the base model;
                      seq-cls (RobertaClassificationHead): out_proj(tanh(dense(h[:, 0]))).
  ELECTRA             BERT's embeddings at embedding_size, then embeddings_project (Linear
                      embedding_size -> hidden) when present; BERT's layers under "electra.";
                      no pooler; seq-cls (ElectraClassificationHead): out_proj(gelu(dense(h[:, 0])))
                      with the exact erf GELU.
  MPNet               LayerNorm(word + position), positions as RoBERTa's, no token types;
                      layers attention.attn.{q,k,v,o} + attention.LayerNorm, then BERT's FFN;
                      scores = q k^T / sqrt(d) + position_bias + ext_mask, position_bias[h, i, j]
                      = relative_attention_bias[bucket(j - i), h] with MPNet's
                      relative_position_bucket(num_buckets=32, max_distance=128) in float32 as
                      transformers computes it; pooler only in the base model; seq-cls as RoBERTa's.

Dropout is identity in eval mode, so it does not appear. Weights in F32, F16 or BF16 safetensors
(or pytorch_model.bin) are widened exactly and then computed in the requested dtype (float64 for
goldens, so the reference's own rounding error is ~1e-15 relative, far below any tolerance).
Tensor names are accepted with or without the `bert.` / `distilbert.` prefix.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

_HEADS = ("Model", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")
# architecture prefix -> (family, the model_type values it goes with)
ARCH_FAMILIES = {"Bert": "bert", "DistilBert": "distilbert", "Roberta": "roberta",
                 "XLMRoberta": "roberta", "Camembert": "roberta", "Electra": "electra", "MPNet": "mpnet"}
MODEL_TYPE_FAMILY = {"bert": "bert", "distilbert": "distilbert", "roberta": "roberta",
                     "xlm-roberta": "roberta", "camembert": "roberta", "electra": "electra",
                     "mpnet": "mpnet"}
SUPPORTED_ARCHITECTURES = {p + h for p in ARCH_FAMILIES for h in _HEADS}
BASE_MODEL = {"bert": "BertModel", "distilbert": "DistilBertModel", "roberta": "RobertaModel",
              "electra": "ElectraModel", "mpnet": "MPNetModel"}

_ST_DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (np.uint16, 2),
              "F64": (np.float64, 8), "I64": (np.int64, 8), "I32": (np.int32, 4)}


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

def read_safetensors(path):
    """Returns ({name: np.ndarray (float32 for F32/F16/BF16)}, metadata). Checks every offset."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError("%s: file too short for a safetensors header" % path)
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise ValueError("%s: header length %d exceeds file size" % (path, n))
    header = json.loads(data[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        dt = info["dtype"]
        if dt not in _ST_DTYPES:
            raise ValueError("%s: tensor %s has unsupported dtype %s" % (path, name, dt))
        npdt, size = _ST_DTYPES[dt]
        shape = tuple(int(s) for s in info["shape"])
        b, e = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= b <= e and base + e <= len(data) and e - b == count * size):
            raise ValueError("%s: tensor %s has bad data_offsets %s for shape %s %s"
                             % (path, name, [b, e], list(shape), dt))
        arr = np.frombuffer(data, dtype=np.dtype(npdt).newbyteorder("<"), count=count,
                            offset=base + b).reshape(shape)
        if dt == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        elif dt == "F16":
            arr = arr.astype(np.float32)
        tensors[name] = arr
    return tensors, meta


def read_weights(folder):
    st = os.path.join(folder, "model.safetensors")
    if os.path.exists(st):
        return read_safetensors(st)[0]
    bin_path = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(bin_path):
        try:
            sd = torch.load(bin_path, map_location="cpu", weights_only=True)
        except TypeError:
            sd = torch.load(bin_path, map_location="cpu")
        return {k: v.float().numpy() if v.is_floating_point() else v.numpy()
                for k, v in sd.items()}
    raise FileNotFoundError("%s: neither model.safetensors nor pytorch_model.bin" % folder)


class Config:
    """The few facts the math needs, for both model types."""

    def __init__(self, raw):
        self.raw = raw
        self.model_type = raw.get("model_type")
        if self.model_type not in MODEL_TYPE_FAMILY:
            raise ValueError("unsupported model_type %s" % self.model_type)
        self.family = MODEL_TYPE_FAMILY[self.model_type]
        archs = raw.get("architectures") or []
        if not archs:
            archs = [BASE_MODEL[self.family]]
        self.architecture = archs[0]
        if self.architecture not in SUPPORTED_ARCHITECTURES:
            raise ValueError("unsupported architecture %s" % self.architecture)
        self.positions = "padding" if self.family in ("roberta", "mpnet") else "arange"
        self.pad_id = raw.get("pad_token_id", 1 if self.family in ("roberta", "mpnet") else 0)
        self.embedding_size = None
        if self.family == "distilbert":
            self.hidden = raw["dim"]
            self.heads = raw["n_heads"]
            self.layers = raw["n_layers"]
            self.intermediate = raw["hidden_dim"]
            self.act = raw.get("activation", "gelu")
            self.eps = 1e-12                      # nn.LayerNorm(dim, eps=1e-12) in HF
            self.type_vocab = 0
        else:
            self.hidden = raw["hidden_size"]
            self.heads = raw["num_attention_heads"]
            self.layers = raw["num_hidden_layers"]
            self.intermediate = raw["intermediate_size"]
            self.act = raw.get("hidden_act", "gelu")
            self.eps = raw.get("layer_norm_eps", 1e-12)
            self.type_vocab = 0 if self.family == "mpnet" else raw.get("type_vocab_size", 2)
            pet = raw.get("position_embedding_type", "absolute")
            if pet != "absolute":
                raise ValueError("unsupported position_embedding_type %s" % pet)
            if self.family == "electra":
                self.embedding_size = raw.get("embedding_size", 128)
            if self.family == "mpnet":
                self.buckets = raw.get("relative_attention_num_buckets", 32)
        # HF PretrainedConfig.pruned_heads: {layer: [heads removed by prune_heads]} (JSON keys are
        # strings). A pruned layer keeps head size hidden // heads with fewer heads.
        self.pruned_heads = {int(k): sorted(set(v)) for k, v in (raw.get("pruned_heads") or {}).items()}
        self.vocab = raw["vocab_size"]
        self.max_positions = raw["max_position_embeddings"]
        # the longest sequence: positions after padding_idx need padding_idx + 1 rows first
        self.max_sequence = (self.max_positions - self.pad_id - 1 if self.positions == "padding"
                             else self.max_positions)
        self.prefix = self.family + "."

    @property
    def head(self):
        a = self.architecture
        for suffix, h in (("ForSequenceClassification", "seqcls"),
                          ("ForTokenClassification", "tokcls"),
                          ("ForQuestionAnswering", "qa")):
            if a.endswith(suffix):
                return h
        return None

    @property
    def has_pooler(self):
        # BERT builds the pooler for the base model and sequence classification; RoBERTa and
        # MPNet for the base model only (their task models use add_pooling_layer=False); DistilBERT
        # and ELECTRA never.
        if self.family == "bert":
            return self.architecture in ("BertModel", "BertForSequenceClassification")
        return self.family in ("roberta", "mpnet") and self.head is None


# --------------------------------------------------------------------------------------------
# Math
# --------------------------------------------------------------------------------------------

def activation(name):
    if name == "gelu":
        return lambda x: 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        c = math.sqrt(2.0 / math.pi)
        return lambda x: 0.5 * x * (1.0 + torch.tanh(c * (x + 0.044715 * x * x * x)))
    if name == "relu":
        return lambda x: torch.clamp(x, min=0)
    raise ValueError("unsupported activation %s" % name)


def linear(x, w, b):
    return x @ w.t() + b


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)     # biased variance, as torch LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * w + b


class ReferenceModel:
    def __init__(self, folder, dtype=torch.float64):
        with open(os.path.join(folder, "config.json")) as f:
            self.config = Config(json.load(f))
        self.folder = folder
        self.dtype = dtype
        raw = read_weights(folder)
        c = self.config
        self.w = {}
        for name, arr in raw.items():
            if name.endswith("position_ids") or name.endswith("num_batches_tracked"):
                continue
            key = name[len(c.prefix):] if name.startswith(c.prefix) else name
            self.w[key] = torch.from_numpy(np.array(arr, dtype=np.float64)).to(dtype)
        self.act = activation(c.act)
        # A BertModel folder without pooler tensors (e.g. converted from BertForMaskedLM) has no
        # pooler_output; BertForSequenceClassification needs the pooler and fails loudly.
        self.has_pooler = c.has_pooler and ("pooler.dense.weight" in self.w or
                                            c.head == "seqcls")

    def p(self, name):
        try:
            return self.w[name]
        except KeyError:
            raise KeyError("%s: missing tensor %s" % (self.folder, name)) from None

    # ---- encoder --------------------------------------------------------------------------
    def position_ids(self, ids):
        c = self.config
        B, L = ids.shape
        if c.positions == "padding":  # create_position_ids_from_input_ids
            mask = ids.ne(c.pad_id).int()
            return (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + c.pad_id
        return torch.arange(L, dtype=torch.long).unsqueeze(0).expand(B, L)

    def embeddings(self, ids, type_ids):
        c = self.config
        B, L = ids.shape
        if L > c.max_sequence:
            raise ValueError("sequence length %d > %d positions" % (L, c.max_sequence))
        x = self.p("embeddings.word_embeddings.weight")[ids]
        if c.type_vocab:  # inputs_embeds + token_type_embeddings, then + position_embeddings
            x = x + self.p("embeddings.token_type_embeddings.weight")[type_ids]
        x = x + self.p("embeddings.position_embeddings.weight")[self.position_ids(ids)]
        x = layer_norm(x, self.p("embeddings.LayerNorm.weight"),
                       self.p("embeddings.LayerNorm.bias"), c.eps)
        if "embeddings_project.weight" in self.w:  # ELECTRA with embedding_size != hidden_size
            x = linear(x, self.p("embeddings_project.weight"), self.p("embeddings_project.bias"))
        return x

    @staticmethod
    def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
        """MPNetEncoder.relative_position_bucket (float32 log, as transformers)."""
        ret = 0
        n = -relative_position
        num_buckets //= 2
        ret += (n < 0).to(torch.long) * num_buckets
        n = torch.abs(n)
        max_exact = num_buckets // 2
        is_small = n < max_exact
        val_if_large = max_exact + (torch.log(n.float() / max_exact) / math.log(max_distance / max_exact)
                                    * (num_buckets - max_exact)).to(torch.long)
        val_if_large = torch.min(val_if_large, torch.full_like(val_if_large, num_buckets - 1))
        return ret + torch.where(is_small, n, val_if_large)

    def position_bias(self, L):
        """MPNetEncoder.compute_position_bias: [1, heads, L, L] (num_buckets=32 as it is called)."""
        context = torch.arange(L, dtype=torch.long)[:, None]
        memory = torch.arange(L, dtype=torch.long)[None, :]
        bucket = self.relative_position_bucket(memory - context, num_buckets=32)
        values = self.p("encoder.relative_attention_bias.weight")[bucket]   # [L, L, heads]
        return values.permute([2, 0, 1]).unsqueeze(0)

    def attention(self, x, ext_mask, q_name, k_name, v_name, bias=None, layer=0):
        c = self.config
        B, L, H = x.shape
        d = H // c.heads
        nh = c.heads - len(c.pruned_heads.get(layer, ()))   # BertSelfAttention after prune_heads
        if self.p(q_name + ".weight").shape[0] != nh * d:
            raise ValueError("%s: %s has %d rows; pruned_heads leaves %d heads of size %d"
                             % (self.folder, q_name, self.p(q_name + ".weight").shape[0], nh, d))

        def split(t):
            return t.view(B, L, nh, d).transpose(1, 2)      # [B, nh, L, d]

        q = split(linear(x, self.p(q_name + ".weight"), self.p(q_name + ".bias")))
        k = split(linear(x, self.p(k_name + ".weight"), self.p(k_name + ".bias")))
        v = split(linear(x, self.p(v_name + ".weight"), self.p(v_name + ".bias")))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d)
        if bias is not None:
            scores = scores + bias
        scores = scores + ext_mask
        probs = torch.softmax(scores, dim=-1)
        ctx = probs @ v                                      # [B, nh, L, d]
        return ctx.transpose(1, 2).reshape(B, L, nh * d)

    def bert_layer(self, x, ext_mask, i, bias=None):
        c = self.config
        P = "encoder.layer.%d." % i
        if c.family == "mpnet":
            A = P + "attention.attn."
            q, k, v, o, n = A + "q", A + "k", A + "v", A + "o", P + "attention.LayerNorm"
        else:
            q, k, v = P + "attention.self.query", P + "attention.self.key", P + "attention.self.value"
            o, n = P + "attention.output.dense", P + "attention.output.LayerNorm"
        ctx = self.attention(x, ext_mask, q, k, v, bias, layer=i)
        a = layer_norm(linear(ctx, self.p(o + ".weight"), self.p(o + ".bias")) + x,
                       self.p(n + ".weight"), self.p(n + ".bias"), c.eps)
        f = self.act(linear(a, self.p(P + "intermediate.dense.weight"),
                            self.p(P + "intermediate.dense.bias")))
        f = linear(f, self.p(P + "output.dense.weight"), self.p(P + "output.dense.bias"))
        return layer_norm(f + a, self.p(P + "output.LayerNorm.weight"),
                          self.p(P + "output.LayerNorm.bias"), c.eps)

    def distilbert_layer(self, x, ext_mask, i):
        c = self.config
        P = "transformer.layer.%d." % i
        ctx = self.attention(x, ext_mask, P + "attention.q_lin", P + "attention.k_lin",
                             P + "attention.v_lin", i)
        a = layer_norm(linear(ctx, self.p(P + "attention.out_lin.weight"),
                              self.p(P + "attention.out_lin.bias")) + x,
                       self.p(P + "sa_layer_norm.weight"), self.p(P + "sa_layer_norm.bias"),
                       c.eps)
        f = self.act(linear(a, self.p(P + "ffn.lin1.weight"), self.p(P + "ffn.lin1.bias")))
        f = linear(f, self.p(P + "ffn.lin2.weight"), self.p(P + "ffn.lin2.bias"))
        return layer_norm(f + a, self.p(P + "output_layer_norm.weight"),
                          self.p(P + "output_layer_norm.bias"), c.eps)

    # ---- full forward -----------------------------------------------------------------------
    @torch.no_grad()
    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        """input_ids [B, L] (list or tensor); returns a dict of [B, ...] tensors in self.dtype:
        last_hidden_state, mean_pooled, and pooler_output / logits / start_logits, end_logits
        as the architecture has them."""
        c = self.config
        ids = torch.as_tensor(input_ids, dtype=torch.long)
        if ids.dim() == 1:
            ids = ids.unsqueeze(0)
        B, L = ids.shape
        if int(ids.min()) < 0 or int(ids.max()) >= c.vocab:
            raise ValueError("token id out of range [0, %d)" % c.vocab)
        mask = (torch.ones(B, L, dtype=self.dtype) if attention_mask is None
                else torch.as_tensor(attention_mask).to(self.dtype).view(B, L))
        types = (torch.zeros(B, L, dtype=torch.long) if token_type_ids is None
                 else torch.as_tensor(token_type_ids, dtype=torch.long).view(B, L))
        if c.type_vocab and (int(types.min()) < 0 or int(types.max()) >= c.type_vocab):
            raise ValueError("token type id out of range [0, %d)" % c.type_vocab)
        ext_mask = ((1.0 - mask) * torch.finfo(self.dtype).min)[:, None, None, :]

        h = self.embeddings(ids, types)
        bias = self.position_bias(L) if c.family == "mpnet" else None
        for i in range(c.layers):
            if c.family == "distilbert":
                h = self.distilbert_layer(h, ext_mask, i)
            else:
                h = self.bert_layer(h, ext_mask, i, bias)

        out = {"last_hidden_state": h}
        m = mask.unsqueeze(-1)
        out["mean_pooled"] = (h * m).sum(1) / torch.clamp(m.sum(1), min=1e-9)
        if self.has_pooler:
            out["pooler_output"] = torch.tanh(linear(h[:, 0], self.p("pooler.dense.weight"),
                                                     self.p("pooler.dense.bias")))
        head = c.head
        if head == "seqcls":
            if c.family == "bert":
                feat = out["pooler_output"]
            elif c.family == "distilbert":
                feat = torch.relu(linear(h[:, 0], self.p("pre_classifier.weight"),
                                         self.p("pre_classifier.bias")))
            else:  # Roberta/MPNet/ElectraClassificationHead: dense, tanh (ELECTRA: gelu), out_proj
                x = linear(h[:, 0], self.p("classifier.dense.weight"), self.p("classifier.dense.bias"))
                x = activation("gelu")(x) if c.family == "electra" else torch.tanh(x)
                out["logits"] = linear(x, self.p("classifier.out_proj.weight"),
                                       self.p("classifier.out_proj.bias"))
                feat = None
            if feat is not None:
                out["logits"] = linear(feat, self.p("classifier.weight"), self.p("classifier.bias"))
        elif head == "tokcls":
            out["logits"] = linear(h, self.p("classifier.weight"), self.p("classifier.bias"))
        elif head == "qa":
            se = linear(h, self.p("qa_outputs.weight"), self.p("qa_outputs.bias"))
            out["start_logits"] = se[..., 0].contiguous()
            out["end_logits"] = se[..., 1].contiguous()
        return out

    __call__ = forward


def load_model(folder, dtype=torch.float64):
    return ReferenceModel(folder, dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Run the reference on random ids and print outputs.")
    ap.add_argument("model", nargs="?")
    ap.add_argument("--length", type=int, default=8)
    ap.add_argument("--float32", action="store_true", help="compute in float32, not float64")
    ap.add_argument("--check-buckets", action="store_true",
                    help="compare MPNet's float32 relative-position buckets with the double-precision "
                         "formula minibert uses (layers/relative_position.hpp) for |distance| <= 1100")
    args = ap.parse_args(argv)
    if args.check_buckets:
        rel = torch.arange(-1100, 1101)
        got = ReferenceModel.relative_position_bucket(rel)

        def exact(r):
            n = -r
            ret = 16 if n < 0 else 0
            n = abs(n)
            return ret + (n if n < 8 else min(8 + int(math.log(n / 8) / math.log(16) * 8), 15))
        bad = [int(r) for r, b in zip(rel, got) if exact(int(r)) != int(b)]
        print("bucket mismatches for |distance| <= 1100: %d %s" % (len(bad), bad[:10]))
        return 1 if bad else 0
    if not args.model:
        ap.error("a model folder is needed (or --check-buckets)")
    m = load_model(args.model, torch.float32 if args.float32 else torch.float64)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, m.config.vocab, size=(1, args.length))
    out = m.forward(ids.tolist())
    print("architecture:", m.config.architecture)
    for k, v in out.items():
        print("%-18s shape %-16s max|x| %.4g  first %s" % (
            k, list(v.shape), float(v.abs().max()), v.flatten()[:4].tolist()))
    return 0


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
