// Run-time kernel selection: one table of kernel entry points per level, chosen once when a model
// is loaded (or a Linear is built), stored with the packed weights, never re-decided per call.
//
// The shape is MLAS's (a platform table of function pointers filled from CPUID) in a header-only
// library: each level's kernels are compiled inside a `#pragma GCC target` / `clang attribute`
// region of its own file and namespace (x86/avx2_gemm.hpp -> isa_avx2, x86/avx512_gemm.hpp ->
// isa_avx512, x86/avx2_i8.hpp, x86/vnni_i8.hpp), so a build with no -m flags still contains them
// and an inline function compiled for two targets never shares a symbol. The boundary is a call
// through a pointer taking pointers and sizes; nothing SIMD-typed crosses it.
//
// What each level runs (the portable level is the xsimd code at the build's baseline flags):
// (plus, for each x86 level but portable, the GEMM epilogues' activations, the int8 epilogue and
// the attention kernel at its own width: x86/vector_math.inl, x86/i8_epilogue_body.inl,
// x86/attention_body.inl)
//   level        fp32 / fp16 GEMM         int8 tile                     int8 row quantiser
//   portable     xsimd (gemm_f32.hpp)     scalar (gemm_common.hpp)      scalar (quantize.hpp)
//   avx2         isa_avx2, 4 x 24 ymm     isa_avx2 sign scheme          isa_avx2
//   avxvnni      isa_avx2                 isa_avxvnni u8 x s8, ymm      isa_avx2 (u8 form)
//   avx512       isa_avx512, 4 x 48 zmm   isa_avx2 sign scheme          isa_avx512
//   avx512vnni   isa_avx512               isa_avx512vnni u8 x s8, zmm   isa_avx512 (u8 form)
//   amx          isa_avx512               isa_amx TDPBSSD s8 x s8,      isa_avx512
//                                         32 rows x 4 panels per call
//   dotprod      xsimd NEON               isa_dotprod sdot, s8 x s8     scalar (quantize.hpp)
//   (aarch64: portable is xsimd's NEON and the scalar int8 tile; arm/dotprod_i8.hpp)
// Every level's int8 tile returns the same exact int32 sums. The activations of the GEMM
// epilogues (GELU erf/tanh, relu: x86/vector_math.inl) run at the level's width; the AVX2 and
// AVX-512 ones are the same lane code, so int8 outputs are identical across every level but
// portable, and identical there too without an activation (the portable level's xsimd GELU may
// round differently; SSE2 has no FMA). fp32 likewise: AVX2 == AVX-512 bit for bit, portable
// within the parity tolerance. Still baseline width (xsimd at the build's flags): LayerNorm,
// the heads' softmax and the pooler's tanh.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../cpu/cpu_info.hpp"
#include "../separate_compilation.hpp"
#include "gemm_common.hpp"
#include "quantize.hpp"
// Each level's kernels: needed where kernel_table() is defined (with separate compilation, only
// in its TU; code that calls a level's functions directly includes that level's header).
#if MINIBERT_DEFINE_KERNELS
#include "x86/amx_i8.hpp"
#include "x86/avx2_gemm.hpp"
#include "x86/avx2_i8.hpp"
#include "x86/avx512_gemm.hpp"
#include "x86/avx512_quantize.hpp"
#include "x86/vnni_i8.hpp"
#include "arm/dotprod_i8.hpp"
#endif

namespace minibert::kernels {

using GemmBlockFn = void (*)(const float* a, std::size_t lda, std::size_t row_begin, std::size_t row_end,
                             const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end, float* c,
                             std::size_t ldc, const Epilogue& ep, float* scratch);
using GemvFn = void (*)(const float* a, const detail::PanelsRef& w, std::size_t panel_begin, std::size_t panel_end,
                        float* c, const Epilogue& ep);
using I8TileFn = void (*)(std::size_t rows, std::size_t panels, const std::int8_t* a, const std::uint8_t* aux,
                          std::size_t lda, const std::int8_t* b, std::size_t panel_stride, std::size_t groups,
                          const std::int32_t* init, std::int32_t* out);
using ActivationFn = void (*)(float* x, std::size_t n, Activation act);
using AttentionPackFn = void (*)(const float* k, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                 float* scratch);
using AttentionRowsFn = void (*)(const float* q, const float* v, std::size_t ld, std::size_t s, std::size_t d,
                                 float scale, std::size_t row_begin, std::size_t row_end, float* out, std::size_t ldo,
                                 float* scratch, const float* bias);
using I8EpilogueFn = void (*)(const std::int32_t* acc, std::size_t acc_stride, std::size_t rows, std::size_t cols,
                              const float* row_scales, const float* col_scales, const float* bias, Activation act,
                              const float* residual, std::size_t ldr, float* c, std::size_t ldc);
using QuantizeRowFn = float (*)(const float* x, std::size_t k, std::size_t kp, float static_scale, std::int8_t* q,
                                std::uint8_t* aux, bool u8_form);

/// The kernels of one level. Null fp32/fp16 entries mean the portable xsimd templates.
struct KernelTable {
    Isa isa = Isa::portable;            ///< the level these kernels are
    std::size_t f32_panel_width = 0;    ///< NR of packed fp32/fp16 panels; 0: the portable one
    GemmBlockFn gemm_f32_block = nullptr;
    GemmBlockFn gemm_f16_block = nullptr;
    GemvFn gemv_f32 = nullptr;
    GemvFn gemv_f16 = nullptr;
    I8TileFn i8_tile = detail::i8_tile_portable;
    std::size_t i8_max_panels = 1;      ///< panels one i8_tile call may take (<= 4)
    bool i8_u8_form = false;            ///< aux rows are q + 128 and tiles start from column_init
    QuantizeRowFn quantize_row = quantize_row_for_gemm;
    /// The activation the GEMM epilogues apply (fp32, fp16, int8), also callable on its own.
    ActivationFn activation = detail::apply_activation_baseline;
    /// Attention (kernels/attention.hpp's contract); null: the portable xsimd kernel.
    AttentionPackFn attention_pack_head = nullptr;
    AttentionRowsFn attention_query_rows = nullptr;
    /// The int8 tile's dequantising epilogue at the level's width (x86/i8_epilogue_body.inl);
    /// null: the shared xsimd one (gemm_i8.hpp's detail::i8_tile_epilogue).
    I8EpilogueFn i8_epilogue = nullptr;
    std::size_t i8_tile_rows = detail::kI8TileRows;  ///< rows one i8_tile call computes (<= kI8MaxTileRows)
    std::size_t i8_k_align = detail::kI8Group;       ///< packed K (and the quantised rows) padded to a multiple of this
    std::size_t i8_block_rows = detail::kI8BlockRows;  ///< rows that meet every panel before the next rows do
    /// Called by each thread before its i8_tile calls of one GEMM (AMX: the tile configuration);
    /// null: nothing to prepare.
    void (*i8_begin)() = nullptr;
};

/// The table of level `isa` (which the caller has checked the host has; Isa::native: the best).
MINIBERT_COMPILED_INLINE const KernelTable& kernel_table(Isa isa);

#if MINIBERT_DEFINE_KERNELS
MINIBERT_COMPILED_INLINE const KernelTable& kernel_table(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
    static const KernelTable tables[] = {
        KernelTable{},
        KernelTable{Isa::avx2, isa_avx2::kNR, isa_avx2::gemm_f32_block, isa_avx2::gemm_f16_block, isa_avx2::gemv_f32,
                    isa_avx2::gemv_f16, isa_avx2::i8_tile_sign, 1, false, isa_avx2::quantize_row, isa_avx2::activation,
                    isa_avx2::attention_pack_head, isa_avx2::attention_query_rows, isa_avx2::i8_epilogue},
        KernelTable{Isa::avxvnni, isa_avx2::kNR, isa_avx2::gemm_f32_block, isa_avx2::gemm_f16_block, isa_avx2::gemv_f32,
                    isa_avx2::gemv_f16, isa_avxvnni::i8_tile, 1, true, isa_avx2::quantize_row, isa_avx2::activation,
                    isa_avx2::attention_pack_head, isa_avx2::attention_query_rows, isa_avx2::i8_epilogue},
        KernelTable{Isa::avx512, isa_avx512::kNR, isa_avx512::gemm_f32_block, isa_avx512::gemm_f16_block,
                    isa_avx512::gemv_f32, isa_avx512::gemv_f16, isa_avx2::i8_tile_sign, 1, false, isa_avx512::quantize_row,
                    isa_avx512::activation, isa_avx512::attention_pack_head, isa_avx512::attention_query_rows,
                    isa_avx512::i8_epilogue},
        KernelTable{Isa::avx512vnni, isa_avx512::kNR, isa_avx512::gemm_f32_block, isa_avx512::gemm_f16_block,
                    isa_avx512::gemv_f32, isa_avx512::gemv_f16, isa_avx512vnni::i8_tile, 4, true, isa_avx512::quantize_row,
                    isa_avx512::activation, isa_avx512::attention_pack_head, isa_avx512::attention_query_rows,
                    isa_avx512::i8_epilogue},
    };
    // AMX: avx512vnni's table but for the int8 tile: 32 rows per call, blocks of 256 rows, K
    // padded to 64 (x86/amx_i8.hpp).
    static const KernelTable amx = [] {
        (void)cpu_info();  // detection asks Linux for the tile-data state; a tile used without it is SIGILL
        KernelTable t = tables[4];
        t.isa = Isa::amx;
        t.i8_tile = isa_amx::i8_tile;
        t.i8_max_panels = isa_amx::kMaxPanels;
        t.i8_tile_rows = isa_amx::kCallRows;
        t.i8_block_rows = isa_amx::kBlockRows;
        t.i8_k_align = isa_amx::kKStep;
        t.i8_begin = isa_amx::ensure_config;
        return t;
    }();
    if (isa == Isa::native) isa = cpu_info().best();
    switch (isa) {
        case Isa::avx2: return tables[1];
        case Isa::avxvnni: return tables[2];
        case Isa::avx512: return tables[3];
        case Isa::avx512vnni: return tables[4];
        case Isa::amx: return amx;
        default: return tables[0];
    }
#elif defined(__aarch64__)
    static const KernelTable portable{};
    static const KernelTable dotprod = [] {
        KernelTable t;
        t.isa = Isa::dotprod;
        t.i8_tile = isa_dotprod::i8_tile;
        t.i8_max_panels = 4;
        return t;
    }();
    if (isa == Isa::native) isa = cpu_info().best();
    return isa == Isa::dotprod ? dotprod : portable;
#else
    (void)isa;
    static const KernelTable portable{};
    return portable;
#endif
}
#endif  // MINIBERT_DEFINE_KERNELS

namespace detail {
inline const KernelTable*& loading_kernels_slot() noexcept {
    thread_local const KernelTable* table = nullptr;
    return table;
}
}  // namespace detail

/// The kernels weights packed now should use: those of the Model being loaded on this thread
/// (LoadingKernels below), else the host's best under MINIBERT_ISA (select_isa()).
inline const KernelTable& packing_kernels() {
    if (const KernelTable* t = detail::loading_kernels_slot()) return *t;
    return kernel_table(select_isa());
}

/// While alive, weights packed on this thread use `table` (Model::load sets its level this way,
/// so the layers' constructors need no extra parameter).
class LoadingKernels {
public:
    explicit LoadingKernels(const KernelTable& table) : previous_(detail::loading_kernels_slot()) {
        detail::loading_kernels_slot() = &table;
    }
    ~LoadingKernels() { detail::loading_kernels_slot() = previous_; }
    LoadingKernels(const LoadingKernels&) = delete;
    LoadingKernels& operator=(const LoadingKernels&) = delete;

private:
    const KernelTable* previous_;
};

}  // namespace minibert::kernels
