#!/usr/bin/env python3
"""Train the demo SST-2 sentiment classifier: a BERT teacher from scratch, then a distilled
TinyBERT-sized student, exported as a Hugging Face folder that minibert loads as it is.

Run with Debian's /usr/bin/python3 (or $PYTHON); needs torch and numpy only (no transformers):

    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/train_demo_model.py
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/train_demo_model.py --trim-vocab models/sst2-student
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/train_demo_model.py --quick --out /tmp/sst2-quick
    /usr/bin/python3 scripts/train_demo_model.py --check-tokenizer   # goldens only, no training
    /usr/bin/python3 scripts/train_demo_model.py --verify models/sst2-student   # check an export

The committed models/sst2-student was made by exactly the first two commands (train, then trim
the vocabulary in place), then checked with the last one. Default settings take about 35-60
minutes on the project's 2-core machine (see the model card); the trim takes a few minutes.
Set OMP_WAIT_POLICY=PASSIVE: with OpenMP's default spinning, torch crawls on a shared machine.

What it does, in order:

1. Tokenises SST-2 (train + dev) with a compact Python copy of Hugging Face's BertTokenizer
   (uncased: clean text, split CJK, lower-case, strip accents by NFD minus Mn, split on
   whitespace and punctuation, greedy longest-match-first WordPiece with `##`, [UNK] for words
   over 100 characters), i.e. what minibert's C++ tokenizer does at inference. If the golden
   tokenizations are found (tests/data/tokenizer or ../shared/data/tokenizer-goldens/rust), the
   872 SST-2 dev lines are checked id for id against them first.
2. Prunes the bert-base-uncased vocabulary to the specials, every piece used by SST-2 train+dev
   under the full vocabulary, and every single character and `##` single character, in the
   original order. Both models are trained and evaluated on the tokenisation *with the pruned
   vocabulary itself* (WordPiece can split a word differently once a long piece is gone), so the
   ids seen in training are exactly those the shipped vocab.txt produces.
3. Trains the teacher (a larger BERT: twice the student's feed-forward width) on SST-2 train with
   cross-entropy. There are no pretrained weights here; both models start from random init.
4. Distils the student: loss = alpha * T^2 * KL(softmax(t/T) || softmax(s/T))
   + (1 - alpha) * CE(s, label), with the teacher's eval-mode logits on each training sentence.
   Dev is never trained on; the checkpoint with the best dev accuracy is *not* selected either
   (the last epoch is exported), so the dev number is an honest held-out estimate.
5. Writes OUT/: config.json, model.safetensors (written by hand: 2-D weights F16, the rest F32),
   vocab.txt, tokenizer_config.json, train_log.txt and README.md (the model card), then reloads
   model.safetensors into a fresh module and checks its dev accuracy equals the logged one.
6. --trim-vocab DIR (a separate run, no training): keeps the specials and the pieces that the
   folder's own vocab.txt produces on SST-2 *train* (the embedding rows the model learned), drops
   every other word-embedding row (pieces seen only in dev, unused single characters: random init
   shrunk by weight decay), rewrites vocab.txt (original order), config.json vocab_size and
   model.safetensors (DIR, or --out when given), and asserts that all 67,349 train sentences map
   id for id onto the same rows and give bit-identical logits. Dev sentences with dropped pieces
   now tokenise into trained pieces; their count and the dev accuracy before and after are logged
   (appended to train_log.txt) and written into the model card.
7. --verify DIR (a separate run): dev accuracy with the float64 reference in
   tests/reference/bert_reference.py, the C++ tokenizer (build*/examples/minibert-tokenize) on this
   vocab.txt against the Python ids, and minibert-infer's logits against the reference; the
   results go into the model card's Verification section.

Linear layers run as 1x1 convolutions (class Linear): Debian's torch uses the netlib reference
BLAS for matmul (about 4 GFLOP/s here) but oneDNN for convolutions (about 20x faster).

Deterministic given --seed and --threads: torch.manual_seed for init and dropout, and one seeded
torch.Generator for the data order (length-bucketed batches; no other randomness).
"""

import argparse
import json
import math
import os
import platform
import re
import struct
import sys
import time
import unicodedata

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(REPO), "shared", "data")

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BUILD_DIR = None                        # --build: where --verify finds the C++ tools
LABELS = ["negative", "positive"]
DEFAULT_TEACHER = "4,256,4,1024"      # layers, hidden, heads, intermediate
DEFAULT_STUDENT = "4,256,4,512"


def first_existing(*paths):
    for p in paths:
        if p and os.path.exists(p):
            return p
    return paths[-1]


# --------------------------------------------------------------------------------------------
# Tokenizer: Hugging Face BertTokenizer semantics (uncased)
# --------------------------------------------------------------------------------------------

def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs")   # not Cn, as the Rust core


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


class BertWordPiece:
    """Uncased BERT tokenizer: BasicTokenizer + WordPiece over a given vocabulary list."""

    def __init__(self, vocab, max_chars=100):
        self.vocab = list(vocab)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.max_chars = max_chars
        self.unk = self.index["[UNK]"]
        self.cls = self.index["[CLS]"]
        self.sep = self.index["[SEP]"]
        self.pad = self.index["[PAD]"]
        self._cache = {}
        self._specials = re.compile("(" + "|".join(re.escape(t) for t in SPECIALS) + ")")

    @staticmethod
    def basic(text):
        out = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            if _is_whitespace(ch):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(" " + ch + " ")
            else:
                out.append(ch)
        words = []
        for tok in "".join(out).split():
            # lower-case per character (the Rust core's rule: no final-sigma context), then
            # strip accents: NFD and drop non-spacing marks
            tok = "".join(c.lower() for c in tok)
            tok = "".join(c for c in unicodedata.normalize("NFD", tok)
                          if unicodedata.category(c) != "Mn")
            cur = []
            for ch in tok:
                if _is_punctuation(ch):
                    if cur:
                        words.append("".join(cur))
                        cur = []
                    words.append(ch)
                else:
                    cur.append(ch)
            if cur:
                words.append("".join(cur))
        return words

    def wordpiece(self, word):
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if len(word) > self.max_chars:
            ids = [self.unk]
        else:
            ids = []
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end]
                    if start > 0:
                        piece = "##" + piece
                    if piece in self.index:
                        found = self.index[piece]
                        break
                    end -= 1
                if found is None:
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        self._cache[word] = ids
        return ids

    def encode(self, text, max_length=None):
        ids = [self.cls]
        # special tokens written in the text are matched exactly, before normalisation
        for part in self._specials.split(text):
            if part in self.index and part in SPECIALS:
                ids.append(self.index[part])
                continue
            for w in self.basic(part):
                ids.extend(self.wordpiece(w))
        ids.append(self.sep)
        if max_length is not None and len(ids) > max_length:
            ids = ids[:max_length - 1] + [self.sep]
        return ids


def read_vocab(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def check_goldens(tokenizer, golden_path, sentences, log):
    """Counts SST-2 dev sentences whose ids equal the golden line (Rust core), by text match."""
    if not golden_path or not os.path.exists(golden_path):
        log("tokenizer goldens not found; check skipped")
        return None
    goldens = {}
    all_lines = same_all = 0
    with open(golden_path, encoding="utf-8") as f:
        for line in f:
            g = json.loads(line)
            goldens[g["text"]] = g["ids"]
            all_lines += 1
            same_all += tokenizer.encode(g["text"]) == g["ids"]
    same = sum(1 for s in sentences if goldens.get(s) == tokenizer.encode(s))
    log("tokenizer check vs %s: %d/%d SST-2 dev sentences identical (all golden lines: %d/%d)"
        % (golden_path, same, len(sentences), same_all, all_lines))
    return same


def prune_vocab(full_vocab, tokenizer, texts):
    used = set()
    for t in texts:
        used.update(tokenizer.encode(t))
    keep = []
    for i, tok in enumerate(full_vocab):
        single = len(tok) == 1 or (tok.startswith("##") and len(tok) == 3)
        if tok in SPECIALS or i in used or single:
            keep.append(tok)
    return keep


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def read_tsv(path):
    sents, labels = [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["sentence", "label"]:
            raise ValueError("%s: unexpected header %r" % (path, header))
        for n, line in enumerate(f, 2):
            line = line.rstrip("\n")
            if not line:
                continue
            s, lab = line.rsplit("\t", 1)
            if lab not in ("0", "1"):
                raise ValueError("%s:%d: bad label %r" % (path, n, lab))
            sents.append(s)
            labels.append(int(lab))
    return sents, labels


class Encoded:
    """Token ids of a split, one list per sentence, plus labels."""

    def __init__(self, ids, labels):
        self.ids = ids
        self.labels = torch.tensor(labels, dtype=torch.long)
        self.lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)

    def __len__(self):
        return len(self.ids)

    def collate(self, idx, pad_id=0):
        idx = [int(i) for i in idx]
        L = max(len(self.ids[i]) for i in idx)
        x = torch.full((len(idx), L), pad_id, dtype=torch.long)
        for r, i in enumerate(idx):
            x[r, :len(self.ids[i])] = torch.tensor(self.ids[i], dtype=torch.long)
        return x, (x != pad_id).long(), torch.tensor(idx, dtype=torch.long)


def train_batches(data, batch_size, gen, bucket=50):
    """Seeded shuffle; inside chunks of `bucket` batches sort by length (less padding), then
    shuffle the batch order. All randomness comes from `gen`."""
    perm = torch.randperm(len(data), generator=gen)
    chunk = batch_size * bucket
    batches = []
    for c in range(0, len(perm), chunk):
        part = perm[c:c + chunk]
        part = part[torch.argsort(data.lengths[part], stable=True)]
        batches.extend(part[b:b + batch_size] for b in range(0, len(part), batch_size))
    order = torch.randperm(len(batches), generator=gen)
    return [batches[i] for i in order]


def eval_batches(data, batch_size):
    order = torch.argsort(data.lengths, stable=True)
    return [order[b:b + batch_size] for b in range(0, len(order), batch_size)]


# --------------------------------------------------------------------------------------------
# Model: BertForSequenceClassification with Hugging Face parameter names
# --------------------------------------------------------------------------------------------

class Linear(nn.Linear):
    """nn.Linear (same parameters and names) computed as a 1x1 convolution over a channels-last
    view. Debian's torch links the netlib reference BLAS (about 4 GFLOP/s here); convolutions go
    through oneDNN instead, about 20x faster forward and backward. Same math, same results.

    dilation=2 is what routes it to oneDNN: torch 1.13's CPU convolution takes oneDNN for a 1x1
    kernel only when the convolution is strided, dilated, has a batch >= 16 or runs on more than
    one thread; otherwise it falls back to aten::_slow_conv2d (im2col + the same netlib GEMM).
    With one torch thread (how every training run here is told to run) the plain call took that
    slow path: 934 ms vs 47 ms fwd+bwd for a 1024x256 -> 1024 product. Dilation changes nothing
    for a 1x1 kernel (output size and values are the same; fp32 rounding differs at ~1e-5)."""

    def forward(self, x):
        shape = x.shape
        k = shape[-1]
        n = x.numel() // k
        if self.out_features < 16:                                # tiny (the classifier)
            return F.linear(x, self.weight, self.bias)
        xi = x.reshape(1, 1, n, k).permute(0, 3, 1, 2)            # (1, K, 1, N), no copy
        y = F.conv2d(xi, self.weight.view(self.out_features, k, 1, 1), self.bias, dilation=2)
        return y.permute(0, 2, 3, 1).reshape(*shape[:-1], self.out_features)


def gelu(x):
    """Exact erf GELU, 0.5 x (1 + erf(x / sqrt 2)) (F.gelu's default, a fused kernel)."""
    return F.gelu(x)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"],
                                            padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, type_ids):
        pos = torch.arange(ids.shape[1], device=ids.device)
        h = self.word_embeddings(ids) + self.position_embeddings(pos)[None] \
            + self.token_type_embeddings(type_ids)
        return self.dropout(self.LayerNorm(h))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query = Linear(h, h)
        self.key = Linear(h, h)
        self.value = Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, ext_mask):
        B, L, H = x.shape
        d = H // self.heads

        def split(t):
            return t.view(B, L, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) * (1.0 / math.sqrt(d)) + ext_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return torch.matmul(probs, v).transpose(1, 2).reshape(B, L, H)


class DenseLN(nn.Module):
    """BertSelfOutput / BertOutput: LayerNorm(dropout(dense(x)) + residual)."""

    def __init__(self, c, fan_in):
        super().__init__()
        self.dense = Linear(fan_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLN(c, c["hidden_size"])

    def forward(self, x, ext_mask):
        return self.output(self.self(x, ext_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLN(c, c["intermediate_size"])

    def forward(self, x, ext_mask):
        a = self.attention(x, ext_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])

    def forward(self, x, ext_mask):
        for layer in self.layer:
            x = layer(x, ext_mask)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, h):
        return torch.tanh(self.dense(h[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.classifier = Linear(c["hidden_size"], c["num_labels"])
        self.apply(self._init)

    def _init(self, m):
        std = self.config["initializer_range"]
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0.0, std)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, 0.0, std)
            if m.padding_idx is not None:
                with torch.no_grad():
                    m.weight[m.padding_idx].zero_()
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)

    def forward(self, ids, mask, type_ids=None):
        if type_ids is None:
            type_ids = torch.zeros_like(ids)
        ext = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        h = self.bert.encoder(self.bert.embeddings(ids, type_ids), ext)
        return self.classifier(self.dropout(self.bert.pooler(h)))


def bert_config(vocab_size, hidden, layers, heads, intermediate, max_positions):
    return {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hidden,
        "id2label": {str(i): l for i, l in enumerate(LABELS)},
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "label2id": {l: i for i, l in enumerate(LABELS)},
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": max_positions,
        "model_type": "bert",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_labels": len(LABELS),
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "torch_dtype": "float32",
        "transformers_version": "4.40.0",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": vocab_size,
    }


def count_params(model):
    return sum(p.numel() for p in model.parameters())


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------

def make_optimizer(model, lr, weight_decay, total_steps, warmup_frac):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if p.dim() < 2 or "LayerNorm" in n else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-6, foreach=True)
    warm = max(1, int(total_steps * warmup_frac))

    def schedule(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, schedule)


@torch.no_grad()
def predict_logits(model, data, batch_size=256):
    model.eval()
    out = torch.zeros(len(data), 2)
    for idx in eval_batches(data, batch_size):
        x, m, rows = data.collate(idx)
        out[rows] = model(x, m).float()
    return out


def accuracy(logits, labels):
    return (logits.argmax(-1) == labels).float().mean().item()


def train(model, train_data, dev_data, args, epochs, lr, log, name, teacher_logits=None):
    """Cross-entropy training, or distillation when teacher_logits [N, 2] are given."""
    gen = torch.Generator().manual_seed(args.seed * 1000 + (1 if teacher_logits is None else 2))
    steps_per_epoch = math.ceil(len(train_data) / args.batch_size)
    total = steps_per_epoch * epochs
    opt, sched = make_optimizer(model, lr, args.weight_decay, total, args.warmup)
    T, alpha = args.temperature, args.alpha
    history = []
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        te = time.time()
        sum_loss = 0.0
        batches = train_batches(train_data, args.batch_size, gen)
        for b, idx in enumerate(batches):
            x, m, rows = train_data.collate(idx)
            y = train_data.labels[rows]
            logits = model(x, m)
            ce = F.cross_entropy(logits, y)
            if teacher_logits is None:
                loss = ce
            else:
                t = teacher_logits[rows]
                kd = F.kl_div(F.log_softmax(logits / T, -1), F.log_softmax(t / T, -1),
                              reduction="batchmean", log_target=True) * (T * T)
                loss = alpha * kd + (1.0 - alpha) * ce
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if args.clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            sched.step()
            sum_loss += loss.item()
            if args.progress and (b + 1) % 100 == 0:
                print("  %s epoch %d step %d/%d loss %.4f %.0fs" % (
                    name, ep + 1, b + 1, len(batches), sum_loss / (b + 1), time.time() - te),
                    file=sys.stderr, flush=True)
        acc = accuracy(predict_logits(model, dev_data), dev_data.labels)
        history.append(acc)
        log("%s epoch %d/%d: train loss %.4f, dev accuracy %.4f (%.1f s)"
            % (name, ep + 1, epochs, sum_loss / len(batches), acc, time.time() - te))
    return history, time.time() - t0


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

def half_names(state):
    """2-D weight matrices are stored as F16; biases, LayerNorm and embeddings' small tables F32."""
    return {n for n, t in state.items() if t.dim() == 2 and t.shape[0] > 2
            and not n.endswith("token_type_embeddings.weight")}


def write_safetensors(path, state, f16):
    header, blobs, off = {}, [], 0
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        if name in f16:
            arr, dt = t.to(torch.float16).numpy().astype("<f2"), "F16"
        else:
            arr, dt = t.to(torch.float32).numpy().astype("<f4"), "F32"
        raw = arr.tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape),
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    """Independent re-read (numpy only): {name: float32 tensor}."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        dt = {"F16": "<f2", "F32": "<f4"}[info["dtype"]]
        arr = np.frombuffer(data[8 + n + b:8 + n + e], dtype=dt).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.astype(np.float32))
    return out


def round_like_export(model, f16):
    with torch.no_grad():
        for n, p in model.state_dict().items():
            if n in f16:
                p.copy_(p.to(torch.float16).to(torch.float32))



# --------------------------------------------------------------------------------------------
# Verification of an exported folder (--verify DIR)
# --------------------------------------------------------------------------------------------

def find_tool(name, together=("minibert-tokenize", "minibert-infer")):
    """--build's examples/NAME, else the first build*/examples or build*/*/examples (sorted) that
    holds all of `together` (so both checks use one build), else the first that holds NAME."""
    import glob
    if BUILD_DIR:
        dirs = [os.path.join(os.path.abspath(BUILD_DIR), "examples")]
    else:
        dirs = sorted(glob.glob(os.path.join(REPO, "build*", "examples"))) + \
            sorted(glob.glob(os.path.join(REPO, "build*", "*", "examples")))
    for need in (together, (name,)):
        for d in dirs:
            if all(os.access(os.path.join(d, n), os.X_OK) for n in need):
                return os.path.join(d, name)
    return None


def verify(folder, args, log):
    """Independent checks of an exported folder: dev accuracy with the float64 reference in
    tests/reference/bert_reference.py (or this script's module over a fresh read of the file),
    the C++ tokenizer's ids against this script's on SST-2, and minibert-infer's logits."""
    import subprocess
    import tempfile
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    tok = BertWordPiece(read_vocab(os.path.join(folder, "vocab.txt")))
    max_len = cfg["max_position_embeddings"]
    dev_s, dev_y = read_tsv(os.path.join(args.data, "dev.tsv"))
    train_s, _ = read_tsv(os.path.join(args.data, "train.tsv"))
    dev_ids = [tok.encode(s, max_len) for s in dev_s]
    results = {}

    ref_dir = os.path.join(REPO, "tests", "reference")
    if os.path.exists(os.path.join(ref_dir, "bert_reference.py")):
        sys.path.insert(0, ref_dir)
        import bert_reference
        ref = bert_reference.load_model(folder, torch.float64)
        ref_name = "tests/reference/bert_reference.py (float64)"

        def ref_logits(ids, mask):
            return ref.forward(ids, mask, torch.zeros_like(ids))["logits"]
    else:
        model = BertForSequenceClassification(cfg)
        model.load_state_dict(read_safetensors(os.path.join(folder, "model.safetensors")))
        model.eval()
        ref_name = "this script's module, weights re-read from model.safetensors (float32)"

        def ref_logits(ids, mask):
            with torch.no_grad():
                return model(ids, mask)
    data = Encoded(dev_ids, dev_y)
    logits = torch.zeros(len(data), cfg["num_labels"], dtype=torch.float64)
    for idx in eval_batches(data, 128):
        x, m, rows = data.collate(idx)
        logits[rows] = ref_logits(x, m).double()
    acc = accuracy(logits, data.labels)
    results["dev_accuracy_reference"] = acc
    log("verify: dev accuracy %.4f (%d/%d) with %s"
        % (acc, int(round(acc * len(data))), len(data), ref_name))

    tok_tool = find_tool("minibert-tokenize")
    if tok_tool:
        texts = dev_s + train_s[:args.verify_train_texts]
        goldens = args.goldens if args.goldens and os.path.exists(args.goldens) else None
        if goldens:
            with open(goldens, encoding="utf-8") as f:
                texts += [json.loads(line)["text"] for line in f][:301]     # the stress set
        inp = "".join(json.dumps({"text": t}) + "\n" for t in texts)
        r = subprocess.run([tok_tool, "--model", folder], input=inp.encode("utf-8"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
        if r.returncode != 0:
            log("verify: minibert-tokenize failed: %s" % r.stderr.decode(errors="replace")[:500])
            results["cpp_tokenizer_identical"] = None
        else:
            outs = [json.loads(line)["ids"] for line in r.stdout.decode("utf-8").splitlines()]
            same = [o == tok.encode(t) for o, t in zip(outs, texts)]
            n_sst = len(dev_s) + min(args.verify_train_texts, len(train_s))
            log("verify: %s with this vocab.txt gives the Python tokenizer's ids on %d/%d SST-2 texts "
                "(dev + first %d train) and %d/%d stress texts"
                % (os.path.relpath(tok_tool, REPO), sum(same[:n_sst]), n_sst,
                   min(args.verify_train_texts, len(train_s)), sum(same[n_sst:]),
                   len(texts) - n_sst))
            results["cpp_tokenizer_identical"] = [sum(same[:n_sst]), n_sst]
    else:
        log("verify: no build*/examples/minibert-tokenize; C++ tokenizer check skipped")

    infer = find_tool("minibert-infer")
    if infer:
        n = min(args.verify_cases or len(dev_ids), len(dev_ids))
        pick = list(range(0, len(dev_ids), max(1, len(dev_ids) // n)))[:n]
        cases = []
        for c0 in range(0, len(pick), 5):            # batches of 5, right-padded
            rows = pick[c0:c0 + 5]
            L = max(len(dev_ids[i]) for i in rows)
            cases.append({"id": "dev%d" % c0,
                          "input_ids": [dev_ids[i] + [0] * (L - len(dev_ids[i])) for i in rows],
                          "attention_mask": [[1] * len(dev_ids[i]) + [0] * (L - len(dev_ids[i]))
                                             for i in rows],
                          "token_type_ids": [[0] * L for _ in rows], "rows": rows})
        with tempfile.TemporaryDirectory() as tmp:
            cin, cout = os.path.join(tmp, "cases.json"), os.path.join(tmp, "out.json")
            with open(cin, "w") as f:
                json.dump({"cases": [{k: v for k, v in c.items() if k != "rows"}
                                     for c in cases]}, f)
            r = subprocess.run([infer, "--model", folder, "--input", cin, "--output", cout],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
            if r.returncode != 0:
                log("verify: minibert-infer failed: %s" % r.stderr.decode(errors="replace")[:500])
                results["cpp_max_abs_diff"] = None
            else:
                with open(cout) as f:
                    out = json.load(f)
                worst, agree, count = 0.0, 0, 0
                for c in cases:
                    cpp = torch.tensor(out[c["id"]]["logits"], dtype=torch.float64)
                    py = logits[c["rows"]]
                    worst = max(worst, (cpp - py).abs().max().item())
                    agree += int((cpp.argmax(-1) == py.argmax(-1)).sum())
                    count += len(c["rows"])
                cpp_right = 0
                for c in cases:
                    cpp = torch.tensor(out[c["id"]]["logits"]).argmax(-1)
                    cpp_right += int((cpp == data.labels[c["rows"]]).sum())
                log("verify: %s logits vs the reference on %d dev sentences (batches of 5, "
                    "right-padded): max |diff| %.2e, same label on %d/%d; its accuracy on "
                    "them %.4f" % (os.path.relpath(infer, REPO), count, worst, agree, count,
                                  cpp_right / max(1, count)))
                results["cpp_max_abs_diff"] = worst
    else:
        log("verify: no build*/examples/minibert-infer; C++ logits check skipped")
    return results


# --------------------------------------------------------------------------------------------
# Vocabulary trimming of an exported folder (--trim-vocab DIR)
# --------------------------------------------------------------------------------------------

def folder_size(folder):
    """Bytes of the four files minibert loads (as in the training log's 'model folder')."""
    return sum(os.path.getsize(os.path.join(folder, n)) for n in
               ("model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json"))


def safetensors_dtypes(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return {name: info["dtype"] for name, info in header.items()}


def load_student(folder, cfg):
    model = BertForSequenceClassification(cfg)
    model.load_state_dict(read_safetensors(os.path.join(folder, "model.safetensors")))
    return model


def trim_vocab(folder, out, args, log, command):
    """Drops the word-embedding rows the model never trained on (see the docstring, step 6).
    Returns the summary dict that is logged as 'trim: {...}'."""
    import shutil
    import tempfile
    t_start = time.time()
    emb_name = "bert.embeddings.word_embeddings.weight"
    st_path = os.path.join(folder, "model.safetensors")
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    vocab = read_vocab(os.path.join(folder, "vocab.txt"))
    if len(vocab) != cfg["vocab_size"]:
        raise RuntimeError("vocab.txt has %d lines, config.json vocab_size %d"
                           % (len(vocab), cfg["vocab_size"]))
    max_len = cfg["max_position_embeddings"]
    train_s, train_y = read_tsv(os.path.join(args.data, "train.tsv"))
    dev_s, dev_y = read_tsv(os.path.join(args.data, "dev.tsv"))
    tok = BertWordPiece(vocab)
    train_old = [tok.encode(s, max_len) for s in train_s]         # exactly as in training
    dev_old = [tok.encode(s, max_len) for s in dev_s]

    used = set(tok.index[t] for t in SPECIALS)
    for ids in train_old:
        used.update(ids)
    keep = sorted(used)                                            # original order
    new_vocab = [vocab[i] for i in keep]
    dropped = [vocab[i] for i in range(len(vocab)) if i not in used]
    dev_pieces = set(i for ids in dev_old for i in ids)
    n_dev_only = sum(1 for i in dev_pieces if i not in used)
    n_single = sum(1 for i, t in enumerate(vocab) if i not in used and i not in dev_pieces
                   and (len(t) == 1 or (t.startswith("##") and len(t) == 3)))
    log("trim: %s: %d train sentences use %d distinct pieces ([CLS] and [SEP] included); "
        "keeping them and the specials: "
        "%d of %d tokens; dropping %d (%d pieces seen only in SST-2 dev, %d unused single "
        "characters / ## single characters, %d others)"
        % (folder, len(train_s), len(set(i for ids in train_old for i in ids)), len(keep),
           len(vocab), len(dropped), n_dev_only, n_single, len(dropped) - n_single - n_dev_only))

    # new weights: the kept rows, everything else unchanged; dtypes as stored
    state = read_safetensors(st_path)
    dtypes = safetensors_dtypes(st_path)
    f16 = {n for n, d in dtypes.items() if d == "F16"}
    old_emb = state[emb_name]
    new_state = dict(state)
    new_state[emb_name] = old_emb[torch.tensor(keep, dtype=torch.long)].clone()
    new_cfg = dict(cfg, vocab_size=len(new_vocab))

    tmp = tempfile.mkdtemp(prefix=".trim-", dir=os.path.dirname(os.path.abspath(out)))
    try:
        # the writer reproduces the untrimmed file byte for byte (so nothing else changes)
        write_safetensors(os.path.join(tmp, "model.safetensors"), state, f16)
        with open(os.path.join(tmp, "model.safetensors"), "rb") as a, open(st_path, "rb") as b:
            if a.read() != b.read():
                raise RuntimeError("write_safetensors does not reproduce %s" % st_path)
        write_safetensors(os.path.join(tmp, "model.safetensors"), new_state, f16)
        with open(os.path.join(tmp, "vocab.txt"), "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in new_vocab))
        with open(os.path.join(tmp, "config.json"), "w") as f:
            json.dump(new_cfg, f, indent=2, sort_keys=True)
            f.write("\n")
        shutil.copy(os.path.join(folder, "tokenizer_config.json"), tmp)

        # checks on what was written, re-read from disk
        new_tok = BertWordPiece(read_vocab(os.path.join(tmp, "vocab.txt")))
        reread = read_safetensors(os.path.join(tmp, "model.safetensors"))
        if safetensors_dtypes(os.path.join(tmp, "model.safetensors")) != dtypes:
            raise RuntimeError("dtypes changed")
        for n, t in state.items():
            if n != emb_name and not torch.equal(reread[n], t):
                raise RuntimeError("%s changed" % n)
        train_new = [new_tok.encode(s, max_len) for s in train_s]
        for s, a, b in zip(train_s, train_old, train_new):
            if [keep[j] for j in b] != a or not torch.equal(reread[emb_name][b], old_emb[a]):
                raise RuntimeError("train sentence tokenises differently: %r" % s)
        log("trim: all %d train sentences map id for id onto the same embedding rows (%d ids)"
            % (len(train_s), sum(len(x) for x in train_new)))
        dev_new = [new_tok.encode(s, max_len) for s in dev_s]
        changed = [i for i, (a, b) in enumerate(zip(dev_old, dev_new)) if [keep[j] for j in b] != a]
        unk_before = sum(x.count(tok.unk) for x in dev_old)
        unk_after = sum(x.count(new_tok.unk) for x in dev_new)
        log("trim: %d/%d dev sentences tokenise differently (they held one of the %d dropped "
            "dev-only pieces); [UNK] in dev: %d before, %d after"
            % (len(changed), len(dev_s), n_dev_only, unk_before, unk_after))

        # the script's evaluation (float32 module, weights re-read from the files)
        before = load_student(folder, cfg)
        after = load_student(tmp, new_cfg)
        t0 = time.time()
        tl_before = predict_logits(before, Encoded(train_old, train_y))
        tl_after = predict_logits(after, Encoded(train_new, train_y))
        tdiff = (tl_before - tl_after).abs().max().item()
        log("trim: train logits before vs after on all %d train sentences: max |diff| %.1e "
            "(train accuracy %.4f both; %.1f s)" % (len(train_s), tdiff,
                                                   accuracy(tl_after, torch.tensor(train_y)),
                                                   time.time() - t0))
        if tdiff != 0.0:
            raise RuntimeError("the trimmed model computes a different function on train")
        dl_before = predict_logits(before, Encoded(dev_old, dev_y))
        dl_after = predict_logits(after, Encoded(dev_new, dev_y))
        dy = torch.tensor(dev_y)
        acc_before, acc_after = accuracy(dl_before, dy), accuracy(dl_after, dy)
        flips = int((dl_before.argmax(-1) != dl_after.argmax(-1)).sum())
        ch = torch.tensor(changed, dtype=torch.long)
        log("trim: dev accuracy %.4f (%d/%d) before, %.4f (%d/%d) after; %d labels changed; on the "
            "%d changed sentences %d right before, %d after"
            % (acc_before, round(acc_before * len(dev_s)), len(dev_s), acc_after,
               round(acc_after * len(dev_s)), len(dev_s), flips, len(changed),
               int((dl_before[ch].argmax(-1) == dy[ch]).sum()) if changed else 0,
               int((dl_after[ch].argmax(-1) == dy[ch]).sum()) if changed else 0))

        size_before, st_before = folder_size(folder), os.path.getsize(st_path)
        os.makedirs(out, exist_ok=True)
        if os.path.abspath(out) != os.path.abspath(folder):
            for n in ("README.md", "train_log.txt"):
                if os.path.exists(os.path.join(folder, n)):
                    shutil.copy(os.path.join(folder, n), out)
        for n in ("model.safetensors", "vocab.txt", "config.json", "tokenizer_config.json"):
            os.replace(os.path.join(tmp, n), os.path.join(out, n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    size_after, st_after = folder_size(out), os.path.getsize(os.path.join(out, "model.safetensors"))
    seconds = time.time() - t_start
    log("trim: wrote %s: model folder %.2f MB -> %.2f MB, model.safetensors %.2f MB -> %.2f MB, "
        "vocab %d -> %d, parameters %d -> %d (%.1f s)"
        % (out, size_before / 1e6, size_after / 1e6, st_before / 1e6, st_after / 1e6, len(vocab),
           len(new_vocab), count_params(before), count_params(after), seconds))
    return {
        "command": command, "seconds": round(seconds, 1), "train_sentences": len(train_s),
        "vocab_before": len(vocab), "vocab_after": len(new_vocab),
        "dropped_single_characters": n_single, "dropped_dev_only": n_dev_only,
        "dev_changed": len(changed), "dev_label_flips": flips, "dev_unk_before": unk_before,
        "dev_unk_after": unk_after, "dropped_others": len(dropped) - n_single - n_dev_only,
        "dev_accuracy_before": acc_before, "dev_accuracy_after": acc_after,
        "parameters_after": count_params(after), "folder_bytes_before": size_before,
        "folder_bytes_after": size_after, "safetensors_bytes_before": st_before,
        "safetensors_bytes_after": st_after,
    }


# --------------------------------------------------------------------------------------------
# Model card
# --------------------------------------------------------------------------------------------

VERIFY_BEGIN = "<!-- verify:begin (written by --verify) -->"
VERIFY_END = "<!-- verify:end -->"


def _mins(sec):
    return "%.1f min (%d s)" % (sec / 60.0, round(sec))


def write_model_card(out, s, tcfg, scfg, verify_lines=None, trim=None, keep_verify=True):
    """s: the training summary; trim: the --trim-vocab summary when the folder was trimmed."""
    path = os.path.join(out, "README.md")
    if verify_lines is None and keep_verify and os.path.exists(path):   # keep an earlier one
        with open(path, encoding="utf-8") as f:
            old = f.read()
        if VERIFY_BEGIN in old and VERIFY_END in old:
            verify_lines = old.split(VERIFY_BEGIN)[1].split(VERIFY_END)[0].strip("\n").split("\n")
    a = s["args"]
    files = ["model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json"]
    sizes = {n: os.path.getsize(os.path.join(out, n)) for n in files}

    def shape(c):
        return "%d layers, hidden %d, %d heads, intermediate %d" % (
            c["num_hidden_layers"], c["hidden_size"], c["num_attention_heads"],
            c["intermediate_size"])

    def per_epoch(h):
        return ", ".join("%.2f" % (100 * x) for x in h)

    v = verify_lines or ["(not run yet: `/usr/bin/python3 scripts/train_demo_model.py "
                         "--verify models/sst2-student`)"]
    vocab_n = trim["vocab_after"] if trim else s["vocab_size"]
    if trim:
        acc_rows = ("| SST-2 dev accuracy (872 sentences, exported F16 weights, trimmed "
                    "vocabulary) | **%.2f%%** |\n| the same before the vocabulary trim | %.2f%% |"
                    % (100 * trim["dev_accuracy_after"], 100 * trim["dev_accuracy_before"]))
        vocab_row = ("%s WordPiece tokens (the bert-base-uncased pieces SST-2 train uses, "
                     "lower-cased)" % format(vocab_n, ","))
        tok_text = """`vocab.txt` holds, in bert-base-uncased's original order, the specials
`[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0-4) and the {used:,} other pieces that the training
tokenisation produces on SST-2 train: exactly the rows of the word-embedding table the model was
trained on (plus the three unused specials). Training used a larger vocabulary ({vb:,} tokens: the specials, every piece used by
SST-2 train + dev, and every single character and `##` single character); the embedding rows of
the {dropped:,} tokens that never occur in the training tokenisation ({dev_only} pieces seen
only in SST-2 dev, {single:,} unused single characters and `##` single characters{others}) were never
updated by a gradient (random initialisation shrunk by weight decay) and were removed after
training by `--trim-vocab` (step 4 below). On every SST-2 train sentence the trimmed folder gives
the same pieces and bit-identical logits. Text with a removed piece now splits into trained
pieces, or becomes `[UNK]` (an untrained row too) where no trained pieces spell a word:
{changed} of the {ndev} SST-2 dev sentences tokenise differently than in training ({unk} `[UNK]` in
dev), and dev accuracy went from {ab:.2f}% to {aa:.2f}% ({flips} labels changed, net
{net:+d} sentences: noise, not a gain to rely on). Words outside SST-2 may split differently than
with the full bert-base-uncased vocabulary.""".format(
            others=(", %d others" % trim["dropped_others"]) if trim.get("dropped_others") else "",
            unk=trim.get("dev_unk_after", "?"),
            net=round((trim["dev_accuracy_after"] - trim["dev_accuracy_before"]) * s["dev_sentences"]),
            used=trim["vocab_after"] - len(SPECIALS), vb=trim["vocab_before"],
            dropped=trim["vocab_before"] - trim["vocab_after"], dev_only=trim["dropped_dev_only"],
            single=trim["dropped_single_characters"], changed=trim["dev_changed"],
            ndev=s["dev_sentences"], ab=100 * trim["dev_accuracy_before"],
            aa=100 * trim["dev_accuracy_after"], flips=trim["dev_label_flips"])
        commands = s["command"] + "\n" + trim["command"]
        trim_step = """
4. Vocabulary trim (no training; the second command, {t}): drops the {d:,} word-embedding rows the
   model never trained on ({vb:,} -> {va:,} tokens; `model.safetensors` {sb:.2f} MB -> {sa:.2f} MB,
   folder {fb:.2f} MB -> {fa:.2f} MB), asserts that all {n:,} train sentences map id for id onto
   the same rows with bit-identical logits, and re-measures dev: {ab:.2f}% -> {aa:.2f}%.
""".format(t=_mins(trim["seconds"]), d=trim["vocab_before"] - trim["vocab_after"],
           vb=trim["vocab_before"], va=trim["vocab_after"], sb=trim["safetensors_bytes_before"] / 1e6,
           sa=trim["safetensors_bytes_after"] / 1e6, fb=trim["folder_bytes_before"] / 1e6,
           fa=trim["folder_bytes_after"] / 1e6, n=trim["train_sentences"],
           ab=100 * trim["dev_accuracy_before"], aa=100 * trim["dev_accuracy_after"])
        log_text = "`train_log.txt` holds the full log of both runs."
    else:
        acc_rows = ("| SST-2 dev accuracy (872 sentences, exported F16 weights) | **%.2f%%** |"
                    % (100 * s["student_dev_accuracy"]))
        vocab_row = ("%s WordPiece tokens (pruned bert-base-uncased, lower-cased)"
                     % format(vocab_n, ","))
        tok_text = """`vocab.txt` is bert-base-uncased's vocabulary pruned, in the original order, to the specials
`[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0-4), every piece used by SST-2 train + dev, and every
single character and `##` single character (so unseen words split into pieces instead of becoming
`[UNK]`). The model was trained on the tokenisation with this pruned vocabulary itself, i.e. the
ids minibert's tokenizer produces from this folder. Words outside SST-2 may split differently than
with the full vocabulary; on SST-2 itself the two give the same pieces. (`--trim-vocab` can then
drop the rows that SST-2 train never uses.)"""
        commands = s["command"]
        trim_step = "\n"
        log_text = "`train_log.txt` holds the full log of that run."
    text = """# sst2-student: a TinyBERT-sized SST-2 sentiment classifier (demo model)

A small BERT (`BertForSequenceClassification`, {shape}) that labels English text
`negative` / `positive`. It was trained **from scratch on this project's machine** (no
pretrained weights were available), first as a larger teacher, then distilled into this student.
It exists to demonstrate and test minibert end to end; it is far less accurate than fine-tuned
pretrained models (about 91-93% on SST-2 dev for BERT-base / TinyBERT with pre-training).

| | |
| --- | --- |
{acc_rows}
| teacher's SST-2 dev accuracy | {tacc:.2f}% |
| parameters | {params:,} |
| vocabulary | {vocab_row} |
| max sequence length | {maxlen} tokens including [CLS] and [SEP] (`max_position_embeddings`) |
| files | `model.safetensors` {st:.2f} MB, `vocab.txt` {vt:.0f} KB, `config.json`, `tokenizer_config.json` |

## Use

```sh
minibert-infer --model models/sst2-student --input cases.json --output out.json
```

or `minibert::Model::load("models/sst2-student")` from C++. `id2label` is
{{"0": "negative", "1": "positive"}}; apply softmax to the logits for scores. Inputs longer than
{maxlen} tokens must be truncated (the library rejects them otherwise). Single sentences only
(token type 0); the model never saw sentence pairs.

## Architecture and storage

Standard post-LayerNorm BERT: embeddings (word + position + token type, LayerNorm eps 1e-12),
{layers} encoder layers with exact-erf GELU, pooler `tanh(dense(h[CLS]))`, classifier on the pooler
output. Hugging Face parameter names (`bert.embeddings.word_embeddings.weight`, ...,
`bert.pooler.dense.weight`, `classifier.weight`). In `model.safetensors` the 2-D weight matrices
(embeddings, Q/K/V/output, FFN, pooler) are **F16**; biases, LayerNorm, the token-type table and
the classifier are F32. At export the F16 weights scored {sacc:.2f}% on dev (fp32 before rounding:
{sacc32:.2f}%). The word-embedding table ({vocab:,} x {hidden} in F16, {emb:.2f} MB) is the larger
part of the file; the feed-forward width is 2x hidden (not BERT's 4x) to keep the folder near 10 MB.

## Tokenizer

Uncased BERT WordPiece (Hugging Face `BertTokenizer` semantics: clean text, split CJK, lower-case,
strip accents, split on whitespace and punctuation, greedy longest-match-first with `##`).
{tok_text} Golden check of the
script's tokenizer against the Hugging Face `tokenizers` Rust engine (full vocabulary):
{golden}/{ndev} SST-2 dev sentences identical.

## How it was made

```sh
{commands}
```

Measured training run time: **{total}** on this project's development machine (2 shared cores,
AMD EPYC, Debian 12, python {py}, torch {torch} on CPU with {threads} threads; other builds ran at
the same time, so times vary). The script is deterministic given `--seed` and `--threads`.

1. Data: GLUE SST-2 `train.tsv` (67,349 sentences and phrases) for training, `dev.tsv`
   (872 sentences) for evaluation only: nothing is trained or selected on dev (the last epoch is
   exported, not the best one).
2. Teacher: {tshape} ({tparams:,} parameters), cross-entropy, {tep} epochs, AdamW
   (lr {tlr:g}, betas 0.9/0.98, weight decay {wd:g}, {warm:g}% warm-up then linear decay), batch
   {bs}, dropout 0.1, gradient clip {clip:g}. Dev accuracy per epoch: {thist} %. Time: {ttime}, plus
   {tsoft} for its soft labels on the training set.
3. Student: {sshape}, {sep} epochs of distillation with loss
   `alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, label)`,
   T = {T:g}, alpha = {alpha:g}, AdamW lr {slr:g} (same schedule). Dev accuracy per epoch: {shist} %.
   Time: {stime}.{trim_step}
{log_text}

## Verification

{verify}

## Limitations

A demo: trained on 67k movie-review phrases with no pre-training, it knows sentiment words and
little else. Expect mistakes on negation, sarcasm, long or out-of-domain text, and anything not
English. Do not use it for decisions about people.

## Licence and citation

- Training data: GLUE SST-2 (copied in `data/glue-sst2/`, see its README). GLUE gives no licence
  for SST-2. It comes from the Stanford Sentiment Treebank (Socher et al., 2013, "Recursive Deep
  Models for Semantic Compositionality Over a Sentiment Treebank", EMNLP), built on Rotten
  Tomatoes snippets collected by Pang & Lee (2005, "Seeing stars", ACL). Cite both if you publish
  results with this model.
- Vocabulary: a subset of Google's bert-base-uncased `vocab.txt` (Apache-2.0).
- The weights were produced by this repository's `scripts/train_demo_model.py` and are
  distributed with the repository under its terms.
""".format(
        shape=shape(scfg), sacc=100 * s["student_dev_accuracy"],
        sacc32=100 * s["student_dev_accuracy_fp32"], tacc=100 * s["teacher_dev_accuracy"],
        params=trim["parameters_after"] if trim else s["student_parameters"], vocab=vocab_n,
        acc_rows=acc_rows, vocab_row=vocab_row, tok_text=tok_text, commands=commands,
        trim_step=trim_step, log_text=log_text,
        maxlen=scfg["max_position_embeddings"], st=sizes["model.safetensors"] / 1e6,
        vt=sizes["vocab.txt"] / 1e3, layers=scfg["num_hidden_layers"],
        hidden=scfg["hidden_size"], emb=vocab_n * scfg["hidden_size"] * 2 / 1e6,
        golden=s["tokenizer_golden_dev_identical"], ndev=s["dev_sentences"],
        total=_mins(s["seconds_total"]), py=platform.python_version(),
        torch=torch.__version__, threads=a["threads"], tshape=shape(tcfg),
        tparams=s["teacher_parameters"], tep=a["epochs_teacher"], tlr=a["lr_teacher"],
        wd=a["weight_decay"], warm=a["warmup"] * 100, bs=a["batch_size"], clip=a["clip"],
        thist=per_epoch(s["teacher_dev_per_epoch"]), ttime=_mins(s["seconds_teacher"]),
        tsoft=_mins(s["seconds_teacher_soft_labels"]), sshape=shape(scfg),
        sep=a["epochs_student"], T=a["temperature"], alpha=a["alpha"], slr=a["lr_student"],
        shist=per_epoch(s["student_dev_per_epoch"]), stime=_mins(s["seconds_student"]),
        verify=VERIFY_BEGIN + "\n" + "\n".join(v) + "\n" + VERIFY_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)

# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv):
    default_data = first_existing(os.path.join(REPO, "data", "glue-sst2"),
                                  os.path.join(SHARED, "glue-sst2"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=default_data, help="folder with train.tsv and dev.tsv")
    p.add_argument("--out", help="output folder (default models/sst2-student; with "
                   "--trim-vocab: the folder itself)")
    p.add_argument("--vocab", default=first_existing(
        os.path.join(REPO, "tests", "data", "tokenizer", "bert-base-uncased", "vocab.txt"),
        os.path.join(SHARED, "vocab", "bert-base-uncased-vocab.txt")))
    p.add_argument("--goldens", default=first_existing(
        os.path.join(REPO, "tests", "data", "tokenizer", "goldens", "bert-base-uncased.jsonl"),
        os.path.join(SHARED, "tokenizer-goldens", "rust", "bert-base-uncased.jsonl")))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--epochs-teacher", type=int, default=3)
    p.add_argument("--epochs-student", type=int, default=3)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.7, help="weight of the distillation term")
    p.add_argument("--lr-teacher", type=float, default=5e-4)
    p.add_argument("--lr-student", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=float, default=0.06, help="warm-up fraction of the steps")
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip (0: off)")
    p.add_argument("--max-length", type=int, default=128, help="max positions and tokens")
    p.add_argument("--teacher", help="layers,hidden,heads,intermediate (default %s)"
                   % DEFAULT_TEACHER)
    p.add_argument("--student", help="layers,hidden,heads,intermediate (default %s)"
                   % DEFAULT_STUDENT)
    p.add_argument("--train-limit", type=int, default=0, help="use the first N train rows (0: all)")
    p.add_argument("--quick", action="store_true",
                   help="smoke test: 2000 train rows, tiny models, 1 epoch each")
    p.add_argument("--check-tokenizer", action="store_true", help="only run the golden check")
    p.add_argument("--verify", metavar="DIR", help="only verify an exported folder (see verify())")
    p.add_argument("--trim-vocab", metavar="DIR",
                   help="only drop the vocabulary rows SST-2 train never uses (see trim_vocab())")
    p.add_argument("--build", help="build folder whose examples/ holds minibert-tokenize and "
                   "minibert-infer for --verify (default: the first build*/ or build*/*/ with them)")
    p.add_argument("--verify-cases", type=int, default=0,
                   help="dev sentences for minibert-infer (0: all 872)")
    p.add_argument("--verify-train-texts", type=int, default=5000,
                   help="train sentences for the C++ tokenizer check")
    p.add_argument("--progress", action="store_true", help="print step progress to stderr")
    args = p.parse_args(argv)
    if args.quick:
        args.train_limit = args.train_limit or 2000
        args.epochs_teacher = args.epochs_student = 1
        args.teacher = args.teacher or "2,64,2,256"
        args.student = args.student or "2,32,2,128"
    args.teacher = args.teacher or DEFAULT_TEACHER
    args.student = args.student or DEFAULT_STUDENT
    if args.out is None and not args.trim_vocab:
        args.out = os.path.join(REPO, "models", "sst2-student")
    return args


def last_json(path, prefix):
    """The JSON after `prefix` on the last line of `path` that starts with it, or None."""
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        hits = [x for x in f if x.startswith(prefix)]
    return json.loads(hits[-1][len(prefix):]) if hits else None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    global BUILD_DIR
    BUILD_DIR = args.build
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    t_start = time.time()
    lines = []

    def log(msg):
        print(msg, flush=True)
        lines.append(msg)

    command = "OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 scripts/train_demo_model.py" + \
        "".join(" " + a for a in argv)
    log("command: " + command)
    log("host: %s, python %s, torch %s, numpy %s, threads %d, OMP_WAIT_POLICY=%s" % (
        platform.machine(), platform.python_version(), torch.__version__, np.__version__,
        args.threads, os.environ.get("OMP_WAIT_POLICY", "(unset)")))

    if args.trim_vocab:
        out = args.out or args.trim_vocab
        trim = trim_vocab(args.trim_vocab, out, args, log, command)
        log("trim-summary: " + json.dumps(trim, sort_keys=True))
        log_path = os.path.join(out, "train_log.txt")
        with open(log_path, "a", encoding="utf-8") as f:        # after the training run's log
            f.write("\n".join(lines) + "\n")
        s = last_json(log_path, "summary: ")
        if s:
            with open(os.path.join(out, "config.json")) as f:
                scfg = json.load(f)
            write_model_card(out, s, s["teacher_config"], scfg, trim=trim, keep_verify=False)
            print("model card %s rewritten; run --verify %s next"
                  % (os.path.join(out, "README.md"), out), flush=True)
        return 0

    if args.verify:
        n0 = len(lines)
        res = verify(args.verify, args, log)
        log_path = os.path.join(args.verify, "train_log.txt")
        s = last_json(log_path, "summary: ")
        if s:
            with open(os.path.join(args.verify, "config.json")) as f:
                scfg = json.load(f)
            card = ["Run with `%s` (%s):" % (command, time.strftime("%Y-%m-%d")), ""]
            card += ["- " + x[len("verify: "):] for x in lines[n0:]]
            trim = last_json(log_path, "trim-summary: ")
            if trim and trim["vocab_after"] != scfg["vocab_size"]:
                trim = None                                 # the folder changed since
            write_model_card(args.verify, s, s["teacher_config"], scfg, card, trim=trim)
            log("verify: results written to %s" % os.path.join(args.verify, "README.md"))
        ok = res.get("cpp_max_abs_diff") is None or res["cpp_max_abs_diff"] < 1e-3
        tk = res.get("cpp_tokenizer_identical")
        ok = ok and (tk is None or tk[0] == tk[1])
        return 0 if ok else 1

    # ---- data and tokenizer
    t0 = time.time()
    train_s, train_y = read_tsv(os.path.join(args.data, "train.tsv"))
    dev_s, dev_y = read_tsv(os.path.join(args.data, "dev.tsv"))
    full_vocab = read_vocab(args.vocab)
    full_tok = BertWordPiece(full_vocab)
    golden_ok = check_goldens(full_tok, args.goldens, dev_s, log)
    if args.check_tokenizer:
        return 0 if golden_ok == len(dev_s) else 1
    if golden_ok is not None and golden_ok != len(dev_s):
        log("WARNING: the Python tokenizer disagrees with the goldens")
    vocab = prune_vocab(full_vocab, full_tok, train_s + dev_s)
    tok = BertWordPiece(vocab)
    if args.train_limit:
        train_s, train_y = train_s[:args.train_limit], train_y[:args.train_limit]
    train_data = Encoded([tok.encode(s, args.max_length) for s in train_s], train_y)
    dev_data = Encoded([tok.encode(s, args.max_length) for s in dev_s], dev_y)
    changed = sum(1 for s in train_s + dev_s if tok.encode(s) != [
        tok.index[full_vocab[i]] if full_vocab[i] in tok.index else -1 for i in full_tok.encode(s)])
    n_unk = sum(x.count(tok.unk) for x in train_data.ids + dev_data.ids)
    n_tok = sum(len(x) for x in train_data.ids + dev_data.ids)
    log("data: %d train / %d dev sentences from %s; pruned vocab %d of %d tokens; "
        "%d sentences tokenised differently than with the full vocab; %d [UNK] in %d tokens; "
        "longest %d ids (%.1f s)"
        % (len(train_s), len(dev_s), args.data, len(vocab), len(full_vocab), changed, n_unk,
           n_tok, int(max(train_data.lengths.max(), dev_data.lengths.max())), time.time() - t0))

    def cfg_from(spec):
        L, H, A, I = (int(v) for v in spec.split(","))
        return bert_config(len(vocab), H, L, A, I, args.max_length)

    # ---- teacher
    tcfg = cfg_from(args.teacher)
    teacher = BertForSequenceClassification(tcfg)
    log("teacher: %d layers, hidden %d, %d heads, intermediate %d, %d parameters; lr %g, "
        "batch %d, %d epochs" % (tcfg["num_hidden_layers"], tcfg["hidden_size"],
                                 tcfg["num_attention_heads"], tcfg["intermediate_size"],
                                 count_params(teacher), args.lr_teacher, args.batch_size,
                                 args.epochs_teacher))
    t_params = count_params(teacher)
    t_hist, t_time = train(teacher, train_data, dev_data, args, args.epochs_teacher,
                           args.lr_teacher, log, "teacher")
    t0 = time.time()
    teacher_train_logits = predict_logits(teacher, train_data)
    teacher_dev = accuracy(predict_logits(teacher, dev_data), dev_data.labels)
    t_logit_time = time.time() - t0
    log("teacher: dev accuracy %.4f, train accuracy %.4f; training %.1f s, soft labels %.1f s"
        % (teacher_dev, accuracy(teacher_train_logits, train_data.labels), t_time, t_logit_time))
    del teacher

    # ---- student
    torch.manual_seed(args.seed + 1)
    scfg = cfg_from(args.student)
    student = BertForSequenceClassification(scfg)
    log("student: %d layers, hidden %d, %d heads, intermediate %d, %d parameters; lr %g, "
        "%d epochs, T %g, alpha %g" % (scfg["num_hidden_layers"], scfg["hidden_size"],
                                      scfg["num_attention_heads"], scfg["intermediate_size"],
                                      count_params(student), args.lr_student,
                                      args.epochs_student, args.temperature, args.alpha))
    s_hist, s_time = train(student, train_data, dev_data, args, args.epochs_student,
                           args.lr_student, log, "student", teacher_logits=teacher_train_logits)
    student_dev_f32 = s_hist[-1]

    # ---- export
    os.makedirs(args.out, exist_ok=True)
    state = student.state_dict()
    f16 = half_names(state)
    round_like_export(student, f16)
    student_logits = predict_logits(student, dev_data)
    student_dev = accuracy(student_logits, dev_data.labels)
    log("student: dev accuracy %.4f in fp32, %.4f with the exported F16 weights; training %.1f s"
        % (student_dev_f32, student_dev, s_time))
    st_path = os.path.join(args.out, "model.safetensors")
    write_safetensors(st_path, state, f16)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(scfg, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    tok_cfg = {
        "clean_up_tokenization_spaces": True, "cls_token": "[CLS]", "do_basic_tokenize": True,
        "do_lower_case": True, "mask_token": "[MASK]", "model_max_length": args.max_length,
        "never_split": None, "pad_token": "[PAD]", "sep_token": "[SEP]", "strip_accents": None,
        "tokenize_chinese_chars": True, "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]",
    }
    with open(os.path.join(args.out, "tokenizer_config.json"), "w") as f:
        json.dump(tok_cfg, f, indent=2, sort_keys=True)
        f.write("\n")

    # ---- independent reload: a fresh module from the file's bytes
    fresh = BertForSequenceClassification(scfg)
    loaded = read_safetensors(st_path)
    missing = set(fresh.state_dict()) ^ set(loaded)
    if missing:
        raise RuntimeError("exported names differ from the module's: %s" % sorted(missing))
    fresh.load_state_dict(loaded)
    reload_logits = predict_logits(fresh, dev_data)
    reload_dev = accuracy(reload_logits, dev_data.labels)
    diff = (reload_logits - student_logits).abs().max().item()
    log("reload check: dev accuracy %.4f from %s (max |logit diff| %.2e vs the trained module)"
        % (reload_dev, st_path, diff))
    if reload_dev != student_dev:
        raise RuntimeError("reloaded model's dev accuracy differs")

    total = time.time() - t_start
    size = sum(os.path.getsize(os.path.join(args.out, n)) for n in
               ("model.safetensors", "config.json", "vocab.txt", "tokenizer_config.json"))
    log("total run time %.1f s (%.1f min); model folder %.2f MB (model.safetensors %.2f MB)"
        % (total, total / 60, size / 1e6, os.path.getsize(st_path) / 1e6))
    summary = {
        "command": command, "seconds_total": round(total, 1),
        "seconds_teacher": round(t_time, 1), "seconds_teacher_soft_labels": round(t_logit_time, 1),
        "seconds_student": round(s_time, 1), "teacher_dev_accuracy": teacher_dev,
        "teacher_dev_per_epoch": t_hist, "student_dev_accuracy_fp32": student_dev_f32,
        "student_dev_accuracy": student_dev, "student_dev_per_epoch": s_hist,
        "teacher_config": {k: tcfg[k] for k in ("num_hidden_layers", "hidden_size",
                                                 "num_attention_heads", "intermediate_size")},
        "student_parameters": count_params(student), "teacher_parameters": t_params,
        "vocab_size": len(vocab),
        "tokenizer_golden_dev_identical": golden_ok, "dev_sentences": len(dev_s),
        "args": {k: v for k, v in vars(args).items() if k not in ("data", "out", "vocab", "goldens")},
    }
    log("summary: " + json.dumps(summary, sort_keys=True))
    with open(os.path.join(args.out, "train_log.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    write_model_card(args.out, summary, summary["teacher_config"], scfg)
    return 0


if __name__ == "__main__":
    sys.exit(main())
