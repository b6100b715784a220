"""minibert from Python: BERT-family encoders on a plain CPU, over minibert's C API.

    import minibert
    model = minibert.Model.load("models/sst2-student", threads=1)
    model.classify(["a gorgeous, witty, seductive movie."])[0].label    # 'positive'
    vectors = model.encode(["first text", "second text"], normalize=True)  # numpy [2 x hidden]

One Model may be used by any number of Python threads at once: the weights and the tokenizer are
shared, each thread gets its own pipeline (scratch memory) the first time it asks, and the GIL is
released while the library runs, so threads run in parallel. Failures of the library raise
minibert.Error carrying its message; arguments of the wrong Python type raise TypeError.
"""
import ctypes
import threading
from collections import namedtuple

import numpy as np

from . import _capi
from ._capi import lib

__all__ = ["Error", "Model", "Encoding", "Classification", "Entity", "Answer", "RerankResult", "version", "abi_version"]

Encoding = namedtuple("Encoding", "ids type_ids offsets tokens")
Encoding.__doc__ = "A tokenized text: ids and type_ids (int32 arrays), offsets ([n x 2] UTF-8 byte spans), tokens."
Classification = namedtuple("Classification", "label label_id score probabilities logits")
Entity = namedtuple("Entity", "label score word start end char_start char_end index")
Answer = namedtuple("Answer", "text score start end char_start char_end")
RerankResult = namedtuple("RerankResult", "index score")


class Error(Exception):
    """A failure reported by the library: `status` is the minibert_status name
    (e.g. "MINIBERT_ERROR_IO"), str(error) the library's message."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


def _check(status):
    if status != 0:
        raise Error(lib.minibert_last_error().decode("utf-8", "replace"), lib.minibert_status_name(status).decode())


def version():
    return lib.minibert_version().decode()


def abi_version():
    return int(lib.minibert_abi_version())


def _utf8(text, what):
    if isinstance(text, bytes):
        return text  # passed through as it is: the library judges its UTF-8
    if isinstance(text, str):
        # surrogatepass: a lone surrogate becomes the bytes the library then refuses, naming the position
        return text.encode("utf-8", "surrogatepass")
    raise TypeError("minibert: %s must be str or bytes, not %s" % (what, type(text).__name__))


def _text_array(texts, what="texts"):
    """(n, char* array, size_t array, the bytes kept alive) for a str/bytes or a list of them."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("minibert: %s must be a list of str, not a single %s" % (what, type(texts).__name__))
    try:
        items = [_utf8(t, what + "[%d]" % i) for i, t in enumerate(texts)]
    except TypeError as e:
        if "must be str or bytes" in str(e):
            raise
        raise TypeError("minibert: %s must be a list of str, not %s" % (what, type(texts).__name__))
    n = len(items)
    return n, (ctypes.c_char_p * max(n, 1))(*items), (ctypes.c_size_t * max(n, 1))(*[len(b) for b in items]), items


def _ptr(a, ctype):
    """A pointer to a numpy array's data. c_type.from_buffer costs a fraction of a microsecond,
    numpy's a.ctypes several: it matters at small shapes (bench/peers/python_bench.py). Read-only
    or empty arrays, which from_buffer refuses, take numpy's way."""
    try:
        return ctypes.byref(ctype.from_buffer(a))
    except (TypeError, ValueError):
        return a.ctypes.data_as(ctypes.POINTER(ctype))


def _f32(a):
    return _ptr(a, ctypes.c_float)


class _Handle:
    """Owns one C handle; frees it once."""

    def __init__(self, kind, ptr, keep=()):
        self.kind, self.ptr, self._keep = kind, ptr, keep
        self._free = getattr(lib, "minibert_%s_free" % kind)

    def __del__(self):
        if self.ptr:
            self._free(self.ptr)
            self.ptr = None


def _options(dtype="native", isa="native", threads=1, max_batch=32, max_length=0, reject_overflow=False):
    o = _capi.Options()
    _check(lib.minibert_options_init(ctypes.byref(o)))
    if dtype not in _capi.DTYPES:
        raise Error("minibert: invalid_argument: dtype %r is not one of %s" % (dtype, ", ".join(_capi.DTYPES)),
                    "MINIBERT_ERROR_INVALID_ARGUMENT")
    if isa not in _capi.ISAS:
        raise Error("minibert: invalid_argument: isa %r is not one of %s" % (isa, ", ".join(_capi.ISAS)),
                    "MINIBERT_ERROR_INVALID_ARGUMENT")
    for name, v in (("threads", threads), ("max_batch", max_batch), ("max_length", max_length)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 2 ** 32:
            raise TypeError("minibert: %s must be a non-negative int, not %r" % (name, v))
    o.dtype, o.isa, o.threads, o.max_batch = _capi.DTYPES[dtype], _capi.ISAS[isa], threads, max_batch
    o.max_length, o.reject_overflow = max_length, int(bool(reject_overflow))
    return o


class Model:
    """A model folder loaded once: weights (shared by all threads) and its tokenizer."""

    def __init__(self, *args, **kwargs):
        raise TypeError("minibert: use Model.load(path, ...)")

    @classmethod
    def load(cls, path, dtype="native", threads=1, isa="native", tokenizer=None, max_length=0,
             reject_overflow=False):
        """Loads `path` (config.json, model.safetensors, and the tokenizer from `path`, or from the
        folder `tokenizer` names; tokenizer=False loads none, for forward() on ids alone). dtype: native, fp32, fp16, int8-dynamic, int8-static; isa caps the kernel
        level (native, portable, avx2, avxvnni, avx512, avx512vnni); threads per forward pass."""
        import os
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("minibert: path must be str or os.PathLike, not %s" % type(path).__name__)
        self = object.__new__(cls)
        self._load_args = dict(dtype=dtype, isa=isa, threads=threads, max_length=max_length,
                               reject_overflow=reject_overflow)
        opts = _options(**self._load_args)
        ptr = ctypes.c_void_p()
        _check(lib.minibert_model_load(os.fsencode(path), ctypes.byref(opts), ctypes.byref(ptr)))
        self._model = _Handle("model", ptr)
        self._tokenizer = None
        if tokenizer is not False:
            tok = ctypes.c_void_p()
            _check(lib.minibert_tokenizer_load(os.fsencode(tokenizer if tokenizer is not None else path),
                                               ctypes.byref(tok)))
            self._tokenizer = _Handle("tokenizer", tok)
        hidden, labels, positions = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
        _check(lib.minibert_model_info(ptr, ctypes.byref(hidden), ctypes.byref(labels), ctypes.byref(positions)))
        self.hidden_size, self.max_position_embeddings = hidden.value, positions.value
        names = []
        for i in range(labels.value):
            s = ctypes.c_char_p()
            _check(lib.minibert_model_label(ptr, i, ctypes.byref(s)))
            names.append(s.value.decode())
        self.labels = names
        isa_name, weights = ctypes.c_char_p(), ctypes.c_char_p()
        _check(lib.minibert_model_kernels(ptr, ctypes.byref(isa_name), ctypes.byref(weights)))
        self.kernel_isa, self.weight_type = isa_name.value.decode(), weights.value.decode()
        self._local = threading.local()
        return self

    # ---- per-thread pipelines: a pipeline owns scratch memory, so each thread has its own ----

    def _pipeline(self, key, create):
        cache = self._local.__dict__.setdefault("pipelines", {})
        handle = cache.get(key)
        if handle is None:
            handle = cache[key] = create()
        return handle.ptr

    def _tok(self):
        if self._tokenizer is None:
            raise Error("minibert: invalid_argument: this Model was loaded with tokenizer=False: only forward() runs",
                        "MINIBERT_ERROR_INVALID_ARGUMENT")
        return self._tokenizer.ptr

    def _create(self, kind, max_batch=32, extra=()):
        self._tok()
        opts = _options(max_batch=max_batch, **self._load_args)
        ptr = ctypes.c_void_p()
        _check(getattr(lib, "minibert_%s_create" % kind)(self._model.ptr, self._tokenizer.ptr, ctypes.byref(opts),
                                                          *extra, ctypes.byref(ptr)))
        # the pipeline holds the model and tokenizer handles alive as long as it lives
        return _Handle(kind, ptr, keep=(self._model, self._tokenizer))

    # ---- tasks ----

    def tokenize(self, text, pair=None, add_special_tokens=True, max_length=0):
        """The tokenizer's Encoding of text (and pair): ids, type_ids, offsets, tokens."""
        a = _utf8(text, "text")
        b = _utf8(pair, "pair") if pair is not None else None
        enc = ctypes.c_void_p()
        _check(lib.minibert_tokenizer_encode(self._tok(), a, len(a), b, len(b) if b is not None else 0,
                                             int(bool(add_special_tokens)), max_length, ctypes.byref(enc)))
        handle = _Handle("encoding", enc)
        n = lib.minibert_encoding_size(enc)
        ids_p, types_p, offs_p = _capi.c_int32_p(), _capi.c_int32_p(), _capi.c_size_p()
        _check(lib.minibert_encoding_arrays(enc, ctypes.byref(ids_p), ctypes.byref(types_p), ctypes.byref(offs_p)))
        ids = np.ctypeslib.as_array(ids_p, (n,)).copy() if n else np.zeros(0, np.int32)
        types = np.ctypeslib.as_array(types_p, (n,)).copy() if n else np.zeros(0, np.int32)
        offsets = np.ctypeslib.as_array(offs_p, (n, 2)).astype(np.int64) if n else np.zeros((0, 2), np.int64)
        tokens = []
        for i in range(n):
            s = ctypes.c_char_p()
            _check(lib.minibert_encoding_token(enc, i, ctypes.byref(s)))
            tokens.append(s.value.decode("utf-8", "replace"))
        del handle
        return Encoding(ids, types, offsets, tokens)

    def encode(self, texts, batch_size=32, normalize=None):
        """Sentence embeddings, numpy float32 [len(texts) x dimension] ([dimension] for one str).
        Pooling comes from the folder's sentence-transformers files (mean when none); normalize:
        None the folder's choice, True / False L2-normalised or not. batch_size texts per forward pass."""
        single = isinstance(texts, (str, bytes))
        n, arr, lens, _keep = _text_array([texts] if single else texts)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise TypeError("minibert: batch_size must be a positive int, not %r" % (batch_size,))
        flag = -1 if normalize is None else int(bool(normalize))
        emb = self._pipeline(("embedder", batch_size, flag), lambda: self._create("embedder", batch_size, (flag,)))
        d = ctypes.c_size_t()
        _check(lib.minibert_embedder_dimension(emb, ctypes.byref(d)))
        out = np.empty((n, d.value), dtype=np.float32)
        _check(lib.minibert_embedder_embed(emb, arr, lens, n, _f32(out), out.size, None))
        return out[0] if single else out

    def classify(self, texts, pairs=None, batch_size=32):
        """One Classification (label, label_id, score, probabilities, logits) per text (or text pair)."""
        single = isinstance(texts, (str, bytes))
        n, arr, lens, _keep = _text_array([texts] if single else texts)
        parr = plens = None
        if pairs is not None:
            pn, parr, plens, _keep2 = _text_array([pairs] if single else pairs, "pairs")
            if pn != n:
                raise Error("minibert: invalid_argument: %d texts but %d pairs" % (n, pn), "MINIBERT_ERROR_INVALID_ARGUMENT")
        cls = self._pipeline(("classifier", batch_size), lambda: self._create("classifier", batch_size))
        k = len(self.labels)
        probs = np.empty((n, k), dtype=np.float32)
        logits = np.empty((n, k), dtype=np.float32)
        ids = (ctypes.c_size_t * max(n, 1))()
        if n:
            _check(lib.minibert_classifier_classify(cls, arr, lens, parr, plens, n, _f32(probs), _f32(logits), ids))
        out = [Classification(self.labels[ids[i]], ids[i], float(probs[i, ids[i]]), probs[i], logits[i]) for i in range(n)]
        return out[0] if single else out

    def tag(self, texts, aggregation="simple", batch_size=32):
        """Entities of each text (a list per text; one list for one str). aggregation: none, simple, first."""
        single = isinstance(texts, (str, bytes))
        n, arr, lens, _keep = _text_array([texts] if single else texts)
        if aggregation not in _capi.AGGREGATIONS:
            raise Error("minibert: invalid_argument: aggregation %r is not none, simple or first" % (aggregation,),
                        "MINIBERT_ERROR_INVALID_ARGUMENT")
        tagger = self._pipeline(("tagger", batch_size), lambda: self._create("tagger", batch_size))
        ents = ctypes.c_void_p()
        _check(lib.minibert_tagger_tag(tagger, arr, lens, n, _capi.AGGREGATIONS[aggregation], ctypes.byref(ents)))
        handle = _Handle("entities", ents)
        result = [[] for _ in range(n)]
        e = _capi.EntityStruct()
        for i in range(lib.minibert_entities_count(ents)):
            _check(lib.minibert_entities_get(ents, i, ctypes.byref(e)))
            result[e.text].append(Entity(e.label.decode(), float(e.score), e.word.decode("utf-8", "replace"),
                                         e.start, e.end, e.char_start, e.char_end, e.token_index))
        del handle
        return result[0] if single else result

    def qa(self, question, context, max_answer_length=15, doc_stride=128, max_seq_length=384):
        """The best answer span to `question` in `context`."""
        q, c = _utf8(question, "question"), _utf8(context, "context")
        for name, v in (("max_answer_length", max_answer_length), ("doc_stride", doc_stride),
                        ("max_seq_length", max_seq_length)):
            if not isinstance(v, int) or v < 1:
                raise TypeError("minibert: %s must be a positive int, not %r" % (name, v))
        key = ("qa", max_answer_length, doc_stride, max_seq_length)
        h = self._pipeline(key, lambda: self._create("qa", 32, (max_answer_length, doc_stride, max_seq_length)))
        a = _capi.AnswerStruct()
        _check(lib.minibert_qa_answer(h, q, len(q), c, len(c), ctypes.byref(a)))
        return Answer(c[a.start:a.end].decode("utf-8"), float(a.score), a.start, a.end, a.char_start, a.char_end)

    def rerank(self, query, passages, top_n=0, activation=None, batch_size=32):
        """A cross-encoder's scores of (query, passage): RerankResult(index, score) best first
        (ties in input order), the best top_n (0: all). activation: None the folder's
        (sentence-transformers' activation_fn; the raw logit when none), "identity", "sigmoid", "tanh"."""
        if activation not in _capi.ACTIVATIONS:
            raise Error("minibert: invalid_argument: activation %r is not None, identity, sigmoid or tanh" % (activation,),
                        "MINIBERT_ERROR_INVALID_ARGUMENT")
        if not isinstance(top_n, int) or top_n < 0:
            raise TypeError("minibert: top_n must be a non-negative int, not %r" % (top_n,))
        q = _utf8(query, "query")
        n, arr, lens, _keep = _text_array(passages, "passages")
        flag = _capi.ACTIVATIONS[activation]
        h = self._pipeline(("reranker", batch_size, flag), lambda: self._create("reranker", batch_size, (flag,)))
        k = n if top_n == 0 else min(top_n, n)
        idx = np.empty(k, dtype=np.uintp)
        scores = np.empty(k, dtype=np.float32)
        count = ctypes.c_size_t()
        _check(lib.minibert_reranker_rerank(h, q, len(q), arr, lens, n, top_n, _ptr(idx, ctypes.c_size_t), _f32(scores),
                                            k, ctypes.byref(count)))
        return [RerankResult(int(i), float(s)) for i, s in zip(idx[:count.value], scores[:count.value])]

    def forward(self, input_ids, token_type_ids=None, output="logits"):
        """The model on token ids: input_ids int32 [batch x length] (no padding: every row is one
        sequence), or a list of 1-D arrays of different lengths. Returns one output of
        minibert::Outputs as float32: logits, last_hidden_state, pooler_output, mean_pooled,
        start_logits, end_logits (token-level outputs are packed: [all tokens x ...])."""
        if output not in _capi.OUTPUTS:
            raise Error("minibert: invalid_argument: output %r is not one of %s" % (output, ", ".join(_capi.OUTPUTS)),
                        "MINIBERT_ERROR_INVALID_ARGUMENT")
        if isinstance(input_ids, np.ndarray) and input_ids.ndim == 2:  # [batch x length]: no copy when int32
            ids = np.ascontiguousarray(input_ids, dtype=np.int32)
            n, length = ids.shape
            lengths = [length] * n
        else:  # rows of different lengths, packed here
            rows = [np.asarray(r, dtype=np.int32).ravel() for r in input_ids]
            ids = np.concatenate(rows) if rows else np.zeros(0, np.int32)
            n, lengths = len(rows), [r.size for r in rows]
        types = None
        if token_type_ids is not None:
            types = (np.ascontiguousarray(token_type_ids, dtype=np.int32)
                     if isinstance(token_type_ids, np.ndarray) and token_type_ids.ndim == 2
                     else np.concatenate([np.asarray(r, dtype=np.int32).ravel() for r in token_type_ids] or
                                         [np.zeros(0, np.int32)]))
            if types.size != ids.size:
                raise Error("minibert: invalid_argument: token_type_ids hold %d values, input_ids %d" % (types.size, ids.size),
                            "MINIBERT_ERROR_INVALID_ARGUMENT")
        s = self._session(n, ids.size)
        which = _capi.OUTPUTS[output]
        # The lengths array and the output's shape, kept per thread for the batch shape last seen
        # (a serving loop runs the same shape again and again): one C call less per run.
        key = (which, tuple(lengths))
        plan = getattr(self._local, "plan", None)
        if plan is None or plan[0] != key or plan[1] != s.value:
            plan = (key, s.value, (ctypes.c_size_t * max(n, 1))(*lengths), None)
        _check(lib.minibert_session_run(s, _ptr(ids, ctypes.c_int32), _ptr(types, ctypes.c_int32) if types is not None else None,
                                        plan[2], n))
        if plan[3] is None:
            need, r, c = ctypes.c_size_t(), ctypes.c_size_t(), ctypes.c_size_t()
            status = lib.minibert_session_output(s, which, None, 0, ctypes.byref(need), ctypes.byref(r), ctypes.byref(c))
            if status != _capi.BUFFER_TOO_SMALL:
                _check(status)
            plan = plan[:3] + ((r.value, c.value),)
        self._local.plan = plan
        out = np.empty(plan[3], dtype=np.float32)
        _check(lib.minibert_session_output(s, which, _f32(out), out.size, None, None, None))
        return out[:, 0] if which >= 4 else out

    def _session(self, batch, tokens):
        """This thread's session, grown (doubling) when a run needs more room."""
        have = getattr(self._local, "session", None)
        if have is not None and batch <= have[1] and tokens <= have[2]:
            return have[3]
        b = max(batch, 2 * have[1]) if have else max(batch, 1)
        t = max(tokens, 2 * have[2]) if have else max(tokens, 1)
        ptr = ctypes.c_void_p()
        _check(lib.minibert_session_create(self._model.ptr, self._load_args["threads"], b, t, 0, ctypes.byref(ptr)))
        self._local.session = (_Handle("session", ptr, keep=(self._model,)), b, t, ptr)
        return ptr
