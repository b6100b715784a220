"""Distillation loss terms (Hinton et al. 2015; DistilBERT; TinyBERT, Jiao et al. 2020).

kd_loss          T^2 * KL(softmax(t / T) || softmax(s / T)), batch mean: the soft-label term whose
                 gradient scale does not depend on T.
hidden_mse       MSE between a student hidden state (projected to the teacher's width by a
                 learned Linear when the widths differ) and the teacher's, over real tokens only.
attention_mse    MSE between attention probability maps over real (query, key) pairs; when the
                 head counts differ, both sides are averaged over heads first.
layer_map        which teacher layer each student layer imitates (TinyBERT's uniform mapping).
student_from_teacher   DistilBERT's initialisation: a student with every other teacher layer.
"""

import copy

import torch
import torch.nn.functional as F

from . import model as M


def kd_loss(student_logits, teacher_logits, temperature):
    T = float(temperature)
    return F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean") * (T * T)


def _token_mask(mask):
    return mask.to(torch.float32).unsqueeze(-1)        # [B, L, 1]


def hidden_mse(student_h, teacher_h, mask, projection=None):
    s = projection(student_h) if projection is not None else student_h
    m = _token_mask(mask)
    return (((s - teacher_h) ** 2) * m).sum() / (m.sum() * teacher_h.shape[-1]).clamp(min=1.0)


def attention_mse(student_a, teacher_a, mask):
    """a: [B, heads, L, L] probabilities; padded keys hold 0 on both sides, padded queries are dropped."""
    if student_a.shape[1] != teacher_a.shape[1]:
        student_a, teacher_a = student_a.mean(1, keepdim=True), teacher_a.mean(1, keepdim=True)
    m = mask.to(torch.float32)
    pair = (m[:, None, :, None] * m[:, None, None, :])       # [B, 1, L, L]
    return (((student_a - teacher_a) ** 2) * pair).sum() / (pair.sum() * student_a.shape[1]).clamp(min=1.0)


def layer_map(student_layers, teacher_layers):
    """Student layer i (0-based) imitates teacher layer (i + 1) * Lt / Ls - 1: the last student
    layer the last teacher layer, the rest spaced evenly."""
    if student_layers < 1 or teacher_layers < student_layers:
        raise ValueError("layer_map needs 1 <= student layers (%d) <= teacher layers (%d)"
                         % (student_layers, teacher_layers))
    return [(i + 1) * teacher_layers // student_layers - 1 for i in range(student_layers)]


def student_from_teacher(teacher, layers=None):
    """A copy of `teacher` keeping layers 0, 2, 4, ... (DistilBERT's initialisation: half the depth)."""
    keep = list(range(0, len(teacher.layers), 2)) if layers is None else list(layers)
    student = copy.deepcopy(teacher)
    student.layers = torch.nn.ModuleList([copy.deepcopy(teacher.layers[i]) for i in keep])
    student.config["num_hidden_layers"] = len(keep)
    return student


def narrow_student(teacher, layers, hidden, heads, intermediate):
    """A freshly initialised BertClassifier with the teacher's vocabulary and positions."""
    c = copy.deepcopy(teacher.config)
    c.update(num_hidden_layers=layers, hidden_size=hidden, num_attention_heads=heads,
             intermediate_size=intermediate)
    c.pop("pruned_heads", None)
    c.pop("intermediate_sizes", None)
    return M.BertClassifier(c)
