#!/usr/bin/env python3
"""Generate include/minibert/tokenizer/unicode_family_tables.hpp: the Unicode data the
tokenizer.json pipelines (byte-level BPE, Unigram) need beyond unicode_tables.hpp.

Usage:
    /usr/bin/python3 scripts/gen_unicode_family_tables.py [OUTPUT]

Sources:
  * Python's unicodedata (Python 3.11: Unicode 14.0.0, the version of unicode_tables.hpp) for
    general categories (the GPT-2 regex's \\p{L} and \\p{N}), canonical combining classes,
    canonical and compatibility decompositions and the primary composites (NFC/NFKC).
  * Debian's `unicode-data` package (Unicode 15.0.0): auxiliary/GraphemeBreakProperty.txt and
    emoji/emoji-data.txt (Extended_Pictographic) for extended grapheme clusters (UAX #29),
    which the Precompiled normaliser walks like the Rust `unicode-segmentation` crate.

Per-code-point properties are packed in a uint16 two-level table:
    bits 0-3  Grapheme_Cluster_Break (see GCB_NAMES)
    bit  4    \\p{L} (general category L*)
    bit  5    \\p{N} (general category N*)
    bit  6    Extended_Pictographic
    bits 8-15 canonical combining class
"""
import os
import sys
import unicodedata

UCD = "/usr/share/unicode"
GCB_NAMES = ["Other", "CR", "LF", "Control", "Extend", "ZWJ", "Regional_Indicator", "Prepend",
             "SpacingMark", "L", "V", "T", "LV", "LVT"]
BLOCK = 256
S_BASE, S_COUNT = 0xAC00, 11172


def parse_ranges(path, wanted=None):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            rng, prop = [x.strip() for x in line.split(";")[:2]]
            if wanted and prop != wanted:
                continue
            lo, _, hi = rng.partition("..")
            for cp in range(int(lo, 16), int(hi or lo, 16) + 1):
                out[cp] = prop
    return out


# With separate compilation (include/minibert/separate_compilation.hpp) the arrays are defined in the
# one implementation TU and declared extern elsewhere: ~300 KB of initialisers parsed once, not
# in every TU that includes the tokenizer.
DECLARATIONS = []


def emit_array(out, ctype, name, values, per_line=20):
    DECLARATIONS.append(f"extern const {ctype} {name}[{len(values)}];")
    out.append(f"MINIBERT_COMPILED_CONSTEXPR {ctype} {name}[{len(values)}] = {{")
    for i in range(0, len(values), per_line):
        out.append("    " + ",".join(str(v) for v in values[i:i + per_line]) + ",")
    out.append("};")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    output = sys.argv[1] if len(sys.argv) == 2 else os.path.join(
        root, "include", "minibert", "tokenizer", "unicode_family_tables.hpp")
    gcb = parse_ranges(os.path.join(UCD, "auxiliary", "GraphemeBreakProperty.txt"))
    pict = parse_ranges(os.path.join(UCD, "emoji", "emoji-data.txt"), "Extended_Pictographic")

    props = []
    for cp in range(0x110000):
        v = GCB_NAMES.index(gcb[cp]) if cp in gcb else 0
        if 0xD800 <= cp <= 0xDFFF:
            props.append(v)
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] == "L":
            v |= 16
        if cat[0] == "N":
            v |= 32
        if cp in pict:
            v |= 64
        v |= unicodedata.combining(ch) << 8
        props.append(v)
    blocks, stage1, index = [], [], {}
    for b in range(0, 0x110000, BLOCK):
        key = tuple(props[b:b + BLOCK])
        if key not in index:
            index[key] = len(blocks)
            blocks.append(key)
        stage1.append(index[key])
    stage2 = [v for blk in blocks for v in blk]

    # Full decompositions of one code point (Hangul syllables are algorithmic, not tabled).
    canon_keys, canon_index, canon_data = [], [], []
    compat_keys, compat_index, compat_data = [], [], []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or S_BASE <= cp < S_BASE + S_COUNT:
            continue
        ch = chr(cp)
        nfd = unicodedata.normalize("NFD", ch)
        if nfd != ch:
            canon_keys.append(cp)
            canon_index.append((len(canon_data) << 8) | len(nfd))
            canon_data.extend(ord(c) for c in nfd)
        nfkd = unicodedata.normalize("NFKD", ch)
        if nfkd != ch:
            compat_keys.append(cp)
            compat_index.append((len(compat_data) << 8) | len(nfkd))
            compat_data.extend(ord(c) for c in nfkd)

    # Primary composites: canonical pairs (a, b) -> c that NFC recomposes.
    pairs = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF or S_BASE <= cp < S_BASE + S_COUNT:
            continue
        d = unicodedata.decomposition(chr(cp))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        if len(parts) != 2:
            continue
        if unicodedata.normalize("NFC", chr(parts[0]) + chr(parts[1])) == chr(cp):
            pairs.append(((parts[0] << 21) | parts[1], cp))
    pairs.sort()

    out = [
        "// GENERATED by scripts/gen_unicode_family_tables.py -- do not edit by hand.",
        f"// Sources: Python {sys.version.split()[0]} unicodedata (Unicode {unicodedata.unidata_version}); Debian unicode-data",
        "// (Unicode 15.0.0) GraphemeBreakProperty.txt and emoji-data.txt. See the generator.",
        "#pragma once",
        "",
        "#include <cstdint>",
        "",
        '#include "../separate_compilation.hpp"',
        "",
        "namespace minibert::detail::unicode_family_tables {",
        "",
        f"inline constexpr unsigned block_shift = {BLOCK.bit_length() - 1};",
    ]
    out.append("#if MINIBERT_DEFINE_READERS")
    emit_array(out, "std::uint16_t", "prop_blocks", stage1)
    emit_array(out, "std::uint16_t", "prop_values", stage2)
    emit_array(out, "std::uint32_t", "canon_keys", canon_keys)
    emit_array(out, "std::uint32_t", "canon_index", canon_index)
    emit_array(out, "std::uint32_t", "canon_data", canon_data)
    emit_array(out, "std::uint32_t", "compat_keys", compat_keys)
    emit_array(out, "std::uint32_t", "compat_index", compat_index)
    emit_array(out, "std::uint32_t", "compat_data", compat_data)
    emit_array(out, "std::uint64_t", "compose_keys", [k for k, _ in pairs])
    emit_array(out, "std::uint32_t", "compose_values", [v for _, v in pairs])
    out += ["#else"] + DECLARATIONS + ["#endif  // MINIBERT_DEFINE_READERS"]
    out += ["", "}  // namespace minibert::detail::unicode_family_tables", ""]
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"wrote {output}: {len(blocks)} blocks, {len(canon_keys)} canonical, {len(compat_keys)} compat, "
          f"{len(pairs)} composites")


if __name__ == "__main__":
    main()
