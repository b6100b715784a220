"""The C API (include/minibert/c_api.h) through ctypes: finding libminibert_c, the prototypes.

ctypes rather than a compiled extension (pybind11): the package is pure Python, so it installs
with Debian's pip and setuptools offline and needs no compiler, no Python headers and no build per
Python version; it drives the same stable C ABI a Rust, C# or Go caller does, so the Python tests
test that ABI too; and ctypes.CDLL releases the GIL for the duration of every foreign call, so
threads running inference in parallel need nothing more. numpy arrays cross as raw pointers (the
library writes its outputs straight into arrays allocated here).
"""
import ctypes
import ctypes.util
import os

ABI_VERSION = 1

c_size_p = ctypes.POINTER(ctypes.c_size_t)
c_float_p = ctypes.POINTER(ctypes.c_float)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_char_pp = ctypes.POINTER(ctypes.c_char_p)


class Options(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("dtype", ctypes.c_int32), ("isa", ctypes.c_int32),
                ("threads", ctypes.c_uint32), ("max_batch", ctypes.c_uint32), ("max_length", ctypes.c_uint32),
                ("reject_overflow", ctypes.c_int32)]


class EntityStruct(ctypes.Structure):
    _fields_ = [("text", ctypes.c_size_t), ("label", ctypes.c_char_p), ("word", ctypes.c_char_p),
                ("score", ctypes.c_float), ("start", ctypes.c_size_t), ("end", ctypes.c_size_t),
                ("char_start", ctypes.c_size_t), ("char_end", ctypes.c_size_t), ("token_index", ctypes.c_size_t)]


class AnswerStruct(ctypes.Structure):
    _fields_ = [("score", ctypes.c_float), ("start", ctypes.c_size_t), ("end", ctypes.c_size_t),
                ("char_start", ctypes.c_size_t), ("char_end", ctypes.c_size_t)]


DTYPES = {"native": 0, "fp32": 1, "fp16": 2, "int8-dynamic": 3, "int8": 3, "int8-static": 4}
ISAS = {"native": 0, "portable": 1, "avx2": 2, "avxvnni": 3, "avx512": 4, "avx512vnni": 5}
AGGREGATIONS = {"none": 0, "simple": 1, "first": 2}
OUTPUTS = {"last_hidden_state": 0, "pooler_output": 1, "mean_pooled": 2, "logits": 3,
           "start_logits": 4, "end_logits": 5}
BUFFER_TOO_SMALL = 9

_P = ctypes.c_void_p
_S = ctypes.c_size_t
_PROTOTYPES = {
    # name: (argument types); every function but the few below returns minibert_status (int)
    "minibert_options_init": [ctypes.POINTER(Options)],
    "minibert_model_load": [ctypes.c_char_p, ctypes.POINTER(Options), ctypes.POINTER(_P)],
    "minibert_model_info": [_P, c_size_p, c_size_p, c_size_p],
    "minibert_model_label": [_P, _S, ctypes.POINTER(ctypes.c_char_p)],
    "minibert_model_kernels": [_P, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_char_p)],
    "minibert_tokenizer_load": [ctypes.c_char_p, ctypes.POINTER(_P)],
    "minibert_tokenizer_vocab_size": [_P, c_size_p],
    "minibert_tokenizer_token_to_id": [_P, ctypes.c_char_p, _S, c_int32_p],
    "minibert_tokenizer_encode": [_P, ctypes.c_char_p, _S, ctypes.c_char_p, _S, ctypes.c_int, _S, ctypes.POINTER(_P)],
    "minibert_tokenizer_decode": [_P, c_int32_p, _S, ctypes.c_int, ctypes.c_char_p, _S, c_size_p],
    "minibert_encoding_arrays": [_P, ctypes.POINTER(c_int32_p), ctypes.POINTER(c_int32_p), ctypes.POINTER(c_size_p)],
    "minibert_encoding_token": [_P, _S, ctypes.POINTER(ctypes.c_char_p)],
    "minibert_session_create": [_P, _S, _S, _S, _S, ctypes.POINTER(_P)],
    "minibert_session_run": [_P, c_int32_p, c_int32_p, c_size_p, _S],
    "minibert_session_output": [_P, ctypes.c_int, c_float_p, _S, c_size_p, c_size_p, c_size_p],
    "minibert_classifier_create": [_P, _P, ctypes.POINTER(Options), ctypes.POINTER(_P)],
    "minibert_classifier_classify": [_P, c_char_pp, c_size_p, c_char_pp, c_size_p, _S, c_float_p, c_float_p, c_size_p],
    "minibert_embedder_create": [_P, _P, ctypes.POINTER(Options), ctypes.c_int, ctypes.POINTER(_P)],
    "minibert_embedder_dimension": [_P, c_size_p],
    "minibert_embedder_embed": [_P, c_char_pp, c_size_p, _S, c_float_p, _S, c_size_p],
    "minibert_tagger_create": [_P, _P, ctypes.POINTER(Options), ctypes.POINTER(_P)],
    "minibert_tagger_tag": [_P, c_char_pp, c_size_p, _S, ctypes.c_int, ctypes.POINTER(_P)],
    "minibert_entities_get": [_P, _S, ctypes.POINTER(EntityStruct)],
    "minibert_qa_create": [_P, _P, ctypes.POINTER(Options), _S, _S, _S, ctypes.POINTER(_P)],
    "minibert_qa_answer": [_P, ctypes.c_char_p, _S, ctypes.c_char_p, _S, ctypes.POINTER(AnswerStruct)],
    "minibert_reranker_create": [_P, _P, ctypes.POINTER(Options), ctypes.c_int, ctypes.POINTER(_P)],
    "minibert_reranker_score": [_P, ctypes.c_char_p, _S, c_char_pp, c_size_p, _S, c_float_p],
    "minibert_reranker_rerank": [_P, ctypes.c_char_p, _S, c_char_pp, c_size_p, _S, _S, c_size_p, c_float_p, _S, c_size_p],
}
_OTHER = {
    "minibert_abi_version": ([], ctypes.c_uint32),
    "minibert_version": ([], ctypes.c_char_p),
    "minibert_last_error": ([], ctypes.c_char_p),
    "minibert_status_name": ([ctypes.c_int], ctypes.c_char_p),
    "minibert_encoding_size": ([_P], _S),
    "minibert_entities_count": ([_P], _S),
}
_FREE = ["model", "tokenizer", "encoding", "session", "classifier", "embedder", "tagger", "entities", "qa", "reranker"]
ACTIVATIONS = {None: -1, "identity": 0, "sigmoid": 1, "tanh": 2}


def _candidates():
    env = os.environ.get("MINIBERT_C_LIBRARY")
    if env:
        yield env  # named explicitly: nothing else is tried
        return
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("libminibert_c.so"):
            yield os.path.join(here, name)
    found = ctypes.util.find_library("minibert_c")
    if found:
        yield found
    yield "libminibert_c.so.%d" % ABI_VERSION  # LD_LIBRARY_PATH and the loader's default paths


def load_library():
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise ImportError("minibert: cannot load libminibert_c (build it with CMake, target minibert_c, and "
                          "install it or point MINIBERT_C_LIBRARY at the .so): " + "; ".join(errors))
    for name, args in _PROTOTYPES.items():
        f = getattr(lib, name)
        f.argtypes = args
        f.restype = ctypes.c_int
    for name, (args, res) in _OTHER.items():
        f = getattr(lib, name)
        f.argtypes = args
        f.restype = res
    for kind in _FREE:
        f = getattr(lib, "minibert_%s_free" % kind)
        f.argtypes = [_P]
        f.restype = None
    if lib.minibert_abi_version() != ABI_VERSION:
        raise ImportError("minibert: %s has C ABI %d; this package speaks ABI %d"
                          % (lib._name, lib.minibert_abi_version(), ABI_VERSION))
    return lib


lib = load_library()
