"""Unit tests of scripts/optimizer (pruning, distillation, fake quantisation) and the round trip
through minibert: a physically pruned folder, loaded by minibert-infer, gives the logits of the
PyTorch model with the same units masked. Tiny random models; runs in a few seconds.

    MINIBERT_INFER=build/examples/minibert-infer /usr/bin/python3 -m pytest -q tests/optimize
(registered as the ctest entry `optimizer_pytest`, which sets MINIBERT_INFER)."""

import copy
import json
import os
import sys

import numpy as np
import pytest
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "scripts"))
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))

from optimizer import data as D  # noqa: E402
from optimizer import distill, evaluate, prune, quant  # noqa: E402
from optimizer import model as M  # noqa: E402
import bert_reference  # noqa: E402

torch.set_num_threads(1)

CONFIG = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 60,
          "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 24,
          "max_position_embeddings": 32, "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
          "num_labels": 2, "pad_token_id": 0}


def make_model(seed=0, **overrides):
    torch.manual_seed(seed)
    m = M.BertClassifier(dict(CONFIG, **overrides))
    with torch.no_grad():              # larger than HF's init, so that every unit matters visibly
        for p in m.parameters():
            p.normal_(0.0, 0.3 if p.dim() > 1 else 0.1)
        for l in m.layers:
            l.attn_norm.weight.add_(1.0)
            l.out_norm.weight.add_(1.0)
        m.emb_norm.weight.add_(1.0)
    return m.eval()


def batch(seed=1, B=3, L=9):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, CONFIG["vocab_size"], (B, L), generator=g)
    mask = torch.ones(B, L, dtype=torch.long)
    mask[1, 6:] = 0                  # a padded row
    ids[mask == 0] = 0
    return ids, mask


def test_ones_masks_change_nothing():
    m = make_model()
    ids, mask = batch()
    h, f = prune.masks_for(m, {}, {})
    assert torch.equal(m(ids, mask)["logits"], m(ids, mask, h, f)["logits"])


@pytest.mark.parametrize("heads,neurons", [({0: [1, 3]}, {}), ({1: [0]}, {0: [2, 5, 23]}), ({0: [0, 1, 2], 1: [3]}, {1: list(range(0, 24, 2))})])
def test_physical_removal_equals_masking(heads, neurons):
    m = make_model()
    ids, mask = batch()
    want = m(ids, mask, *prune.masks_for(m, heads, neurons))["logits"]
    cut = prune.prune_ffn(prune.prune_heads(copy.deepcopy(m), heads), neurons)
    assert torch.allclose(cut(ids, mask)["logits"], want, atol=1e-5)
    assert M.parameter_count(cut) < M.parameter_count(m)
    # and masking something changes the output (the test could fail)
    assert not torch.allclose(m(ids, mask)["logits"], want, atol=1e-3)


def test_pruned_heads_keep_original_numbers_across_rounds():
    m = make_model()
    prune.prune_heads(m, {0: [1]})          # original heads 0, 2, 3 left
    prune.prune_heads(m, {0: [1]})          # local head 1 is original head 2
    cfg = m.current_config()
    assert cfg["pruned_heads"] == {"0": [1, 2]}
    assert m.layers[0].kept_heads == [0, 3]
    with pytest.raises(ValueError, match="removing all"):
        prune.prune_heads(m, {0: [0, 1]})
    with pytest.raises(ValueError, match="cannot remove"):
        prune.prune_heads(m, {1: [4]})


def test_importance_is_the_mask_gradient_and_zero_for_a_dead_head():
    m = make_model()
    with torch.no_grad():                    # head 2 of layer 1 reads nothing: value rows zero
        d = m.layers[1].head_dim
        m.layers[1].value.weight[2 * d:3 * d] = 0.0
        m.layers[1].value.bias[2 * d:3 * d] = 0.0
    ids, mask = batch()
    labels = torch.tensor([0, 1, 1])
    rows = torch.arange(3)
    heads, ffn = prune.importance(m, [(ids, mask, labels, rows)])
    assert float(heads[1][2]) == 0.0
    assert all(float(s.norm()) == pytest.approx(1.0) for s in heads + ffn)
    assert prune.select(heads, 1 / 8) == {1: [2]}            # the dead head goes first
    # the raw score is |d loss / d mask|: compare with a central finite difference on head 0, layer 0
    def loss_at(value):
        h, f = prune.masks_for(m, {}, {})
        h[0][0] = value
        return float(torch.nn.functional.cross_entropy(m(ids, mask, h, f)["logits"], labels))
    fd = (loss_at(1.0 + 1e-3) - loss_at(1.0 - 1e-3)) / 2e-3
    hm, fm = prune.ones_masks(m)
    g = torch.autograd.grad(torch.nn.functional.cross_entropy(m(ids, mask, hm, fm)["logits"], labels), hm[0])[0]
    assert float(g[0]) == pytest.approx(fd, rel=1e-2, abs=1e-5)


def test_select_global_ranking_and_floor():
    scores = [torch.tensor([0.1, 0.9, 0.8]), torch.tensor([0.05, 0.06, 0.95])]
    assert prune.select(scores, 0.5) == {0: [0], 1: [0, 1]}
    assert prune.select([torch.tensor([0.1, 0.2])], 0.9, keep_at_least=1) == {0: [0]}
    assert prune.select(scores, 0.0) == {}
    with pytest.raises(ValueError):
        prune.select(scores, 1.0)


def test_kd_loss():
    s = torch.tensor([[1.0, -1.0], [0.5, 0.2]])
    assert float(distill.kd_loss(s, s.clone(), 2.0)) == pytest.approx(0.0, abs=1e-7)
    t = torch.tensor([[-1.0, 1.0], [0.0, 0.0]])
    T = 3.0
    p = torch.softmax(t / T, -1)
    manual = (p * (p.log() - torch.log_softmax(s / T, -1))).sum(-1).mean() * T * T
    assert float(distill.kd_loss(s, t, T)) == pytest.approx(float(manual), rel=1e-6)
    assert float(distill.kd_loss(s, t, T)) > 0


def test_hidden_and_attention_mse_ignore_padding():
    mask = torch.tensor([[1, 1, 0]])
    a = torch.zeros(1, 3, 4)
    b = torch.zeros(1, 3, 4)
    b[0, 2] = 100.0                                  # only in the padded token
    assert float(distill.hidden_mse(a, b, mask)) == 0.0
    b[0, 0, 0] = 2.0
    assert float(distill.hidden_mse(a, b, mask)) == pytest.approx(4.0 / 8)
    proj = torch.nn.Linear(2, 4)
    assert distill.hidden_mse(torch.zeros(1, 3, 2), b, mask, proj).shape == ()
    sa = torch.full((1, 2, 3, 3), 0.5)
    ta = torch.full((1, 4, 3, 3), 0.5)
    assert float(distill.attention_mse(sa, ta, mask)) == 0.0       # head counts differ: averaged
    ta[0, :, 2, :] = 9.0                                            # a padded query
    assert float(distill.attention_mse(sa, ta, mask)) == 0.0
    ta[0, 0, 0, 0] = 0.9
    assert float(distill.attention_mse(sa, ta, mask)) > 0.0


def test_layer_map_and_distilbert_init():
    assert distill.layer_map(2, 4) == [1, 3]
    assert distill.layer_map(4, 12) == [2, 5, 8, 11]
    assert distill.layer_map(3, 3) == [0, 1, 2]
    with pytest.raises(ValueError):
        distill.layer_map(5, 4)
    t = make_model(num_hidden_layers=4)
    s = distill.student_from_teacher(t)
    assert len(s.layers) == 2 and s.config["num_hidden_layers"] == 2
    assert torch.equal(s.layers[1].query.weight, t.layers[2].query.weight)
    assert s.layers[1].query.weight.data_ptr() != t.layers[2].query.weight.data_ptr()


def test_fake_quant_rounds_rows_to_int8_with_straight_through_gradient():
    x = torch.randn(4, 33, requires_grad=True)
    q = quant.fake_quant_rows(x)
    for row, orig in zip(q.detach(), x.detach()):
        scale = orig.abs().max() / 127
        codes = row / scale
        assert torch.allclose(codes, codes.round(), atol=1e-3) and codes.abs().max() <= 127.001
    q.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    m = make_model()
    ids, mask = batch()
    ref = m(ids, mask)["logits"]
    hooks = quant.enable_fake_quant(m)
    fq = m(ids, mask)["logits"]
    quant.disable_fake_quant(hooks)
    assert not torch.equal(fq, ref) and torch.allclose(fq, ref, atol=0.2)
    assert torch.equal(m(ids, mask)["logits"], ref)               # float weights restored


def test_save_load_round_trip_and_reference(tmp_path):
    m = make_model()
    prune.prune_ffn(prune.prune_heads(m, {0: [1, 3], 1: [2]}), {1: [0, 1, 2, 3, 4]})
    folder = str(tmp_path / "pruned")
    M.save(m, folder)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert cfg["pruned_heads"] == {"0": [1, 3], "1": [2]} and cfg["intermediate_sizes"] == [24, 19]
    again = M.load(folder).eval()
    ids, mask = batch()
    assert torch.equal(again(ids, mask)["logits"], m(ids, mask)["logits"])
    ref = bert_reference.load_model(folder)                          # the repo's HF restatement, float64
    out = ref.forward(ids.tolist(), attention_mask=mask.tolist())["logits"]
    assert np.allclose(out.numpy(), m(ids, mask)["logits"].detach().numpy(), atol=1e-5)


def infer_binary():
    try:
        return evaluate.find_infer()
    except FileNotFoundError:
        return None


@pytest.mark.skipif(infer_binary() is None and not os.environ.get("MINIBERT_REQUIRE_INFER"),
                    reason="minibert-infer not built (the ctest entry always has it)")
def test_pruned_folder_in_minibert_matches_masked_pytorch(tmp_path):
    """The round trip: importance -> selection -> physical removal -> save -> minibert-infer, in
    fp32 (1e-4) and as int8 / fp16 folders from convert_weights (close, not equal)."""
    m = make_model(seed=3)
    ids, mask = batch(seed=4, B=4, L=12)
    data = D.Dataset([row[:int(k.sum())].tolist() for row, k in zip(ids, mask)], [0, 1, 0, 1])
    heads, ffn = prune.importance(m, data.batches(4))
    rh, rf = prune.select(heads, 0.25), prune.select(ffn, 0.3)
    assert rh and rf
    with torch.no_grad():
        want = np.zeros((len(data), 2))
        for b_ids, b_mask, _, rows in data.batches(4):
            want[rows.numpy()] = m(b_ids, b_mask, *prune.masks_for(m, rh, rf))["logits"].numpy()
    prune.prune_ffn(prune.prune_heads(m, rh), rf)
    folder = str(tmp_path / "pruned")
    M.save(m, folder)
    infer = infer_binary()
    got = evaluate.minibert_logits(folder, data, infer)
    assert np.abs(got - want).max() < 1e-4
    for dtype, tol in (("fp16", 1e-2), ("int8", 0.15)):
        out = str(tmp_path / dtype)
        quant.convert(folder, out, dtype, log=lambda *a: None)
        q = evaluate.minibert_logits(out, data, infer)
        assert np.abs(q - want).max() < tol, dtype


@pytest.mark.skipif(infer_binary() is None and not os.environ.get("MINIBERT_REQUIRE_INFER"),
                    reason="minibert-infer not built (the ctest entry always has it)")
def test_pipeline_gates_resumes_and_rolls_back(tmp_path):
    """scripts/optimize.py end to end on the demo model with a few rows: conservative passes and a
    rerun skips its steps; balanced with a gate nothing can meet (-101 points: a loss is at least -100) stops at distil, says
    why, and keeps the last good model (the teacher) as final/."""
    import subprocess
    data = os.path.join(REPO, "tests", "optimize", "data")
    teacher = os.path.join(REPO, "models", "sst2-student")
    base = [sys.executable, os.path.join(REPO, "scripts", "optimize.py"), "--teacher", teacher,
            "--train", os.path.join(data, "train.tsv"), "--eval", os.path.join(data, "eval.tsv"),
            "--infer", infer_binary() or "", "--batch-size", "8"]
    out = str(tmp_path / "cons")
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    p = subprocess.run(base + ["--preset", "conservative", "--out", out], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    state = json.load(open(os.path.join(out, "state.json")))
    assert state["steps"]["fp16"]["status"] == "passed"
    assert state["steps"]["fp16"]["metrics"]["agreement"] >= 0.9
    assert os.path.exists(os.path.join(out, "final", "model.safetensors"))
    p = subprocess.run(base + ["--preset", "conservative", "--out", out], env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "fp16: done in an earlier run, skipped" in p.stdout

    out = str(tmp_path / "bal")
    p = subprocess.run(base + ["--preset", "balanced", "--out", out, "--epochs", "1", "--max-loss", "-101"],
                       env=env, capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    state = json.load(open(os.path.join(out, "state.json")))
    assert state["steps"]["distil"]["status"] == "failed"
    assert "exceeds the balanced gate" in state["steps"]["distil"]["why"]
    assert state["outcome"].startswith("stopped at distil")
    assert state["final_from"] == os.path.abspath(teacher)
    assert "int8" not in state["steps"]
    # the failed step's folder is still one minibert loads (kept for inspection, not promoted)
    assert os.path.exists(os.path.join(state["steps"]["distil"]["folder"], "config.json"))


def _resume_data(n=40, L=7, seed=3):
    g = torch.Generator().manual_seed(seed)
    ids = [[int(v) for v in torch.randint(1, CONFIG["vocab_size"], (int(torch.randint(3, L, (1,), generator=g)),),
                                          generator=g)] for _ in range(n)]
    return D.Dataset(ids, [int(v) for v in torch.randint(0, 2, (n,), generator=g)])


def test_fit_resumes_from_a_checkpoint_as_if_never_stopped(tmp_path):
    """train.fit with a checkpoint after every batch: a run killed mid-epoch (here: an exception
    from the loss at the 3rd batch of epoch 2), then resumed by a fresh fit() call on a fresh
    model, ends with exactly the weights of an uninterrupted run (batch order, dropout RNG,
    optimizer and schedule all restored)."""
    from optimizer import train
    import torch.nn.functional as F
    data = _resume_data()

    def loss_fn(m, b):
        ids, mask, labels, _ = b
        return F.cross_entropy(m(ids, mask)["logits"], labels)

    quiet = lambda *a: None  # noqa: E731
    torch.manual_seed(5)
    ref = make_model().train()
    train.fit(ref, data, 2, 1e-3, loss_fn, batch_size=8, seed=2, log=quiet)

    class Killed(Exception):
        pass
    calls = {"n": 0}

    def dying(m, b):
        calls["n"] += 1
        if calls["n"] == 5 + 3:            # 5 batches per epoch
            raise Killed()
        return loss_fn(m, b)
    ck = str(tmp_path / "ck.pt")
    torch.manual_seed(5)
    first = make_model().train()
    with pytest.raises(Killed):
        train.fit(first, data, 2, 1e-3, dying, batch_size=8, seed=2, log=quiet, checkpoint=ck, checkpoint_every=0)
    assert os.path.exists(ck)
    torch.manual_seed(99)                   # a different RNG: the checkpoint must restore it
    resumed = make_model(seed=7).train()
    seen = []
    train.fit(resumed, data, 2, 1e-3, loss_fn, batch_size=8, seed=2, log=seen.append, checkpoint=ck,
              checkpoint_every=0)
    assert any("resumed from" in s for s in seen)
    for (n, a), (_, b) in zip(ref.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), n
    # a finished checkpoint: a rerun loads the weights and trains nothing
    again = make_model(seed=8).train()
    train.fit(again, data, 2, 1e-3, dying, batch_size=8, seed=2, log=quiet, checkpoint=ck)
    assert all(torch.equal(a, b) for a, b in zip(ref.state_dict().values(), again.state_dict().values()))


def test_fit_budget_counts_the_given_clock():
    """train.fit's time budget counts what `clock` returns (train_teacher.py --clock cpu passes
    time.process_time): a fake clock that advances 10 s per reading stops the run after a few
    batches of the 5 per epoch."""
    from optimizer import train
    import torch.nn.functional as F
    data = _resume_data()
    ticks = {"t": 0.0}

    def fake_clock():
        ticks["t"] += 10.0
        return ticks["t"]
    seen, batches = [], {"n": 0}

    def loss_fn(m, b):
        batches["n"] += 1
        ids, mask, labels, _ = b
        return F.cross_entropy(m(ids, mask)["logits"], labels)
    torch.manual_seed(5)
    train.fit(make_model().train(), data, 2, 1e-3, loss_fn, batch_size=8, seed=2, log=seen.append,
              time_budget=45.0, clock=fake_clock, schedule_by_time=True)
    assert 1 <= batches["n"] < 5, batches
    assert any("stopped at the time budget" in s for s in seen), seen


def test_train_teacher_writes_a_folder_and_resumes(tmp_path):
    """scripts/train_teacher.py on 48 rows: a HF folder (config.json with the requested shape,
    model.safetensors, the vocabulary) that model.load reads back; a rerun resumes (trains nothing
    more once finished) and refuses a budget over 60 minutes."""
    import subprocess
    data = os.path.join(REPO, "tests", "optimize", "data")
    out = str(tmp_path / "teacher")
    cmd = [sys.executable, os.path.join(REPO, "scripts", "train_teacher.py"), "--train", os.path.join(data, "train.tsv"),
           "--eval", os.path.join(data, "eval.tsv"), "--out", out, "--shape", "2,32,2,64", "--epochs", "1",
           "--batch-size", "16", "--minutes", "5"]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    for f in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "checkpoint.pt"):
        assert os.path.exists(os.path.join(out, f)), f
    cfg = json.load(open(os.path.join(out, "config.json")))
    assert (cfg["num_hidden_layers"], cfg["hidden_size"], cfg["intermediate_size"]) == (2, 32, 64)
    m = M.load(out)
    assert M.parameter_count(m) == json.load(open(os.path.join(out, "train_summary.json")))["parameters"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "resumed from" in p.stdout, p.stdout + p.stderr
    p = subprocess.run(cmd[:-1] + ["61"], env=env, capture_output=True, text=True)
    assert p.returncode != 0 and "--minutes" in p.stderr
