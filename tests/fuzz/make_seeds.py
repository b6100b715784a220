#!/usr/bin/env python3
"""Writes the seed corpora of the fuzzers in tests/fuzz/corpus/<fuzzer>/ (committed; rerun only
to change them). Standard library only; deterministic."""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(fuzzer, name, data):
    d = os.path.join(CORPUS, fuzzer)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def safetensors(tensors, metadata=None):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header, blob = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(blob), len(blob) + len(raw)]}
        blob += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + blob


def values(n, seed):
    # a small deterministic LCG in [-0.5, 0.5)
    out, x = [], seed
    for _ in range(n):
        x = (1103515245 * x + 12345) % (1 << 31)
        out.append(x / float(1 << 31) - 0.5)
    return out


def encode(vals, dtype):
    if dtype == "F32":
        return struct.pack("<%df" % len(vals), *vals)
    if dtype == "F16":
        return struct.pack("<%de" % len(vals), *vals)
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in vals)
    if dtype == "F64":
        return struct.pack("<%dd" % len(vals), *vals)
    raise ValueError(dtype)


def tiny_bert_tensors(dtype, prefix="bert.", old_norm_names=False):
    """The tensors of fuzz_model_load.cpp's fixed config: vocab 16, hidden 8, 1 layer,
    intermediate 12, 16 positions, 2 token types, sequence classification with 2 labels."""
    V, H, I, P, T, L = 16, 8, 12, 16, 2, 2
    shapes = [
        ("embeddings.word_embeddings.weight", [V, H]),
        ("embeddings.position_embeddings.weight", [P, H]),
        ("embeddings.token_type_embeddings.weight", [T, H]),
        ("embeddings.LayerNorm.weight", [H]),
        ("embeddings.LayerNorm.bias", [H]),
    ]
    layer = "encoder.layer.0."
    for part in ("query", "key", "value"):
        shapes += [(layer + "attention.self.%s.weight" % part, [H, H]), (layer + "attention.self.%s.bias" % part, [H])]
    shapes += [
        (layer + "attention.output.dense.weight", [H, H]),
        (layer + "attention.output.dense.bias", [H]),
        (layer + "attention.output.LayerNorm.weight", [H]),
        (layer + "attention.output.LayerNorm.bias", [H]),
        (layer + "intermediate.dense.weight", [I, H]),
        (layer + "intermediate.dense.bias", [I]),
        (layer + "output.dense.weight", [H, I]),
        (layer + "output.dense.bias", [H]),
        (layer + "output.LayerNorm.weight", [H]),
        (layer + "output.LayerNorm.bias", [H]),
        ("pooler.dense.weight", [H, H]),
        ("pooler.dense.bias", [H]),
    ]
    out = []
    for i, (name, shape) in enumerate(shapes):
        n = 1
        for d in shape:
            n *= d
        vals = values(n, i + 1)
        if name.endswith("LayerNorm.weight"):
            vals = [1.0 + v * 0.1 for v in vals]
        if old_norm_names:
            name = name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        out.append((prefix + name, dtype, shape, encode(vals, dtype)))
    out.append(("classifier.weight", dtype, [L, H], encode(values(L * H, 99), dtype)))
    out.append(("classifier.bias", dtype, [L], encode(values(L, 98), dtype)))
    return out


def main():
    # --- fuzz_model_load: valid checkpoints for the harness's fixed config
    write("fuzz_model_load", "f32", safetensors(tiny_bert_tensors("F32"), {"format": "pt"}))
    write("fuzz_model_load", "f16", safetensors(tiny_bert_tensors("F16")))
    write("fuzz_model_load", "bf16-bare-names", safetensors(tiny_bert_tensors("BF16", prefix="")))
    write("fuzz_model_load", "f64-gamma-beta", safetensors(tiny_bert_tensors("F64", old_norm_names=True)))

    # --- fuzz_safetensors: small well-formed and borderline files
    st = "fuzz_safetensors"
    write(st, "two-tensors", safetensors([("a", "F32", [2, 2], encode([1, 2, 3, 4], "F32")),
                                          ("b", "F16", [3], encode([1, 2, 3], "F16"))], {"k": "v"}))
    write(st, "empty-tensor", safetensors([("empty", "F32", [0, 4], b""), ("x", "I8", [2], b"\x01\xff")]))
    write(st, "scalar-and-unknown", safetensors([("s", "F64", [], encode([1.5], "F64")), ("u", "F8_E4M3", [4], b"abcd")]))
    write(st, "header-only", struct.pack("<Q", 2) + b"{}")
    write(st, "bool-i64", safetensors([("m", "BOOL", [3], b"\x00\x01\x00"), ("i", "I64", [1], struct.pack("<q", -7))]))

    # --- fuzz_config: the families' config.json shapes
    cfg = "fuzz_config"
    bert = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 100,
            "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
            "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
            "pad_token_id": 0, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1}}
    write(cfg, "bert-seqcls.json", json.dumps(bert, indent=1))
    write(cfg, "bert-model.json", json.dumps(dict(bert, architectures=["BertModel"], hidden_act="gelu_new"), indent=1))
    write(cfg, "bert-qa.json", json.dumps(dict(bert, architectures=["BertForQuestionAnswering"]), indent=1))
    write(cfg, "bert-multilabel.json", json.dumps(dict(bert, problem_type="multi_label_classification", num_labels=3,
                                                       id2label={"0": "a", "1": "b", "2": "c"}), indent=1))
    distil = {"architectures": ["DistilBertForTokenClassification"], "model_type": "distilbert", "vocab_size": 100,
              "dim": 32, "n_layers": 3, "n_heads": 4, "hidden_dim": 37, "max_position_embeddings": 512,
              "activation": "gelu", "sinusoidal_pos_embds": False, "num_labels": 5}
    write(cfg, "distilbert-tokcls.json", json.dumps(distil, indent=1))

    # --- tokenizer files
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "un", "##aff", "##able", ",", "!",
             "na", "##ive", "cafe", "北", "京", "a", "b", "second", "text", "##s"]
    tcfg = {"do_lower_case": True, "model_max_length": 512, "unk_token": "[UNK]", "sep_token": "[SEP]",
            "pad_token": "[PAD]", "cls_token": "[CLS]", "mask_token": "[MASK]"}
    write("fuzz_vocab", "plain", "\n".join(vocab) + "\n")
    write("fuzz_vocab", "with-config", "\n".join(vocab) + "\n\0" + json.dumps(tcfg))
    write("fuzz_vocab", "cased-crlf", "\r\n".join(vocab + ["Hello"]) + "\0" +
          json.dumps(dict(tcfg, do_lower_case=False, additional_special_tokens=["[MASK]", {"content": "##s"}])))

    write("fuzz_tokenizer_config", "uncased.json", json.dumps(tcfg, indent=1))
    write("fuzz_tokenizer_config", "objects.json", json.dumps(dict(
        tcfg, cls_token={"content": "[CLS]", "lstrip": False}, strip_accents=False, tokenize_chinese_chars=False,
        model_max_length=1000000000000000019884624838656)))
    write("fuzz_tokenizer_config", "empty", "")

    added = [{"id": i, "special": True, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False} for i, t in enumerate(vocab[:5])]
    tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
          "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                         "strip_accents": None, "lowercase": True},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "post_processor": {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                             "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                             "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
          "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
          "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                    "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}}}
    write("fuzz_tokenizer_json", "template.json", json.dumps(tj))
    write("fuzz_tokenizer_json", "template-with-config.json", json.dumps(tj) + "\0" + json.dumps(tcfg))
    bp = dict(tj, post_processor={"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
              padding={"pad_token": "[PAD]", "pad_type_id": 0}, normalizer=None, pre_tokenizer=None)
    write("fuzz_tokenizer_json", "bert-processing.json", json.dumps(bp))

    # --- fuzz_encode: control byte + text [+ NUL + pair]
    texts = [b"\x00Hello, world!", b"\x05na\xc3\xafve caf\xc3\xa9 \xe5\x8c\x97\xe4\xba\xac [CLS] un[SEP]affable",
             b"\x13the quick brown fox\x00jumps over the lazy dog", b"\x22[MASK] \xf0\x9f\x98\x80 \xe2\x80\x8b x\ty\r\n",
             b"\x41" + b"supercalifragilisticexpialidocious " * 4, b"\x8e\xcc\x81\xcc\x81 A\xcc\x8a \xef\xbc\xa1 \xe3\x80\x80",
             b"\x31short\x00a much longer second text that needs truncating"]
    for i, t in enumerate(texts):
        write("fuzz_encode", "text%d" % i, t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
