#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_tokenizer_pipeline (tests/fuzz/corpus/fuzz_tokenizer_pipeline/;
committed, rerun only to change it). Standard library only; deterministic. Inputs starting with
'J' are tokenizer.json files; the others are texts for the five real pipelines (see
tests/fuzz/pipeline_harness.hpp)."""
import base64
import json
import os
import struct

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_tokenizer_pipeline")


def w(name, data):
    os.makedirs(D, exist_ok=True)
    with open(os.path.join(D, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def main():
    w("text-basic", "Hello, world! The quick brown fox.")
    w("text-unicode", "caf\u00e9 cafe\u0301 \u65e5\u672c\u8a9e \U0001F600\U0001F469\u200d\U0001F4BB \uff21\uff22\uff23 \ufb01nance \u216b")
    w("text-spaces", "  a   b\t\n\r\n  c  ")
    w("text-added", "<s> </s> <pad> <mask> [MASK] [CLS] |||IP_ADDRESS||| <extra_id_0>")
    w("text-invalid", b"ab\xc3(\xff\xed\xa0\x80")
    bpe = {"version": "1.0",
           "added_tokens": [{"id": 0, "content": "<s>", "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True},
                            {"id": 1, "content": "</s>", "single_word": False, "lstrip": True, "rstrip": False, "normalized": True, "special": True}],
           "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True},
                                                             {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
           "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 1], "cls": ["<s>", 0], "trim_offsets": True, "add_prefix_space": True},
           "decoder": {"type": "ByteLevel"},
           "model": {"type": "BPE", "vocab": {"<s>": 0, "</s>": 1, "h": 2, "e": 3, "l": 4, "o": 5, "he": 6, "ll": 7, "hell": 8, "hello": 9, "\u0120": 10, "\u0120h": 11},
                     "merges": ["h e", "l l", "he ll", "hell o", "\u0120 h"]}}
    w("json-bpe", "J" + json.dumps(bpe))
    uni = {"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Prepend", "prepend": "\u2581"}]},
           "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"},
                                                                   {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": True}]},
           "post_processor": {"type": "TemplateProcessing",
                              "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                              "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                       {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "</s>", "type_id": 1}}],
                              "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
           "decoder": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always"},
           "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                     "vocab": [["<unk>", 0.0], ["</s>", 0.0], ["\u2581", -1.0], ["a", -2.0], ["b", -2.5], ["ab", -3.0], ["<0x41>", -5.0], ["\u2581a", -1.5]]}}
    w("json-unigram", "J" + json.dumps(uni))
    wp = {"normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
          "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
          "added_tokens": [{"id": 4, "content": "[MASK]", "single_word": True, "lstrip": True, "rstrip": True, "normalized": False, "special": True}],
          "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 10,
                    "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "hello": 3, "[MASK]": 4, "he": 5, "##llo": 6, ",": 7}}}
    w("json-wordpiece", "J" + json.dumps(wp))
    # A Precompiled charsmap with a hand-built double array that maps "A" to "x": the root's
    # offset is 1, so "A" (0x41) lands at 1 ^ 0x41; that unit has the label, a leaf flag and
    # offset 1, and the leaf (value 0: the string "x") sits at (1 ^ 0x41) ^ 1.
    units = [0] * 259
    units[0] = 1 << 10
    pos = 1 ^ 0x41
    units[pos] = 0x41 | (1 << 8) | (1 << 10)
    units[pos ^ 1] = 0
    blob = struct.pack("<I", 4 * len(units)) + b"".join(struct.pack("<I", u) for u in units) + b"x\0"
    pc = {"normalizer": {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(blob).decode()},
          "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True},
          "model": {"unk_id": 0, "vocab": [["<unk>", 0.0], ["\u2581x", -1.0], ["x", -2.0], ["\u2581", -3.0]]}}
    w("json-precompiled", "J" + json.dumps(pc))


if __name__ == "__main__":
    main()
