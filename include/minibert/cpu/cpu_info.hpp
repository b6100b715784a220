// What the CPU this process runs on can execute, and which kernel level minibert picks for it.
//
// Detection on x86-64 is raw CPUID + XGETBV (<cpuid.h>), done once per process (a function-local static):
// a feature counts only when the CPU has it *and* the OS saves its registers (XCR0), as MLAS's
// platform.cpp and simdjson's isadetection.h check. AMX additionally needs Linux's per-process
// grant, arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); it is requested once when the CPU
// reports AMX-INT8, and a refusal (old kernel, seccomp) simply leaves AMX off. On aarch64 Linux
// the kernel's hardware-capability word says it (getauxval(AT_HWCAP) & HWCAP_ASIMDDP, the Armv8.2
// dot product SDOT/UDOT; Advanced SIMD itself is part of every aarch64 CPU).
//
// Kernel levels, lowest to highest (kernels/dispatch.hpp says what each runs):
//   portable    the xsimd code at the build's baseline flags (SSE2 on x86-64, NEON on aarch64)
//   dotprod     aarch64 only: portable + int8 by NEON sdot (Armv8.2 dot product), signed x signed
//   avx2        AVX2 + FMA + F16C, 256-bit; int8 by the exact sign-moving vpmaddubsw scheme
//   avxvnni     avx2 + AVX-VNNI: int8 by 256-bit VEX vpdpbusd in the u8 x s8 form
//   avx512      AVX-512 F/BW/DQ/VL: fp32/fp16 GEMM on zmm; int8 as avx2 (no 512-bit vpsignb)
//   avx512vnni  avx512 + AVX512-VNNI: int8 by 512-bit vpdpbusd in the u8 x s8 form
//   amx         avx512vnni + AMX-TILE/INT8 granted by the OS: int8 by TDPBSSD tiles (x86/amx_i8.hpp),
//               everything else as avx512vnni
// A host has a level when it has every feature that level names (a Zen 4 has avx512vnni but not
// avxvnni, an Alder Lake has avxvnni but not avx512). The selected level is the highest one the
// host has that does not exceed the cap: LoadOptions::isa and the environment variable
// MINIBERT_ISA=portable|dotprod|avx2|avxvnni|avx512|avx512vnni|amx, the lower of the two. A cap only
// lowers; asking for a name that does not exist, or a level the host lacks, is an Error naming
// it and what the host has (as CT2_FORCE_CPU_ISA does).
#pragma once

#include <cstdlib>
#include <string>

#include "../error.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace minibert {

/// Kernel levels, in increasing order; `native` means "the best this host has" (no cap). dotprod
/// is aarch64's, the others above portable x86-64's: a host has levels of one family only.
enum class Isa { native, portable, dotprod, avx2, avxvnni, avx512, avx512vnni, amx };

inline const char* to_string(Isa isa) noexcept {
    switch (isa) {
        case Isa::native: return "native";
        case Isa::portable: return "portable";
        case Isa::dotprod: return "dotprod";
        case Isa::avx2: return "avx2";
        case Isa::avxvnni: return "avxvnni";
        case Isa::avx512: return "avx512";
        case Isa::avx512vnni: return "avx512vnni";
        case Isa::amx: return "amx";
    }
    return "?";
}

/// The features detected on this host (x86-64's, or aarch64's neon / dotprod) and the levels they give.
struct CpuInfo {
    bool sse2 = false, avx2 = false, fma = false, f16c = false;
    bool avx512f = false, avx512bw = false, avx512dq = false, avx512vl = false, avx512vnni = false;
    bool avxvnni = false;
    bool amx_tile = false, amx_int8 = false;  ///< the CPU reports them and XCR0 enables tile state
    bool amx_permitted = false;               ///< Linux granted XTILEDATA to this process
    bool neon = false;                        ///< aarch64 (always has Advanced SIMD)
    bool dotprod = false;                     ///< aarch64 SDOT/UDOT (HWCAP_ASIMDDP)

    /// Whether this host can run kernel level `isa` (Isa::native: always).
    bool has(Isa isa) const noexcept {
        switch (isa) {
            case Isa::native:
            case Isa::portable: return true;
            case Isa::dotprod: return neon && dotprod;
            case Isa::avx2: return avx2 && fma && f16c;
            case Isa::avxvnni: return has(Isa::avx2) && avxvnni;
            case Isa::avx512: return has(Isa::avx2) && avx512f && avx512bw && avx512dq && avx512vl;
            case Isa::avx512vnni: return has(Isa::avx512) && avx512vnni;
            case Isa::amx: return has(Isa::avx512vnni) && amx_tile && amx_int8 && amx_permitted;
        }
        return false;
    }

    /// The highest level this host has.
    Isa best() const noexcept {
        for (Isa isa : {Isa::amx, Isa::avx512vnni, Isa::avx512, Isa::avxvnni, Isa::avx2, Isa::dotprod})
            if (has(isa)) return isa;
        return Isa::portable;
    }

    /// "avx2 fma f16c avx512f ..." : the detected features, for messages and --verbose.
    std::string features() const {
        std::string s;
        auto add = [&s](bool on, const char* name) {
            if (!on) return;
            if (!s.empty()) s += ' ';
            s += name;
        };
        add(sse2, "sse2");
        add(neon, "neon");
        add(dotprod, "asimddp");
        add(avx2, "avx2");
        add(fma, "fma");
        add(f16c, "f16c");
        add(avxvnni, "avx_vnni");
        add(avx512f, "avx512f");
        add(avx512bw, "avx512bw");
        add(avx512dq, "avx512dq");
        add(avx512vl, "avx512vl");
        add(avx512vnni, "avx512_vnni");
        add(amx_tile, "amx_tile");
        add(amx_int8, "amx_int8");
        if (amx_int8) add(true, amx_permitted ? "(amx granted)" : "(amx refused by the OS)");
        return s.empty() ? std::string("none") : s;
    }

    /// "portable avx2 avxvnni ..." : every level this host has, lowest first.
    std::string levels() const {
        std::string s;
        for (Isa isa : {Isa::portable, Isa::dotprod, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni, Isa::amx})
            if (has(isa)) s += (s.empty() ? "" : " ") + std::string(to_string(isa));
        return s;
    }
};

namespace detail {

#if defined(__x86_64__) || defined(_M_X64)
inline unsigned long long read_xcr0() noexcept {
    unsigned eax = 0, edx = 0;
    // xgetbv by its encoding: no -mxsave needed. Only called when CPUID says OSXSAVE.
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(eax), "=d"(edx) : "c"(0));
    return (static_cast<unsigned long long>(edx) << 32) | eax;
}

/// Asks Linux for the AMX tile-data state; true when granted (or already granted).
inline bool request_amx_permission() noexcept {
#if defined(__linux__)
    constexpr long arch_get_xcomp_perm = 0x1022, arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
    if (syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) != 0) return false;
    unsigned long long bitmask = 0;
    if (syscall(SYS_arch_prctl, arch_get_xcomp_perm, &bitmask) != 0) return false;
    return (bitmask & (1ull << xfeature_xtiledata)) != 0;
#else
    return false;
#endif
}
#endif

inline CpuInfo detect_cpu() noexcept {
    CpuInfo c;
#if defined(__x86_64__) || defined(_M_X64)
    c.sse2 = true;  // part of x86-64
    unsigned a = 0, b = 0, cx = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
    const bool osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
    const bool fma = (cx >> 12) & 1, f16c = (cx >> 29) & 1;
    if (!osxsave || !avx) return c;
    const unsigned long long xcr0 = read_xcr0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;             // SSE + AVX state
    const bool os_zmm = os_ymm && (xcr0 & 0xE0) == 0xE0;  // opmask + ZMM_Hi256 + Hi16_ZMM
    const bool os_tile = (xcr0 & 0x60000) == 0x60000;      // XTILECFG + XTILEDATA
    if (!os_ymm) return c;
    unsigned max_leaf = __get_cpuid_max(0, nullptr);
    if (max_leaf < 7) return c;
    __cpuid_count(7, 0, a, b, cx, d);
    c.avx2 = (b >> 5) & 1;
    c.fma = fma;
    c.f16c = f16c;
    if (os_zmm) {
        c.avx512f = (b >> 16) & 1;
        c.avx512dq = (b >> 17) & 1;
        c.avx512bw = (b >> 30) & 1;
        c.avx512vl = (b >> 31) & 1;
        c.avx512vnni = (cx >> 11) & 1;
    }
    if (os_tile) {
        c.amx_tile = (d >> 24) & 1;
        c.amx_int8 = (d >> 25) & 1;
    }
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    c.avxvnni = (a1 >> 4) & 1;
    if (c.amx_tile && c.amx_int8) c.amx_permitted = request_amx_permission();
#elif defined(__aarch64__)
    c.neon = true;
#if defined(__linux__)
    constexpr unsigned long hwcap_asimddp = 1ul << 20;  // <asm/hwcap.h> HWCAP_ASIMDDP
    c.dotprod = (getauxval(AT_HWCAP) & hwcap_asimddp) != 0;
#endif
#endif
    return c;
}

/// Parses a level name as MINIBERT_ISA and the tools' --isa take it.
inline bool parse_isa(const std::string& name, Isa& out) noexcept {
    for (Isa isa : {Isa::native, Isa::portable, Isa::dotprod, Isa::avx2, Isa::avxvnni, Isa::avx512, Isa::avx512vnni, Isa::amx})
        if (name == to_string(isa)) {
            out = isa;
            return true;
        }
    return false;
}

}  // namespace detail

/// The features of the host, detected once per process (thread-safe).
inline const CpuInfo& cpu_info() {
    static const CpuInfo info = detail::detect_cpu();
    return info;
}

/// Parses "portable", "dotprod", "avx2", ..., "amx" or "native"; throws Error(config) naming the bad name.
inline Isa parse_isa(const std::string& name) {
    Isa isa = Isa::native;
    if (!detail::parse_isa(name, isa))
        throw Error(ErrorKind::config, "unknown instruction-set level '" + name +
                                           "' (expected native, portable, dotprod, avx2, avxvnni, avx512, avx512vnni or amx)");
    return isa;
}

/// The kernel level to use under `cap` (Isa::native: none) and the environment's MINIBERT_ISA:
/// the highest level the host has at or below both. Throws Error(unsupported) when a cap names
/// a level the host lacks, Error(config) when MINIBERT_ISA is not a level name.
inline Isa select_isa(Isa cap = Isa::native) {
    const CpuInfo& cpu = cpu_info();
    auto check = [&cpu](Isa isa, const char* from) {
        if (!cpu.has(isa))
            throw Error(ErrorKind::unsupported, std::string(from) + " asks for instruction-set level '" + to_string(isa) +
                                                    "', which this CPU lacks (levels: " + cpu.levels() +
                                                    "; features: " + cpu.features() + ")");
    };
    check(cap, "LoadOptions::isa");
    Isa limit = cap == Isa::native ? Isa::amx : cap;
    if (const char* env = std::getenv("MINIBERT_ISA"); env && *env) {
        Isa from_env = Isa::native;
        if (!detail::parse_isa(env, from_env))
            throw Error(ErrorKind::config, std::string("MINIBERT_ISA='") + env +
                                               "' is not a level (expected native, portable, dotprod, avx2, avxvnni, "
                                               "avx512, avx512vnni or amx)");
        check(from_env, "MINIBERT_ISA");
        if (from_env != Isa::native && from_env < limit) limit = from_env;
    }
    for (Isa isa : {Isa::amx, Isa::avx512vnni, Isa::avx512, Isa::avxvnni, Isa::avx2, Isa::dotprod})
        if (isa <= limit && cpu.has(isa)) return isa;
    return Isa::portable;
}

}  // namespace minibert
