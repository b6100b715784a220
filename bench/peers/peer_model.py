"""The PyTorch model the peers run: BERT / DistilBERT sequence classifiers as torch.nn modules,
written from tests/reference/bert_reference.py (same math, same weight names) but with the
building blocks a user's PyTorch model has (nn.Linear with separate Q, K and V, F.layer_norm,
F.gelu, torch.softmax), so that PyTorch eager and the ONNX export run what users would run.

    from peer_model import load_peer_model, bench_inputs
    model = load_peer_model("build-perf/bench-models/bench-bert-base")   # float32, eval mode
    logits = model(*bench_inputs(model.config, batch=1, seq=128))

bench_inputs() is the input every engine of bench/peers uses (minibert_bench.cpp and
ort_bench.js compute the same ids): id(b, t) = 1000 + (t * 7919 + b * 104729) % (vocab - 1000),
with [CLS] = 101 first and [SEP] = 102 last, token types 0, attention mask 1.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "reference"))
from bert_reference import Config, read_weights  # noqa: E402


def bench_ids(vocab, batch, seq):
    ids = np.empty((batch, seq), dtype=np.int64)
    for b in range(batch):
        for t in range(seq):
            ids[b, t] = 1000 + (t * 7919 + b * 104729) % (vocab - 1000)
        ids[b, 0] = 101
        ids[b, seq - 1] = 102
    return ids


def bench_inputs(config, batch, seq):
    ids = torch.from_numpy(bench_ids(config.vocab, batch, seq))
    mask = torch.ones(batch, seq, dtype=torch.long)
    if config.model_type == "bert":
        return ids, mask, torch.zeros(batch, seq, dtype=torch.long)
    return ids, mask


def _linear(weights, name):
    w = weights[name + ".weight"]
    layer = nn.Linear(w.shape[1], w.shape[0])
    layer.weight.data.copy_(torch.from_numpy(np.array(w, dtype=np.float32)))
    layer.bias.data.copy_(torch.from_numpy(np.array(weights[name + ".bias"], dtype=np.float32)))
    return layer


def _norm(weights, name, eps):
    w = weights[name + ".weight"]
    layer = nn.LayerNorm(w.shape[0], eps=eps)
    layer.weight.data.copy_(torch.from_numpy(np.array(w, dtype=np.float32)))
    layer.bias.data.copy_(torch.from_numpy(np.array(weights[name + ".bias"], dtype=np.float32)))
    return layer


def _embedding(weights, name):
    w = torch.from_numpy(np.array(weights[name], dtype=np.float32))
    return nn.Embedding.from_pretrained(w, freeze=True)


class Layer(nn.Module):
    """One post-LayerNorm encoder layer; `names` maps roles to the family's tensor names."""

    def __init__(self, weights, names, config):
        super().__init__()
        self.heads = config.heads
        self.head_dim = config.hidden // config.heads  # a constant, so the export bakes 1/sqrt(d)
        self.q, self.k, self.v = (_linear(weights, names[r]) for r in ("q", "k", "v"))
        self.out = _linear(weights, names["out"])
        self.norm1 = _norm(weights, names["norm1"], config.eps)
        self.up = _linear(weights, names["up"])
        self.down = _linear(weights, names["down"])
        self.norm2 = _norm(weights, names["norm2"], config.eps)
        if config.act == "gelu":
            self.act = F.gelu
        elif config.act in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
            self.act = lambda x: F.gelu(x, approximate="tanh")
        elif config.act == "relu":
            self.act = F.relu
        else:
            raise ValueError("unsupported activation %s" % config.act)

    def forward(self, x, ext_mask):
        b, s, h = x.shape
        d = self.head_dim

        def split(t):
            return t.view(b, s, self.heads, d).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + ext_mask
        ctx = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, s, h)
        a = self.norm1(self.out(ctx) + x)
        return self.norm2(self.down(self.act(self.up(a))) + a)


class PeerModel(nn.Module):
    """BertForSequenceClassification / DistilBertForSequenceClassification, eval mode: logits."""

    def __init__(self, folder):
        super().__init__()
        import json
        with open(os.path.join(folder, "config.json")) as f:
            self.config = Config(json.load(f))
        c = self.config
        raw = read_weights(folder)
        w = {(k[len(c.prefix):] if k.startswith(c.prefix) else k): v for k, v in raw.items()}
        self.bert = c.model_type == "bert"
        self.word = _embedding(w, "embeddings.word_embeddings.weight")
        self.position = _embedding(w, "embeddings.position_embeddings.weight")
        self.token_type = _embedding(w, "embeddings.token_type_embeddings.weight") if self.bert else None
        self.emb_norm = _norm(w, "embeddings.LayerNorm", c.eps)
        layers = []
        for i in range(c.layers):
            if self.bert:
                p = "encoder.layer.%d." % i
                names = dict(q=p + "attention.self.query", k=p + "attention.self.key", v=p + "attention.self.value",
                             out=p + "attention.output.dense", norm1=p + "attention.output.LayerNorm",
                             up=p + "intermediate.dense", down=p + "output.dense", norm2=p + "output.LayerNorm")
            else:
                p = "transformer.layer.%d." % i
                names = dict(q=p + "attention.q_lin", k=p + "attention.k_lin", v=p + "attention.v_lin",
                             out=p + "attention.out_lin", norm1=p + "sa_layer_norm",
                             up=p + "ffn.lin1", down=p + "ffn.lin2", norm2=p + "output_layer_norm")
            layers.append(Layer(w, names, c))
        self.layers = nn.ModuleList(layers)
        if self.bert:
            self.pooler = _linear(w, "pooler.dense")
        else:
            self.pre_classifier = _linear(w, "pre_classifier")
        self.classifier = _linear(w, "classifier")
        self.eval()

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        s = input_ids.shape[1]
        positions = torch.arange(s, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids)
        if self.bert:
            x = x + self.token_type(token_type_ids)
        x = self.emb_norm(x + self.position(positions))
        ext_mask = ((1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min)
        for layer in self.layers:
            x = layer(x, ext_mask)
        cls = x[:, 0]
        if self.bert:
            return self.classifier(torch.tanh(self.pooler(cls)))
        return self.classifier(torch.relu(self.pre_classifier(cls)))


def load_peer_model(folder):
    return PeerModel(folder)
