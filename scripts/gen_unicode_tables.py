#!/usr/bin/env python3
"""Generate include/minibert/tokenizer/unicode_tables.hpp from Python's unicodedata.

Usage:
    PYTHON=/usr/bin/python3; $PYTHON scripts/gen_unicode_tables.py [OUTPUT]

The environment variable PYTHON only documents which interpreter to run this with: the
tables are as new as that interpreter's unicodedata (Python 3.11 ships Unicode 14.0.0), and
the version is written into the header. OUTPUT defaults to the committed header path.

What the tables hold, and why each matches the Hugging Face `tokenizers` BERT pipeline:
  * flags per code point (two-level table, 256-code-point blocks):
      control    Cc, Cf, Co, Cs except \\t \\n \\r. This is the `unicode_categories` crate's
                 `is_other()`, whose tables come from UnicodeData.txt and therefore hold no
                 Cn (unassigned) code points: HF keeps U+FFFF, so we do too.
      whitespace Rust's char::is_whitespace (the White_Space property): \\t..\\r, U+0085,
                 Zs, Zl, Zp.
      punct      P* or ASCII 33-47, 58-64, 91-96, 123-126 (BertPreTokenizer's is_bert_punc).
      mark_nonspacing  Mn (what strip_accents drops after NFD).
      lower      the code point has a lower-case mapping different from itself.
      decomp     the code point has a canonical decomposition (Hangul syllables included;
                 those are decomposed algorithmically, not from the table).
      word       \\w in the regex sense (L*, N*, M*, Pc, ZWJ/ZWNJ) for single_word added tokens.
  * lower-case mappings, one code point at a time as Rust's char::to_lowercase does (so a
    lone capital sigma maps to small sigma, and U+0130 expands to two code points).
  * full canonical decompositions (NFD of a single code point).
"""
import os
import sys
import unicodedata

CONTROL, WHITESPACE, PUNCT, MARK_NONSPACING, LOWER, DECOMP, WORD = (1 << i for i in range(7))
BLOCK = 256
HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def flags_of(cp):
    ch = chr(cp)
    cat = unicodedata.category(ch)
    f = 0
    if cat in ("Cc", "Cf", "Co", "Cs") and ch not in "\t\n\r":
        f |= CONTROL
    if 9 <= cp <= 13 or cp == 0x85 or cat in ("Zs", "Zl", "Zp"):
        f |= WHITESPACE
    if cat.startswith("P") or (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        f |= PUNCT
    if cat == "Mn":
        f |= MARK_NONSPACING
    if 0xD800 <= cp <= 0xDFFF:
        return f  # surrogates never reach the tokenizer (UTF-8 decoding rejects them)
    if ch.lower() != ch:
        f |= LOWER
    if HANGUL_FIRST <= cp <= HANGUL_LAST or unicodedata.normalize("NFD", ch) != ch:
        f |= DECOMP
    if cat[0] in "LNM" or cat == "Pc" or cp in (0x200C, 0x200D):
        f |= WORD
    return f


# With separate compilation (include/minibert/separate_compilation.hpp) the arrays are defined in the
# one implementation TU and declared extern elsewhere: ~300 KB of initialisers parsed once, not
# in every TU that includes the tokenizer.
DECLARATIONS = []


def emit_array(out, ctype, name, values, per_line=24):
    DECLARATIONS.append(f"extern const {ctype} {name}[{len(values)}];")
    out.append(f"MINIBERT_COMPILED_CONSTEXPR {ctype} {name}[{len(values)}] = {{")
    for i in range(0, len(values), per_line):
        out.append("    " + ",".join(str(v) for v in values[i:i + per_line]) + ",")
    out.append("};")


def main():
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1] in ("-h", "--help")):
        print(__doc__)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    output = sys.argv[1] if len(sys.argv) == 2 else os.path.join(
        root, "include", "minibert", "tokenizer", "unicode_tables.hpp")

    flags = [flags_of(cp) for cp in range(0x110000)]
    blocks, stage1, index = [], [], {}
    for b in range(0, 0x110000, BLOCK):
        key = tuple(flags[b:b + BLOCK])
        if key not in index:
            index[key] = len(blocks)
            blocks.append(key)
        stage1.append(index[key])
    stage2 = [v for blk in blocks for v in blk]

    lower_keys, lower_values, lower_extra = [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        low = chr(cp).lower()
        if low == chr(cp):
            continue
        lower_keys.append(cp)
        if len(low) == 1:
            lower_values.append(ord(low))
        else:
            # High bit marks a multi-code-point mapping: bits 8..30 index lower_extra, 0..7 length.
            lower_values.append(0x80000000 | (len(lower_extra) << 8) | len(low))
            lower_extra.extend(ord(c) for c in low)

    decomp_keys, decomp_index, decomp_data = [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or HANGUL_FIRST <= cp <= HANGUL_LAST:
            continue
        nfd = unicodedata.normalize("NFD", chr(cp))
        if nfd == chr(cp):
            continue
        decomp_keys.append(cp)
        decomp_index.append((len(decomp_data) << 8) | len(nfd))
        decomp_data.extend(ord(c) for c in nfd)

    out = [
        "// GENERATED by scripts/gen_unicode_tables.py -- do not edit by hand.",
        f"// Source: Python {sys.version.split()[0]} unicodedata, Unicode {unicodedata.unidata_version}.",
        "//",
        "// Per-code-point flags (two-level table), lower-case mappings and canonical decompositions",
        "// for the BERT normaliser and pre-tokeniser. See the generator for what each flag means.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        '#include "../separate_compilation.hpp"',
        "",
        "namespace minibert::detail::unicode_tables {",
        "",
        f'inline constexpr const char* unicode_version = "{unicodedata.unidata_version}";',
        "",
        f"inline constexpr std::uint8_t flag_control = {CONTROL};",
        f"inline constexpr std::uint8_t flag_whitespace = {WHITESPACE};",
        f"inline constexpr std::uint8_t flag_punct = {PUNCT};",
        f"inline constexpr std::uint8_t flag_mark_nonspacing = {MARK_NONSPACING};",
        f"inline constexpr std::uint8_t flag_lower = {LOWER};",
        f"inline constexpr std::uint8_t flag_decomp = {DECOMP};",
        f"inline constexpr std::uint8_t flag_word = {WORD};",
        f"inline constexpr unsigned block_shift = {BLOCK.bit_length() - 1};",
        "",
    ]
    out.append("#if MINIBERT_DEFINE_READERS")
    emit_array(out, "std::uint16_t" if len(blocks) > 255 else "std::uint8_t", "flag_blocks", stage1)
    emit_array(out, "std::uint8_t", "flag_values", stage2)
    emit_array(out, "std::uint32_t", "lower_keys", lower_keys, 12)
    emit_array(out, "std::uint32_t", "lower_values", lower_values, 12)
    emit_array(out, "std::uint32_t", "lower_extra", lower_extra, 12)
    emit_array(out, "std::uint32_t", "decomp_keys", decomp_keys, 12)
    emit_array(out, "std::uint32_t", "decomp_index", decomp_index, 12)
    emit_array(out, "std::uint32_t", "decomp_data", decomp_data, 12)
    out += ["#else"] + DECLARATIONS + ["#endif  // MINIBERT_DEFINE_READERS"]
    out += ["", "}  // namespace minibert::detail::unicode_tables", ""]
    with open(output, "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(out))
    print(f"wrote {output}: {len(blocks)} flag blocks, {len(lower_keys)} lower-case mappings, "
          f"{len(decomp_keys)} decompositions (Unicode {unicodedata.unidata_version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
