"""Structured pruning: attention heads and FFN neurons, by importance measured on train data.

Importance (Michel, Levy and Neubig 2019, "Are Sixteen Heads Really Better than One?"): with a
mask of ones multiplying each head's attention probabilities (and each FFN neuron's activation),
|d loss / d mask| summed over batches is the first-order estimate of the loss change when the unit
is removed. The loss is the distillation loss against the teacher (or CE when no teacher logits
are given). Scores are normalised per layer (L2), as Michel et al. do, before a global ranking.

Physical removal cuts the tensors as transformers' prune_heads does (rows of Q/K/V, columns of the
attention output) and drops FFN rows of the up projection and columns of the down projection; the
result equals the masked model exactly (tests/optimize/test_optimizer.py) and saves as a folder
with pruned_heads / intermediate_sizes that minibert loads.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import distill


def ones_masks(model):
    heads = [torch.ones(l.heads, requires_grad=True) for l in model.layers]
    ffn = [torch.ones(l.ffn_width, requires_grad=True) for l in model.layers]
    return heads, ffn


def importance(model, batches, teacher_logits=None, temperature=2.0):
    """(head scores [per layer tensor], neuron scores [per layer tensor]) over `batches`, each
    batch (ids, mask, labels, rows); teacher_logits[rows] is used when given. Dropout is off."""
    model.eval()
    heads, ffn = ones_masks(model)
    head_score = [torch.zeros(l.heads) for l in model.layers]
    ffn_score = [torch.zeros(l.ffn_width) for l in model.layers]
    for ids, mask, labels, rows in batches:
        out = model(ids, mask, head_masks=heads, ffn_masks=ffn)
        if teacher_logits is not None:
            loss = distill.kd_loss(out["logits"], teacher_logits[rows], temperature)
        else:
            loss = F.cross_entropy(out["logits"], labels)
        gh = torch.autograd.grad(loss, heads + ffn)
        for i in range(len(heads)):
            head_score[i] += gh[i].abs().detach()
            ffn_score[i] += gh[len(heads) + i].abs().detach()
    norm = lambda s: s / s.norm().clamp(min=1e-12)  # noqa: E731
    return [norm(s) for s in head_score], [norm(s) for s in ffn_score]


def select(scores, fraction, keep_at_least=1):
    """Units to remove: the `fraction` of all units with the lowest scores (global ranking),
    never leaving a layer fewer than `keep_at_least`. Returns {layer: sorted local indices}."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError("prune fraction must be in [0, 1), got %r" % fraction)
    flat = sorted((float(s[j]), i, j) for i, s in enumerate(scores) for j in range(len(s)))
    budget = int(fraction * len(flat))
    left = [len(s) for s in scores]
    out = {}
    for _, i, j in flat:
        if budget == 0:
            break
        if left[i] <= keep_at_least:
            continue
        out.setdefault(i, []).append(j)
        left[i] -= 1
        budget -= 1
    return {i: sorted(v) for i, v in out.items()}


def _cut(linear, keep, dim):
    """A new layer of the same class keeping `keep` rows (dim 0, bias too) or columns (dim 1)."""
    w = linear.weight.detach().index_select(dim, keep).clone()
    b = linear.bias.detach().clone() if dim == 1 else linear.bias.detach().index_select(0, keep).clone()
    new = type(linear)(w.shape[1], w.shape[0])
    with torch.no_grad():
        new.weight.copy_(w)
        new.bias.copy_(b)
    return new


def prune_heads(model, remove):
    """remove: {layer: [local head indices]}; cuts the tensors in place (transformers' prune_heads)."""
    for i, heads in remove.items():
        layer = model.layers[i]
        heads = sorted(set(heads))
        if not heads:
            continue
        if heads[-1] >= layer.heads or heads[0] < 0:
            raise ValueError("layer %d has %d heads; cannot remove %s" % (i, layer.heads, heads))
        if len(heads) >= layer.heads:
            raise ValueError("layer %d: removing all %d heads leaves no attention (minibert refuses it)" % (i, layer.heads))
        d = layer.head_dim
        kept = [h for h in range(layer.heads) if h not in heads]
        idx = torch.tensor([h * d + k for h in kept for k in range(d)], dtype=torch.long)
        layer.query, layer.key, layer.value = (_cut(m, idx, 0) for m in (layer.query, layer.key, layer.value))
        layer.attn_out = _cut(layer.attn_out, idx, 1)
        layer.kept_heads = [layer.kept_heads[h] for h in kept]
        layer.heads = len(kept)
    return model


def prune_ffn(model, remove):
    """remove: {layer: [neuron indices]}; drops up rows and down columns in place."""
    for i, neurons in remove.items():
        layer = model.layers[i]
        gone = set(neurons)
        if not gone:
            continue
        if max(gone) >= layer.ffn_width or min(gone) < 0 or len(gone) >= layer.ffn_width:
            raise ValueError("layer %d has %d FFN neurons; cannot remove %d of them"
                             % (i, layer.ffn_width, len(gone)))
        idx = torch.tensor([j for j in range(layer.ffn_width) if j not in gone], dtype=torch.long)
        layer.up = _cut(layer.up, idx, 0)
        layer.down = _cut(layer.down, idx, 1)
    return model


def masks_for(model, head_remove, ffn_remove):
    """The 0/1 masks equivalent to removing these units (for checking removal against masking)."""
    heads = [torch.ones(l.heads) for l in model.layers]
    ffn = [torch.ones(l.ffn_width) for l in model.layers]
    for i, hs in head_remove.items():
        heads[i][list(hs)] = 0.0
    for i, ns in ffn_remove.items():
        ffn[i][list(ns)] = 0.0
    return heads, ffn
