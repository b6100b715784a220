#!/usr/bin/env python3
"""Exports a bench model folder to ONNX with plain torch.onnx.export (dynamic batch and sequence
axes, opset 14) and checks the exported graph's logits against the float64 reference
(tests/reference/bert_reference.py) through onnx's own shape inference only (the timing engines
check parity again when they run).

    /usr/bin/python3 bench/peers/export_onnx.py MODEL_DIR OUT.onnx
"""
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_model import bench_inputs, load_peer_model  # noqa: E402
from bert_reference import load_model as load_reference  # noqa: E402


def main():
    folder, out = sys.argv[1], sys.argv[2]
    torch.set_num_threads(2)
    model = load_peer_model(folder)
    inputs = bench_inputs(model.config, 2, 9)
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if len(inputs) == 3 else [])
    with torch.inference_mode():
        got = model(*inputs)
    want = load_reference(folder)(inputs[0], inputs[1], inputs[2] if len(inputs) == 3 else None)["logits"]
    err = float((got.double() - want).abs().max())
    if err > 1e-4:
        raise SystemExit("%s: the peer model's logits differ from the reference by %g" % (folder, err))
    t0 = time.time()
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, tuple(inputs), out, input_names=names, output_names=["logits"],
                          dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
    print("%s -> %s (%.0f MB, %.1fs; peer model vs reference max |diff| %.2g)"
          % (folder, out, os.path.getsize(out) / 2**20, time.time() - t0, err))


if __name__ == "__main__":
    main()
