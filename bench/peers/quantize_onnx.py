#!/usr/bin/env python3
"""Rewrites an fp32 bench ONNX graph (export_onnx.py) into ONNX Runtime's dynamic int8 form, with
onnx alone (Debian's python3-onnx; the onnxruntime python package is not needed):

    /usr/bin/python3 bench/peers/quantize_onnx.py IN.onnx OUT.int8.onnx [--check]

Every MatMul whose second input is a 2-D float initializer W[K, N] (the encoder's Linear layers:
Q, K, V, attention output, FFN in and out; torch.onnx.export writes them as MatMul with the weight
already transposed, followed by an Add of the bias) becomes

    DynamicQuantizeLinear(X) -> Xq (uint8), x_scale, x_zero_point   (once per distinct X)
    MatMulInteger(Xq, Wq, x_zero_point, w_zero_point)   Wq int8[K, N], w_zero_point = int8 zeros[N]
    Cast(to float) -> Mul(x_scale * w_scale[N])

with W quantized per output column, symmetric: w_scale[n] = max_k |W[k, n]| / 127, zero point 0.
That is the graph onnxruntime.quantization.quantize_dynamic(per_channel=True) emits for MatMul
(uint8 activations, int8 weights); ONNX Runtime's optimizer fuses it (with the following bias Add)
into one DynamicQuantizeMatMul node. The pooler / pre-classifier and classifier (Gemm nodes) and
the attention's activation x activation MatMuls stay fp32.

--check runs both graphs in ONNX Runtime (bench/peers/ort_check.js, node) on one input with the
encoder's last hidden state as an extra output, prints the cosine similarity of hidden states and
logits, int8 vs fp32, and fails if the hidden-state cosine is below 0.99.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def quantize(model):
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    uses = {}
    for n in g.node:
        for i in n.input:
            uses[i] = uses.get(i, 0) + 1
    new_nodes, dropped, added, count = [], set(), [], 0
    quantized = {}  # X -> (Xq, x_scale, x_zero_point): Q, K and V quantize their shared input once
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        if w is None or len(w.dims) != 2 or w.data_type != TensorProto.FLOAT:
            new_nodes.append(n)
            continue
        W = numpy_helper.to_array(w).astype(np.float32)  # [K, N]
        scale = np.abs(W).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        Wq = np.clip(np.round(W / scale), -127, 127).astype(np.int8)
        base = n.name.strip("/").replace("/", "_") or ("matmul_%d" % count)
        x = n.input[0]
        names = dict(wq=base + "_Wq", wzp=base + "_Wzp", ws=base + "_Wscale", xq=base + "_Xq", xs=base + "_Xscale",
                     xzp=base + "_Xzp", acc=base + "_acc", accf=base + "_accf", sc=base + "_scale")
        added += [numpy_helper.from_array(Wq, names["wq"]),
                  numpy_helper.from_array(np.zeros(W.shape[1], dtype=np.int8), names["wzp"]),
                  numpy_helper.from_array(scale.astype(np.float32), names["ws"])]
        if x not in quantized:
            quantized[x] = (names["xq"], names["xs"], names["xzp"])
            new_nodes.append(helper.make_node("DynamicQuantizeLinear", [x], list(quantized[x]),
                                              name=base + "_DynamicQuantizeLinear"))
        xq, xs, xzp = quantized[x]
        new_nodes += [
            helper.make_node("MatMulInteger", [xq, names["wq"], xzp, names["wzp"]], [names["acc"]],
                             name=base + "_MatMulInteger"),
            helper.make_node("Cast", [names["acc"]], [names["accf"]], to=TensorProto.FLOAT, name=base + "_Cast"),
            helper.make_node("Mul", [xs, names["ws"]], [names["sc"]], name=base + "_ScaleMul"),
            helper.make_node("Mul", [names["accf"], names["sc"]], [n.output[0]], name=base + "_Mul"),
        ]
        uses[w.name] -= 1
        if uses[w.name] == 0:
            dropped.add(w.name)
        count += 1
    del g.node[:]
    g.node.extend(new_nodes)
    kept = [t for t in g.initializer if t.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept + added)
    return count


def hidden_state_name(model):
    """The encoder's output: the tensor the first Gemm's (pooler / pre-classifier) input is gathered from."""
    producers = {o: n for n in model.graph.node for o in n.output}
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    gather = producers[gemm.input[0]]
    assert gather.op_type == "Gather", gather.op_type
    return gather.input[0]


def with_hidden_output(path, out):
    m = onnx.load(path)
    m.graph.output.append(helper.make_tensor_value_info(hidden_state_name(m), TensorProto.FLOAT, None))
    onnx.save(m, out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    model = onnx.load(a.inp)
    count = quantize(model)
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    print("%s -> %s: %d MatMul -> DynamicQuantizeLinear + MatMulInteger (int8 per-column weights), %.0f MB"
          % (a.inp, a.out, count, os.path.getsize(a.out) / 2**20))
    if a.check:
        bert = any(i.name == "token_type_ids" for i in model.graph.input)
        with tempfile.TemporaryDirectory() as tmp:
            f32, i8 = os.path.join(tmp, "fp32.onnx"), os.path.join(tmp, "int8.onnx")
            with_hidden_output(a.inp, f32)
            with_hidden_output(a.out, i8)
            r = subprocess.run(["node", os.path.join(HERE, "ort_check.js"), "--fp32", f32, "--int8", i8,
                                "--hidden", hidden_state_name(model), "--bert", "1" if bert else "0",
                                "--optimized", a.out + ".optimized.onnx"],
                               capture_output=True, text=True)
            sys.stdout.write(r.stdout)
            sys.stderr.write(r.stderr)
            if r.returncode != 0:
                raise SystemExit("%s: the int8 check failed" % a.out)
        opt = a.out + ".optimized.onnx"
        if os.path.exists(opt):
            m = onnx.load(opt, load_external_data=False)
            ops = {}
            for n in m.graph.node:
                ops[n.op_type] = ops.get(n.op_type, 0) + 1
            print("ONNX Runtime's optimized int8 graph: " + ", ".join(
                "%s x%d" % kv for kv in sorted(ops.items(), key=lambda kv: -kv[1]) if kv[0] in (
                    "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger", "DynamicQuantizeLinear",
                    "MatMul", "FusedMatMul", "Gemm", "Attention", "SkipLayerNormalization", "LayerNormalization")))
            os.remove(opt)


if __name__ == "__main__":
    main()
