"""SST-2-style data: a TSV with a `sentence<TAB>label` header, tokenised with the demo trainer's
Python copy of BertTokenizer (scripts/train_demo_model.py, checked id for id against minibert's
C++ tokenizer there) over the teacher folder's vocab.txt."""

import os

import torch

from . import model as M  # noqa: F401  (puts scripts/ on sys.path)
from train_demo_model import BertWordPiece, read_tsv, read_vocab  # noqa: E402


class Dataset:
    def __init__(self, ids, labels):
        self.ids = ids
        self.labels = torch.tensor(labels, dtype=torch.long)

    def __len__(self):
        return len(self.ids)

    def batch(self, rows):
        rows = [int(r) for r in rows]
        L = max(len(self.ids[r]) for r in rows)
        x = torch.zeros(len(rows), L, dtype=torch.long)
        for k, r in enumerate(rows):
            x[k, :len(self.ids[r])] = torch.tensor(self.ids[r])
        return x, (x != 0).long(), self.labels[rows], torch.tensor(rows, dtype=torch.long)

    def batches(self, size, generator=None, limit=None):
        """Length-sorted batches (shuffled in chunks when a generator is given)."""
        n = len(self) if limit is None else min(limit, len(self))
        if generator is None:
            order = sorted(range(n), key=lambda r: len(self.ids[r]))
            return [self.batch(order[i:i + size]) for i in range(0, n, size)]
        perm = torch.randperm(n, generator=generator).tolist()
        out = []
        for c in range(0, n, size * 20):
            chunk = sorted(perm[c:c + size * 20], key=lambda r: len(self.ids[r]))
            out += [chunk[i:i + size] for i in range(0, len(chunk), size)]
        order = torch.randperm(len(out), generator=generator).tolist()
        return [self.batch(out[i]) for i in order]


def load_tsv(path, vocab_folder, max_length=128, limit=None):
    vocab = os.path.join(vocab_folder, "vocab.txt")
    if not os.path.exists(vocab):
        raise FileNotFoundError("%s: the teacher folder needs a vocab.txt to tokenise %s" % (vocab_folder, path))
    tok = BertWordPiece(read_vocab(vocab))
    sents, labels = read_tsv(path)
    if limit:
        sents, labels = sents[:limit], labels[:limit]
    return Dataset([tok.encode(s, max_length) for s in sents], labels), sents
