// MPNet's relative position bias: scores(i, j) += table[bucket(j - i)][head], one table shared by
// every layer. Expanded once at load into a per-head row over all relative distances
// -(L-1) .. L-1 (L = the longest sequence), so attention reads bias(i, j) as center[j - i]
// without computing a bucket per score.
//
// bucket() restates transformers' MPNetEncoder.relative_position_bucket (T5's bidirectional
// scheme) with the arguments MPNet calls it with, num_buckets 32 and max_distance 128:
//   n = i - j; half = 16; ret = (n < 0) * 16; n = |n|
//   n < 8: ret + n;  else ret + min(8 + int(log(n / 8) / log(128 / 8) * 8), 15)
// The log is taken in double: transformers takes it in float32; the two agree on every distance
// the goldens reach (tests/reference/bert_reference.py computes the buckets in float32 as
// transformers does, and the MPNet goldens run 512 tokens: distances -511..511; and
// `bert_reference.py --check-buckets` compares the two for |distance| <= 1100: no difference).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

namespace minibert {

struct RelativePositionBias {
    static constexpr std::size_t num_buckets = 32, max_distance = 128;

    std::size_t heads = 0, max_length = 0;
    std::vector<float> rows;  ///< [heads x (2 max_length - 1)], relative distance -(L-1) first

    static std::size_t bucket(long relative) noexcept {
        long n = -relative;
        constexpr long half = num_buckets / 2, max_exact = half / 2;
        std::size_t ret = n < 0 ? half : 0;
        n = n < 0 ? -n : n;
        if (n < max_exact) return ret + static_cast<std::size_t>(n);
        const double scaled = std::log(static_cast<double>(n) / max_exact) /
                              std::log(static_cast<double>(max_distance) / max_exact) * (half - max_exact);
        return ret + static_cast<std::size_t>(std::min<long>(max_exact + static_cast<long>(scaled), half - 1));
    }

    /// table: [buckets x heads] as the checkpoint stores nn.Embedding(buckets, heads).
    static RelativePositionBias expand(const std::vector<float>& table, std::size_t heads, std::size_t max_length) {
        RelativePositionBias b;
        b.heads = heads;
        b.max_length = max_length;
        const std::size_t width = 2 * max_length - 1;
        b.rows.resize(heads * width);
        for (std::size_t k = 0; k < width; ++k) {
            const std::size_t bk = bucket(static_cast<long>(k) - static_cast<long>(max_length - 1));
            for (std::size_t h = 0; h < heads; ++h) b.rows[h * width + k] = table[bk * heads + h];
        }
        return b;
    }

    bool empty() const noexcept { return rows.empty(); }
    std::size_t resident_bytes() const noexcept { return rows.size() * sizeof(float); }
    /// Bias of head h at relative distance 0: bias(i, j) = center(h)[j - i] for |j - i| < max_length.
    const float* center(std::size_t h) const noexcept { return rows.data() + h * (2 * max_length - 1) + (max_length - 1); }
};

}  // namespace minibert
