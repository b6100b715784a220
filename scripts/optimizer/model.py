"""A trainable BERT sequence classifier whose state_dict uses Hugging Face's names, so that
save() writes a folder minibert (and transformers, when unpruned) loads.

Pruning support mirrors transformers: a layer keeps `heads` heads of size hidden // num_heads
(BertSelfAttention after prune_heads), `kept_heads` remembers their original numbers so that
config.json's pruned_heads lists the removed ones; each layer has its own FFN width (written as
minibert's intermediate_sizes). forward() takes optional per-layer masks: head_masks[i] [heads]
multiplies layer i's attention probabilities (HF's head_mask), ffn_masks[i] [width] multiplies
its FFN activations; both are how importance is measured (prune.py) and what physical removal
must reproduce exactly (tests/optimize/test_optimizer.py).

Only model_type "bert" with BertForSequenceClassification is supported (the course's pipeline
runs on SST-2 classifiers); other folders are refused with the reason.
"""

import copy
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
sys.path.insert(0, os.path.dirname(HERE))
import bert_reference  # noqa: E402  (reads F32/F16/BF16 safetensors and pytorch_model.bin)
from train_demo_model import Linear  # noqa: E402  (nn.Linear as a 1x1 conv: oneDNN, ~20x netlib BLAS)

TOKENIZER_FILES = ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class ModelError(Exception):
    pass


class Layer(nn.Module):
    def __init__(self, hidden, heads, head_dim, ffn, eps, dropout=0.1):
        super().__init__()
        width = heads * head_dim
        self.heads, self.head_dim = heads, head_dim
        self.kept_heads = list(range(heads))          # original head numbers (pruned_heads)
        self.query, self.key, self.value = Linear(hidden, width), Linear(hidden, width), Linear(hidden, width)
        self.attn_out = Linear(width, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=eps)
        self.up = Linear(hidden, ffn)
        self.down = Linear(ffn, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=eps)
        self.drop = nn.Dropout(dropout)

    @property
    def ffn_width(self):
        return self.up.out_features

    def forward(self, x, ext_mask, head_mask=None, ffn_mask=None):
        B, L, _ = x.shape
        nh, d = self.heads, self.head_dim

        def split(t):
            return t.view(B, L, nh, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d)) + ext_mask
        probs = torch.softmax(scores, dim=-1)
        p = self.drop(probs)
        if head_mask is not None:
            p = p * head_mask.view(1, nh, 1, 1)
        ctx = torch.matmul(p, v).transpose(1, 2).reshape(B, L, nh * d)
        a = self.attn_norm(self.drop(self.attn_out(ctx)) + x)
        f = F.gelu(self.up(a))
        if ffn_mask is not None:
            f = f * ffn_mask
        return self.out_norm(self.drop(self.down(f)) + a), probs


class BertClassifier(nn.Module):
    """config: the folder's config.json dict (BERT keys)."""

    def __init__(self, config):
        super().__init__()
        c = self.config = copy.deepcopy(config)
        H, nh = c["hidden_size"], c["num_attention_heads"]
        if H % nh:
            raise ModelError("hidden_size %d is not a multiple of num_attention_heads %d" % (H, nh))
        if c.get("hidden_act", "gelu") != "gelu":
            raise ModelError("hidden_act %r: this trainer implements gelu (erf) only" % c.get("hidden_act"))
        eps = c.get("layer_norm_eps", 1e-12)
        self.word = nn.Embedding(c["vocab_size"], H)
        self.position = nn.Embedding(c["max_position_embeddings"], H)
        self.token_type = nn.Embedding(c.get("type_vocab_size", 2), H)
        self.emb_norm = nn.LayerNorm(H, eps=eps)
        pruned = {int(k): set(v) for k, v in (c.get("pruned_heads") or {}).items()}
        sizes = c.get("intermediate_sizes") or [c["intermediate_size"]] * c["num_hidden_layers"]
        self.layers = nn.ModuleList()
        for i in range(c["num_hidden_layers"]):
            layer = Layer(H, nh - len(pruned.get(i, ())), H // nh, sizes[i], eps)
            layer.kept_heads = [h for h in range(nh) if h not in pruned.get(i, ())]
            self.layers.append(layer)
        self.pooler = Linear(H, H)
        self.classifier = nn.Linear(H, c.get("num_labels", 2))
        self.drop = nn.Dropout(0.1)
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def forward(self, ids, mask, head_masks=None, ffn_masks=None):
        """ids, mask [B, L] long. Returns {"logits", "hidden" (embeddings + every layer),
        "attentions" (every layer's probabilities before dropout and masks)}."""
        L = ids.shape[1]
        pos = torch.arange(L, device=ids.device)
        h = self.word(ids) + self.position(pos)[None] + self.token_type(torch.zeros_like(ids))
        h = self.drop(self.emb_norm(h))
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        hidden, attentions = [h], []
        for i, layer in enumerate(self.layers):
            h, probs = layer(h, ext, None if head_masks is None else head_masks[i],
                             None if ffn_masks is None else ffn_masks[i])
            hidden.append(h)
            attentions.append(probs)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return {"logits": self.classifier(self.drop(pooled)), "hidden": hidden, "attentions": attentions}

    # ---- Hugging Face names --------------------------------------------------------------
    def hf_tensors(self):
        """[(HF name, float32 numpy array)] in BertForSequenceClassification's order."""
        out = []

        def add(name, t):
            out.append((name, t.detach().float().cpu().numpy().copy()))

        def lin(name, m):
            add(name + ".weight", m.weight)
            add(name + ".bias", m.bias)

        def ln(name, m):
            add(name + ".weight", m.weight)
            add(name + ".bias", m.bias)

        add("bert.embeddings.word_embeddings.weight", self.word.weight)
        add("bert.embeddings.position_embeddings.weight", self.position.weight)
        add("bert.embeddings.token_type_embeddings.weight", self.token_type.weight)
        ln("bert.embeddings.LayerNorm", self.emb_norm)
        for i, l in enumerate(self.layers):
            p = "bert.encoder.layer.%d." % i
            lin(p + "attention.self.query", l.query)
            lin(p + "attention.self.key", l.key)
            lin(p + "attention.self.value", l.value)
            lin(p + "attention.output.dense", l.attn_out)
            ln(p + "attention.output.LayerNorm", l.attn_norm)
            lin(p + "intermediate.dense", l.up)
            lin(p + "output.dense", l.down)
            ln(p + "output.LayerNorm", l.out_norm)
        lin("bert.pooler.dense", self.pooler)
        lin("classifier", self.classifier)
        return out

    def current_config(self):
        """config.json for the model as it now is: sizes, pruned_heads, intermediate_sizes."""
        c = copy.deepcopy(self.config)
        nh = c["num_attention_heads"]
        pruned = {str(i): [h for h in range(nh) if h not in l.kept_heads]
                  for i, l in enumerate(self.layers) if len(l.kept_heads) < nh}
        c.pop("pruned_heads", None)
        c.pop("intermediate_sizes", None)
        if pruned:
            c["pruned_heads"] = pruned
        widths = [l.ffn_width for l in self.layers]
        c["intermediate_size"] = max(widths)
        if len(set(widths)) > 1:
            c["intermediate_sizes"] = widths
        c["num_hidden_layers"] = len(self.layers)
        c["torch_dtype"] = "float32"
        return c


def load(folder):
    """A BertClassifier from a Hugging Face folder (F32/F16/BF16 safetensors or pytorch_model.bin)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "bert" or (cfg.get("architectures") or [""])[0] != "BertForSequenceClassification":
        raise ModelError("%s: scripts/optimize.py trains BertForSequenceClassification (model_type bert) only; "
                         "got %s / %s" % (folder, cfg.get("model_type"), cfg.get("architectures")))
    model = BertClassifier(cfg)
    raw = bert_reference.read_weights(folder)
    want = dict(model.hf_tensors())
    params = dict(_hf_parameters(model))
    for name, arr in raw.items():
        if name.endswith("position_ids"):
            continue
        key = name if name in params else "bert." + name
        if key not in params:
            raise ModelError("%s: unexpected tensor %s" % (folder, name))
        if tuple(arr.shape) != tuple(want[key].shape):
            raise ModelError("%s: tensor %s has shape %s, the config implies %s"
                             % (folder, name, list(arr.shape), list(want[key].shape)))
        with torch.no_grad():
            params[key].copy_(torch.from_numpy(np.array(arr, dtype=np.float32)))
        want.pop(key)
    if want:
        raise ModelError("%s: missing tensors %s" % (folder, ", ".join(list(want)[:4])))
    return model


def _hf_parameters(model):
    """[(HF name, the live nn.Parameter)], in hf_tensors' order."""
    names = [n for n, _ in model.hf_tensors()]
    live = []
    live += [model.word.weight, model.position.weight, model.token_type.weight,
             model.emb_norm.weight, model.emb_norm.bias]
    for l in model.layers:
        for m in (l.query, l.key, l.value, l.attn_out, l.attn_norm, l.up, l.down, l.out_norm):
            live += [m.weight, m.bias]
    live += [model.pooler.weight, model.pooler.bias, model.classifier.weight, model.classifier.bias]
    assert len(names) == len(live)
    return list(zip(names, live))


def write_safetensors(path, tensors, metadata=None):
    header = {"__metadata__": dict(metadata or {"format": "pt"})}
    offset = 0
    for name, arr in tensors:
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for _, arr in tensors:
            f.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())
    os.replace(tmp, path)


def save(model, folder, tokenizer_from=None):
    """Writes config.json + model.safetensors (F32), and the tokenizer files of `tokenizer_from`."""
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(model.current_config(), f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(folder, "model.safetensors"), model.hf_tensors())
    if tokenizer_from:
        for fn in TOKENIZER_FILES:
            src = os.path.join(tokenizer_from, fn)
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(folder, fn))


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())
