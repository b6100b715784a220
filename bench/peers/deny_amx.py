#!/usr/bin/env python3
"""Runs a command with Intel AMX unavailable to it: a seccomp filter (libseccomp through ctypes)
makes arch_prctl(ARCH_REQ_XCOMP_PERM / ARCH_GET_XCOMP_PERM) fail with EPERM, so the kernel never
grants the process the AMX tile state and a library that asks for it first (ONNX Runtime's MLAS
does, before choosing its int8 GEMM) falls back to its next-best kernels (AVX-512 VNNI on a CPU
that has it). Nothing else changes; the filter is inherited by the command and its threads.

    /usr/bin/python3 bench/peers/deny_amx.py node bench/peers/ort_bench.js --model M.int8.onnx ...

A diagnostic for docs/benchmarks.md (how much of ONNX Runtime's int8 lead on an AMX host is AMX).
"""
import ctypes
import os
import sys

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO_EPERM = 0x00050000 | 1
SCMP_CMP_EQ = 4
SYS_ARCH_PRCTL = 158  # x86_64
ARCH_GET_XCOMP_PERM, ARCH_REQ_XCOMP_PERM = 0x1022, 0x1023


class ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(ArgCmp)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        raise SystemExit("seccomp_init failed")
    for code in (ARCH_GET_XCOMP_PERM, ARCH_REQ_XCOMP_PERM):
        cmp = ArgCmp(0, SCMP_CMP_EQ, code, 0)
        rc = lib.seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO_EPERM, SYS_ARCH_PRCTL, 1, ctypes.byref(cmp))
        if rc != 0:
            raise SystemExit("seccomp_rule_add_array failed: %d" % rc)
    rc = lib.seccomp_load(ctx)
    if rc != 0:
        raise SystemExit("seccomp_load failed: %d" % rc)
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
