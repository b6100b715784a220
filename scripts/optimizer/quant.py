"""Quantisation steps: minibert folders via scripts/convert_weights.py (fp16; int8 static,
calibrated on train sentences), and quantisation-aware fine-tuning (fake quant) for when int8
breaks a gate: weights rounded per output row and activations per token to int8 in the forward
pass, straight-through in the backward pass, as minibert's int8 GEMM rounds them."""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.utils.parametrize as parametrize

from . import model as M

sys.path.insert(0, os.path.join(M.REPO, "scripts"))
import convert_weights  # noqa: E402


def convert(src, out, dtype, calibrate_lines=None, tokenizer_bin=None, log=print):
    """fp16 / int8 folder from `src`; int8 with calibrate_lines (a text file) is static."""
    convert_weights.convert(src, out, dtype=dtype, force=True, log=log, embeddings="int8" if dtype == "int8" else "fp16",
                            calibrate_file=calibrate_lines, tokenizer_dir=src,
                            tokenizer_bin=convert_weights.find_tokenizer_bin(tokenizer_bin) if calibrate_lines else None)


def fake_quant_rows(x):
    """Symmetric int8 per last-dim row, straight-through gradient."""
    scale = x.detach().abs().amax(-1, keepdim=True).clamp(min=1e-12) / 127.0
    q = torch.clamp(torch.round(x / scale), -127, 127) * scale
    return x + (q - x).detach()


class _FakeQuantWeight(nn.Module):
    def forward(self, w):
        return fake_quant_rows(w)


def enable_fake_quant(model):
    """Fake-quantises every encoder Linear (weights per row, inputs per token). Returns hooks."""
    hooks = []
    for layer in model.layers:
        for m in (layer.query, layer.key, layer.value, layer.attn_out, layer.up, layer.down):
            parametrize.register_parametrization(m, "weight", _FakeQuantWeight())
            hooks.append((m, m.register_forward_pre_hook(lambda mod, inp: (fake_quant_rows(inp[0]),))))
    return hooks


def disable_fake_quant(hooks):
    """Back to plain float weights (the trained values, not their rounded copies)."""
    for m, h in hooks:
        h.remove()
        if parametrize.is_parametrized(m, "weight"):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=False)
