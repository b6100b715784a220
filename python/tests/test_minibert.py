"""The Python package against the C++ pipelines, bit for bit, and its failure modes.

The C++ side is the repo's own tools, run on the same folders and texts: minibert-tokenize (ids),
minibert-infer (the model's raw outputs at %.9g, which round-trips a float), minibert-tag and
minibert-qa (--json: nlohmann writes a float's double exactly). Run by ctest (test_python) with
    MINIBERT_C_LIBRARY   the libminibert_c.so under test
    MINIBERT_TEST_MODELS_DIR  the fixture's random-weight checkpoints
    MINIBERT_TOOLS_DIR   the build's examples/ folder (the tools)
"""
import json
import os
import shutil
import subprocess
import threading

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
import minibert  # the installed package (tests/check_python_package.sh), or PYTHONPATH=python

SOURCE = os.path.dirname(os.path.dirname(HERE))
DEMO = os.path.join(SOURCE, "models", "sst2-student")
VOCAB = os.path.join(SOURCE, "tests", "data", "tokenizer", "bert-base-uncased")
MODELS = os.path.abspath(os.environ.get("MINIBERT_TEST_MODELS_DIR", "/nonexistent"))
TOOLS = os.path.abspath(os.environ.get("MINIBERT_TOOLS_DIR", "/nonexistent"))

TEXTS = ["a gorgeous, witty, seductive movie.", "the plot is dull and the acting worse",
         "Zoë went to Zürich with George Washington", "ok"]


def need(path, what):
    if not path or not os.path.exists(path):
        pytest.skip("%s not configured (%s)" % (what, path))  # ctest always configures both
    return path


def tool(name, *args, stdin=None):
    exe = os.path.join(need(TOOLS, "MINIBERT_TOOLS_DIR"), name)
    r = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    return r.stdout


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """Test checkpoints made whole: the random-weight model files plus bert-base-uncased's tokenizer."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for name in ("tinybert-4l-312", "small-bert-tokcls", "small-bert-qa", "small-bert-rerank"):
        src = os.path.join(need(MODELS, "MINIBERT_TEST_MODELS_DIR"), name)
        dst = root / name
        dst.mkdir()
        for f in ("config.json", "model.safetensors"):
            os.symlink(os.path.join(src, f), dst / f)
        for f in ("vocab.txt", "tokenizer_config.json"):
            shutil.copy(os.path.join(VOCAB, f), dst / f)
        out[name] = str(dst)
    return out


@pytest.fixture(scope="module")
def demo():
    return minibert.Model.load(DEMO)


def infer(folder, ids_rows, tmp_path):
    """minibert-infer on unpadded rows, one case per row: {output name: [rows...]}."""
    cases = {"cases": [{"id": str(i), "input_ids": [list(map(int, r))]} for i, r in enumerate(ids_rows)]}
    (tmp_path / "in.json").write_text(json.dumps(cases))
    tool("minibert-infer", "--model", folder, "--input", str(tmp_path / "in.json"), "--output", str(tmp_path / "out.json"))
    out = json.loads((tmp_path / "out.json").read_text())
    return [out[str(i)] for i in range(len(ids_rows))]


# ---- the package against the C++ library, bit for bit ----

def test_version():
    assert minibert.abi_version() == 1
    assert minibert.version().count(".") == 2


def test_tokenize_matches_cpp(demo):
    lines = "".join(json.dumps({"text": t}) + "\n" for t in TEXTS)
    cpp = [json.loads(line) for line in tool("minibert-tokenize", "--model", DEMO, stdin=lines).splitlines()]
    for text, want in zip(TEXTS, cpp):
        enc = demo.tokenize(text)
        assert enc.ids.tolist() == want["ids"]
        assert enc.tokens == want["tokens"]
        assert enc.type_ids.tolist() == want["type_ids"]
        assert enc.offsets.tolist() == [list(o) for o in want["byte_offsets"]]
    pair = demo.tokenize("first", pair="second")
    assert pair.type_ids.tolist()[-1] == 1


def test_classify_and_forward_match_cpp(demo, tmp_path):
    rows = [demo.tokenize(t).ids for t in TEXTS]
    cpp = infer(DEMO, rows, tmp_path)
    results = demo.classify(TEXTS, batch_size=3)  # two batches, not one per text
    for r, c, ids in zip(results, cpp, rows):
        want = np.array(c["logits"][0], dtype=np.float32)
        assert np.array_equal(bits(r.logits), bits(want))
        assert np.array_equal(bits(demo.forward([ids])[0]), bits(want))
        e = np.exp(want.astype(np.float64) - want.max())
        assert np.allclose(r.probabilities, e / e.sum(), atol=1e-7)
        assert r.label == demo.labels[int(np.argmax(want))] and r.score == r.probabilities[r.label_id]
    assert demo.classify(TEXTS[0]).label == "positive"
    # forward's other outputs, packed
    h = demo.forward(rows[:2], output="last_hidden_state")
    assert h.shape == (rows[0].size + rows[1].size, demo.hidden_size)
    assert np.array_equal(bits(h[: rows[0].size]), bits(np.array(cpp[0]["last_hidden_state"][0], dtype=np.float32)))


def _pool(hidden, normalize):
    """The Embedder's mean pooling in models/pooling.hpp's order of operations: fp32 sums one token
    at a time, times the fp32 reciprocal of the count; the norm summed in double, the scale in fp32."""
    h = np.array(hidden, dtype=np.float32)
    s = np.zeros(h.shape[1], dtype=np.float32)
    for t in range(h.shape[0]):
        s += h[t]
    out = s * np.float32(1.0 / np.float32(h.shape[0]))
    if normalize:
        norm = 0.0
        for v in out.astype(np.float64):
            norm += v * v
        inv = np.float32(1.0 / max(np.sqrt(norm), 1e-12))
        out = out * inv
    return out


def test_encode_matches_cpp(folders, tmp_path):
    model = minibert.Model.load(folders["tinybert-4l-312"])
    rows = [model.tokenize(t).ids for t in TEXTS]
    cpp = infer(folders["tinybert-4l-312"], rows, tmp_path)
    plain = model.encode(TEXTS, batch_size=2, normalize=False)
    unit = model.encode(TEXTS, normalize=True)
    assert plain.dtype == np.float32 and plain.shape == (len(TEXTS), 312) and plain.flags.c_contiguous
    for i, c in enumerate(cpp):
        assert np.array_equal(bits(plain[i]), bits(_pool(c["last_hidden_state"][0], False)))
        assert np.array_equal(bits(unit[i]), bits(_pool(c["last_hidden_state"][0], True)))
    # the folder has no pooling files: not normalised by default; batch size changes nothing
    assert np.array_equal(bits(model.encode(TEXTS)), bits(plain))
    assert np.array_equal(bits(model.encode(TEXTS, batch_size=1, normalize=False)), bits(plain))
    assert np.array_equal(bits(model.encode(TEXTS[1])), bits(plain[1]))


@pytest.mark.parametrize("aggregation", ["none", "simple", "first"])
def test_tag_matches_cpp(folders, aggregation):
    folder = folders["small-bert-tokcls"]
    model = minibert.Model.load(folder)
    lines = "".join(json.dumps({"text": t}) + "\n" for t in TEXTS)
    out = tool("minibert-tag", "--model", folder, "--aggregation", aggregation, "--json", "-", stdin=lines)
    cpp = [json.loads(line)["entities"] for line in out.splitlines()]
    got = model.tag(TEXTS, aggregation=aggregation)
    assert len(got) == len(TEXTS) and sum(len(g) for g in got) > 0
    for mine, theirs in zip(got, cpp):
        assert [(e.label, np.float32(e.score), e.word, e.start, e.end, e.char_start, e.char_end) for e in mine] == \
               [(c["label"], np.float32(c["score"]), c["word"], c["start"], c["end"], c["char_start"], c["char_end"])
                for c in theirs]


def test_qa_matches_cpp(folders):
    folder = folders["small-bert-qa"]
    model = minibert.Model.load(folder)
    items = [("Where is the tower?", "The Eiffel Tower is in Paris, the capital of France."),
             ("Who went?", "Zoë went to Zürich. " * 40)]  # long: several windows
    lines = "".join(json.dumps({"question": q, "context": c}) + "\n" for q, c in items)
    cpp = [json.loads(line) for line in tool("minibert-qa", "--model", folder, "--json", "-", stdin=lines).splitlines()]
    for (q, c), want in zip(items, cpp):
        a = model.qa(q, c)
        assert (a.text, np.float32(a.score), a.char_start, a.char_end) == \
               (want["answer"], np.float32(want["score"]), want["char_start"], want["char_end"])
        assert c.encode()[a.start:a.end].decode() == a.text


# ---- bad input ----

def test_missing_folder():
    with pytest.raises(minibert.Error, match="does not exist or is not a folder") as e:
        minibert.Model.load("/nonexistent/minibert-model")
    assert e.value.status == "MINIBERT_ERROR_IO"


def test_wrong_types(demo):
    with pytest.raises(TypeError, match="path must be str"):
        minibert.Model.load(42)
    with pytest.raises(TypeError, match=r"texts\[1\] must be str or bytes, not int"):
        demo.encode(["fine", 3])
    with pytest.raises(TypeError, match="must be a list of str"):
        demo.classify(12)
    with pytest.raises(TypeError, match="batch_size"):
        demo.encode(["x"], batch_size=0)
    with pytest.raises(minibert.Error, match="dtype 'fp64'"):
        minibert.Model.load(DEMO, dtype="fp64")
    with pytest.raises(minibert.Error, match="aggregation 'all'"):
        demo.tag(["x"], aggregation="all")
    with pytest.raises(TypeError):
        minibert.Model()


def test_empty_lists(demo):
    e = demo.encode([])
    assert e.shape == (0, demo.hidden_size) and e.dtype == np.float32
    assert demo.classify([]) == []
    with pytest.raises(minibert.Error, match="no sequence"):
        demo.forward([])


def test_invalid_utf8(demo):
    with pytest.raises(minibert.Error, match="invalid UTF-8 at byte 3") as e:
        demo.encode([b"caf\xc3 au lait"])
    assert e.value.status == "MINIBERT_ERROR_INVALID_INPUT"
    with pytest.raises(minibert.Error, match="invalid UTF-8"):
        demo.classify(["fine", "lone \ud800 surrogate"])
    with pytest.raises(minibert.Error, match="invalid UTF-8"):
        demo.tokenize(b"\xff")
    # valid bytes are text like str
    assert np.array_equal(demo.encode([b"ok"]), demo.encode(["ok"]))


def test_wrong_head_and_limits(demo, folders):
    with pytest.raises(minibert.Error, match="needs a \\*ForTokenClassification model") as e:
        demo.tag(["x"])
    assert e.value.status == "MINIBERT_ERROR_UNSUPPORTED"
    strict = minibert.Model.load(DEMO, reject_overflow=True)
    with pytest.raises(minibert.Error, match="tokens; the model takes at most 128"):
        strict.classify(["word " * 300])
    with pytest.raises(minibert.Error, match="out of range|vocab"):
        demo.forward([[2, 10 ** 6, 3]])


def test_load_options():
    m = minibert.Model.load(DEMO, dtype="fp16", isa="portable", threads=2)
    assert (m.weight_type, m.kernel_isa) == ("fp16", "portable")
    m8 = minibert.Model.load(DEMO, dtype="int8-dynamic")
    assert m8.weight_type == "int8-dynamic"
    assert m8.classify(TEXTS[0]).label == "positive"


# ---- threads ----

def test_model_shared_by_8_threads(demo):
    want_p = np.stack([c.probabilities for c in demo.classify(TEXTS)])
    want_e = demo.encode(TEXTS)
    errors, done = [], []

    def work():
        try:
            for _ in range(5):
                p = np.stack([c.probabilities for c in demo.classify(TEXTS)])
                assert np.array_equal(bits(p), bits(want_p))
                assert np.array_equal(bits(demo.encode(TEXTS)), bits(want_e))
            try:
                demo.encode([b"\xff"])
            except minibert.Error as e:  # each thread's failure carries its own message
                assert "invalid UTF-8 at byte 0" in str(e)
            done.append(1)
        except Exception as e:  # noqa: BLE001  (reported below, with the thread's exception)
            errors.append(repr(e))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(done) == 8


def test_gil_released_during_inference(demo):
    """While one thread is inside the library, this thread keeps running Python: the longest pause
    this loop sees is far shorter than the library call (with the GIL held through the call, the
    loop would stall for all of it)."""
    import time
    t0 = time.perf_counter()
    demo.encode(["word " * 100] * 8)
    per_text = (time.perf_counter() - t0) / 8
    texts = ["word " * 100] * min(4096, max(16, int(0.3 / per_text)))  # a call of about 0.3 s on any machine
    span = []

    def call():
        t0 = time.perf_counter()
        demo.encode(texts)
        span.append(time.perf_counter() - t0)

    t = threading.Thread(target=call)
    longest, last = 0.0, time.perf_counter()
    t.start()
    while t.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
    t.join()
    assert span[0] > 0.05, "the call was too short to tell (%.3f s)" % span[0]
    assert longest < span[0] / 2, "this thread stalled %.3f s of a %.3f s call" % (longest, span[0])


def test_rerank_matches_cpp(folders, tmp_path):
    folder = folders["small-bert-rerank"]
    model = minibert.Model.load(folder)
    query = "where is the eiffel tower?"
    passages = ["The Eiffel Tower is in Paris.", "Bananas are yellow.", "Paris is the capital of France.", "Zoë"]
    encs = [model.tokenize(query, pair=p) for p in passages]
    cases = {"cases": [{"id": str(i), "input_ids": [e.ids.tolist()], "token_type_ids": [e.type_ids.tolist()]}
                       for i, e in enumerate(encs)]}
    (tmp_path / "in.json").write_text(json.dumps(cases))
    tool("minibert-infer", "--model", folder, "--input", str(tmp_path / "in.json"), "--output", str(tmp_path / "out.json"))
    out = json.loads((tmp_path / "out.json").read_text())
    logits = np.array([out[str(i)]["logits"][0][0] for i in range(len(passages))], dtype=np.float32)
    got = model.rerank(query, passages)  # the folder declares no activation: raw logits
    order = sorted(range(len(passages)), key=lambda i: -logits[i])  # stable: ties keep input order
    assert [r.index for r in got] == order
    assert np.array_equal(bits([r.score for r in got]), bits(logits[order]))
    top = model.rerank(query, passages, top_n=2, activation="sigmoid")
    assert [r.index for r in top] == order[:2]
    want = (1.0 / (1.0 + np.exp(-logits[order[:2]].astype(np.float64)))).astype(np.float32)
    assert np.allclose([r.score for r in top], want, rtol=1e-6)
    assert model.rerank(query, []) == []
    with pytest.raises(minibert.Error, match="activation 'relu'"):
        model.rerank(query, passages, activation="relu")
    with pytest.raises(minibert.Error, match="one label") as e:
        minibert.Model.load(DEMO).rerank(query, passages)
    assert e.value.status == "MINIBERT_ERROR_UNSUPPORTED"
