#!/usr/bin/env python3
"""Runs one of the course's optimisation approaches on a BERT SST-2 classifier, step by step,
each step gated by the preset's accepted quality loss against the teacher.

    OMP_WAIT_POLICY=PASSIVE nice -n 19 /usr/bin/python3 scripts/optimize.py --preset balanced \\
        --teacher DIR --train train.tsv --eval dev.tsv --out OUT [--train-limit N] [--eval-limit N]

Debian's python3 with torch and tqdm; no transformers. Needs minibert-infer (and, for int8,
minibert-tokenize) built: every gate runs the step's folder through minibert itself.

Presets (the course's table; the gate is its accepted loss, in accuracy points on --eval below
the teacher's accuracy measured the same way):

  conservative  baseline -> fp16                                                 gate 2 points
  balanced      baseline -> distil (half the layers, every other teacher layer)
                -> int8 (static, calibrated on --train)                          gate 5 points
  aggressive    baseline -> search (grid of 4-layer-or-less narrow students, each trained
                briefly; picked on a held-out slice of --train, never --eval)
                -> tinybert (stage 1: hidden states + attention maps; stage 2: predictions)
                -> prune (heads + FFN neurons by importance on --train, then recovery)
                -> int8 (static; if it breaks the gate: qat, fake-quant fine-tuning, then int8
                again)                                                           gate 10 points

Not done here, and reported as such: "graph-level optimisation" and "runtime optimisation" are
minibert's fused kernels, which every step's folder runs on; benchmarks, rollout, A/B tests,
monitoring and custom operators are operations work, outside a training script.

Every step writes OUT/<nn>-<step>/ (a folder minibert loads) and records its metrics in
OUT/state.json. A rerun with the same --out skips steps that passed (resumable at step
granularity; a step interrupted midway is redone). A step that breaks its gate stops the run; the
last good folder is copied to OUT/final and OUT/state.json says why.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from optimizer import data as D  # noqa: E402
from optimizer import distill, evaluate, prune, quant, train  # noqa: E402
from optimizer import model as M  # noqa: E402

PRESETS = {
    "conservative": {"gate": 2.0, "steps": ["baseline", "fp16"],
                     "course": "latency -30%, memory -50%, quality -1%"},
    "balanced": {"gate": 5.0, "steps": ["baseline", "distil", "int8"],
                 "course": "latency -70%, memory -75%, quality -3%"},
    "aggressive": {"gate": 10.0, "steps": ["baseline", "search", "tinybert", "prune", "int8"],
                   "course": "latency -90%, memory -95%, quality -8%"},
}


class GateFailure(Exception):
    pass


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", required=True, choices=sorted(PRESETS))
    p.add_argument("--teacher", required=True, help="BertForSequenceClassification folder with vocab.txt")
    p.add_argument("--train", required=True, help="TSV: sentence<TAB>label with that header")
    p.add_argument("--eval", required=True, help="TSV as --train; every gate is measured on it")
    p.add_argument("--out", required=True)
    p.add_argument("--max-loss", type=float, help="gate in accuracy points (default: the preset's)")
    p.add_argument("--train-limit", type=int, help="use the first N train rows (reduced-scale runs)")
    p.add_argument("--eval-limit", type=int, help="use the first N eval rows")
    p.add_argument("--epochs", type=int, default=3, help="distillation epochs (balanced; aggressive stage 2)")
    p.add_argument("--stage1-epochs", type=int, default=2, help="TinyBERT intermediate-layer epochs")
    p.add_argument("--recover-epochs", type=int, default=1, help="fine-tuning after pruning, and QAT")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.7, help="weight of the KD term against CE")
    p.add_argument("--student", default="auto",
                   help="aggressive: layers,hidden,heads,intermediate, or auto (the search step picks)")
    p.add_argument("--search-budget", type=float, default=600.0, help="seconds for the whole grid")
    p.add_argument("--prune-heads", type=float, default=0.25, help="fraction of heads removed")
    p.add_argument("--prune-ffn", type=float, default=0.25, help="fraction of FFN neurons removed")
    p.add_argument("--importance-rows", type=int, default=2000, help="train rows for importance scores")
    p.add_argument("--calibration-rows", type=int, default=512, help="train sentences for int8 scales")
    p.add_argument("--threads", type=int, default=1, help="torch threads (and minibert-infer's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--infer", help="minibert-infer (default: build*/examples/)")
    p.add_argument("--tokenizer-bin", help="minibert-tokenize, for int8 calibration")
    return p.parse_args(argv)


class Pipeline:
    def __init__(self, args):
        self.a = args
        self.preset = PRESETS[args.preset]
        self.gate = args.max_loss if args.max_loss is not None else self.preset["gate"]
        os.makedirs(args.out, exist_ok=True)
        self.state_path = os.path.join(args.out, "state.json")
        self.state = {"preset": args.preset, "teacher": os.path.abspath(args.teacher), "gate_points": self.gate,
                      "course_expected": self.preset["course"], "steps": {}}
        if os.path.exists(self.state_path):
            with open(self.state_path) as f:
                old = json.load(f)
            if old.get("preset") == args.preset and old.get("teacher") == self.state["teacher"]:
                self.state = old
                self.state["gate_points"] = self.gate
        self.log_file = open(os.path.join(args.out, "log.txt"), "a")
        self.infer = evaluate.find_infer(args.infer)
        torch.manual_seed(args.seed)
        self.train_data, self.train_text = D.load_tsv(args.train, args.teacher, limit=args.train_limit)
        self.eval_data, _ = D.load_tsv(args.eval, args.teacher, limit=args.eval_limit)
        self.teacher = M.load(args.teacher)
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self._teacher_train_logits = None

    # ---- plumbing ------------------------------------------------------------------------
    def log(self, msg):
        line = "[%s] %s" % (time.strftime("%H:%M:%S"), msg)
        print(line, flush=True)
        self.log_file.write(line + "\n")
        self.log_file.flush()

    def save_state(self):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=1, sort_keys=True)
        os.replace(tmp, self.state_path)

    def folder(self, step):
        return os.path.join(self.a.out, "%02d-%s" % (self.preset["steps"].index(step) if step in self.preset["steps"]
                                                     else len(self.preset["steps"]), step))

    def last_good(self):
        good = [s for s in self.state["steps"].values() if s.get("status") == "passed" and s.get("folder")]
        return max(good, key=lambda s: s["order"])["folder"] if good else self.state["teacher"]

    def teacher_train_logits(self):
        if self._teacher_train_logits is None:
            self._teacher_train_logits = torch.from_numpy(
                evaluate.torch_logits(self.teacher, self.train_data)).float()
        return self._teacher_train_logits

    def score(self, folder):
        """minibert's metrics for `folder` on eval, against the teacher's."""
        logits = evaluate.minibert_logits(folder, self.eval_data, self.infer, threads=self.a.threads)
        t = self.state["teacher_metrics"]
        m = evaluate.metrics(logits, self.eval_data.labels.numpy(), self._teacher_eval_logits)
        m["loss_points"] = round(100.0 * (t["accuracy"] - m["accuracy"]), 3)
        m["file_bytes"] = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        return m

    def gated(self, step, folder, extra=None):
        m = self.score(folder)
        rec = {"folder": folder, "metrics": m, **(extra or {})}
        self.log("%s: accuracy %.4f (teacher %.4f), loss %.2f points (gate %.2f), agreement %.4f, cosine %.4f"
                 % (step, m["accuracy"], self.state["teacher_metrics"]["accuracy"], m["loss_points"], self.gate,
                    m["agreement"], m["cosine"]))
        if m["loss_points"] > self.gate:
            rec["status"] = "failed"
            rec["why"] = ("accuracy loss %.2f points against the teacher exceeds the %s gate of %.2f points"
                          % (m["loss_points"], self.a.preset, self.gate))
            return rec
        rec["status"] = "passed"
        return rec

    def kd_loss_fn(self, alpha=None):
        tl = self.teacher_train_logits()
        alpha = self.a.alpha if alpha is None else alpha

        def loss(student, batch):
            ids, mask, labels, rows = batch
            logits = student(ids, mask)["logits"]
            return alpha * distill.kd_loss(logits, tl[rows], self.a.temperature) + \
                (1 - alpha) * F.cross_entropy(logits, labels)
        return loss

    # ---- steps ---------------------------------------------------------------------------
    def step_baseline(self, folder):
        # The teacher itself, run by minibert: its accuracy is what every gate subtracts from.
        self.log("baseline: teacher %s, %d parameters" % (self.a.teacher, M.parameter_count(self.teacher)))
        return {"status": "passed", "folder": None, "metrics": self.state["teacher_metrics"],
                "note": "teacher scored by minibert (fp32); no new folder"}

    def step_fp16(self, folder):
        quant.convert(self.last_good(), folder, "fp16", log=self.log)
        return self.gated("fp16", folder)

    def step_distil(self, folder):
        student = distill.student_from_teacher(self.teacher)
        for p in student.parameters():
            p.requires_grad_(True)
        self.log("distil: %d-layer student from teacher layers %s, %d parameters"
                 % (len(student.layers), list(range(0, len(self.teacher.layers), 2)), M.parameter_count(student)))
        train.fit(student, self.train_data, self.a.epochs, self.a.lr, self.kd_loss_fn(), "distil",
                  self.a.batch_size, self.a.seed, log=self.log)
        M.save(student, folder, self.a.teacher)
        return self.gated("distil", folder, {"parameters": M.parameter_count(student)})

    def search_grid(self):
        t = self.teacher.config
        H, L = t["hidden_size"], t["num_hidden_layers"]
        grid = []
        for layers in sorted({min(4, L), max(1, min(4, L) // 2)}, reverse=True):
            for hidden in (H // 2, H // 4):
                heads = max(1, min(t["num_attention_heads"], hidden // 32))
                while hidden % heads:
                    heads -= 1
                grid.append((layers, hidden, heads, 2 * hidden))
        return grid

    def step_search(self, folder):
        if self.a.student != "auto":
            shape = [int(x) for x in self.a.student.split(",")]
            return {"status": "passed", "folder": None, "student": shape, "note": "given by --student"}
        grid = self.search_grid()
        n = len(self.train_data)
        held = max(1, n // 20)                    # the last 5% of train: selection never sees eval
        fit_data = D.Dataset(self.train_data.ids[:n - held], self.train_data.labels[:n - held].tolist())
        held_data = D.Dataset(self.train_data.ids[n - held:], self.train_data.labels[n - held:].tolist())
        tl_all = self.teacher_train_logits()
        budget = self.a.search_budget / len(grid)
        results = []
        for shape in grid:
            student = distill.narrow_student(self.teacher, *shape)
            t0 = time.time()
            tl = tl_all[:n - held]

            def loss(s, batch):
                ids, mask, labels, rows = batch
                return distill.kd_loss(s(ids, mask)["logits"], tl[rows], self.a.temperature)
            train.fit(student, fit_data, 1, self.a.lr, loss, "search %s" % (shape,), self.a.batch_size,
                      self.a.seed, time_budget=budget, log=self.log)
            acc = evaluate.metrics(evaluate.torch_logits(student, held_data), held_data.labels.numpy())["accuracy"]
            results.append({"shape": list(shape), "parameters": M.parameter_count(student),
                            "held_out_accuracy": acc, "seconds": round(time.time() - t0, 1)})
            self.log("search: %s -> held-out train accuracy %.4f, %d parameters"
                     % (shape, acc, M.parameter_count(student)))
        # The smallest shape within 1 point of the best held-out accuracy: the course's aim is size.
        best = max(r["held_out_accuracy"] for r in results)
        pick = min((r for r in results if r["held_out_accuracy"] >= best - 0.01), key=lambda r: r["parameters"])
        self.log("search: picked %s (grid of %d, %.0f s budget each)" % (pick["shape"], len(grid), budget))
        return {"status": "passed", "folder": None, "student": pick["shape"], "grid": results,
                "note": "architecture search: a grid over depth and width, each trained for at most %.0f s" % budget}

    def step_tinybert(self, folder):
        shape = self.state["steps"]["search"]["student"]
        student = distill.narrow_student(self.teacher, *shape)
        Ht = self.teacher.config["hidden_size"]
        proj = torch.nn.Linear(shape[1], Ht)
        lmap = distill.layer_map(len(student.layers), len(self.teacher.layers))
        self.log("tinybert: student %s, %d parameters; layer map %s" % (shape, M.parameter_count(student), lmap))

        def stage1(s, batch):
            ids, mask, _, _ = batch
            with torch.no_grad():
                t = self.teacher(ids, mask)
            o = s(ids, mask)
            loss = distill.hidden_mse(o["hidden"][0], t["hidden"][0], mask, proj)
            for i, j in enumerate(lmap):
                loss = loss + distill.hidden_mse(o["hidden"][i + 1], t["hidden"][j + 1], mask, proj)
                loss = loss + distill.attention_mse(o["attentions"][i], t["attentions"][j], mask)
            return loss
        train.fit(student, self.train_data, self.a.stage1_epochs, self.a.lr, stage1, "tinybert stage 1",
                  self.a.batch_size, self.a.seed, extra_params=proj.parameters(), log=self.log)
        train.fit(student, self.train_data, self.a.epochs, self.a.lr, self.kd_loss_fn(alpha=1.0),
                  "tinybert stage 2", self.a.batch_size, self.a.seed + 1, log=self.log)
        M.save(student, folder, self.a.teacher)
        return self.gated("tinybert", folder, {"parameters": M.parameter_count(student)})

    def step_prune(self, folder):
        src = self.last_good()
        student = M.load(src)
        rows = min(self.a.importance_rows, len(self.train_data))
        heads, ffn = prune.importance(student, self.train_data.batches(self.a.batch_size, limit=rows),
                                      self.teacher_train_logits(), self.a.temperature)
        remove_h = prune.select(heads, self.a.prune_heads)
        remove_f = prune.select(ffn, self.a.prune_ffn)
        before = M.parameter_count(student)
        prune.prune_heads(student, remove_h)
        prune.prune_ffn(student, remove_f)
        self.log("prune: removed heads %s and %d FFN neurons (importance on %d train rows): %d -> %d parameters"
                 % (remove_h, sum(len(v) for v in remove_f.values()), rows, before, M.parameter_count(student)))
        if self.a.recover_epochs:
            train.fit(student, self.train_data, self.a.recover_epochs, self.a.lr / 3, self.kd_loss_fn(alpha=1.0),
                      "prune recovery", self.a.batch_size, self.a.seed + 2, log=self.log)
        M.save(student, folder, self.a.teacher)
        return self.gated("prune", folder, {"parameters": M.parameter_count(student), "removed_heads": remove_h})

    def calibration_file(self):
        path = os.path.join(self.a.out, "calibration.txt")
        with open(path, "w", encoding="utf-8") as f:
            for s in self.train_text[:self.a.calibration_rows]:
                f.write(s.strip() + "\n")
        return path

    def step_int8(self, folder):
        src = self.last_good()
        quant.convert(src, folder, "int8", self.calibration_file(), self.a.tokenizer_bin, log=self.log)
        rec = self.gated("int8", folder)
        if rec["status"] == "passed" or self.a.preset != "aggressive":
            return rec
        self.log("int8 broke the gate (%s); quantisation-aware fine-tuning" % rec["why"])
        student = M.load(src)
        hooks = quant.enable_fake_quant(student)
        train.fit(student, self.train_data, max(1, self.a.recover_epochs), self.a.lr / 3, self.kd_loss_fn(alpha=1.0),
                  "qat", self.a.batch_size, self.a.seed + 3, log=self.log)
        quant.disable_fake_quant(hooks)
        qat_float = folder + "-qat-fp32"
        M.save(student, qat_float, self.a.teacher)
        quant.convert(qat_float, folder, "int8", self.calibration_file(), self.a.tokenizer_bin, log=self.log)
        rec = self.gated("int8 after qat", folder, {"qat": True, "first_try": rec["metrics"]})
        return rec

    # ---- driver --------------------------------------------------------------------------
    def run(self):
        if "teacher_metrics" not in self.state:
            self._teacher_eval_logits = evaluate.minibert_logits(self.a.teacher, self.eval_data, self.infer,
                                                                 threads=self.a.threads, dtype="fp32")
            self.state["teacher_metrics"] = evaluate.metrics(self._teacher_eval_logits, self.eval_data.labels.numpy())
            self.state["teacher_metrics"]["parameters"] = M.parameter_count(self.teacher)
            self.save_state()
        else:
            self._teacher_eval_logits = evaluate.minibert_logits(self.a.teacher, self.eval_data, self.infer,
                                                                 threads=self.a.threads, dtype="fp32")
        t_all = time.time()
        for order, step in enumerate(self.preset["steps"]):
            rec = self.state["steps"].get(step)
            if rec and rec.get("status") == "passed" and (rec.get("folder") is None or os.path.isdir(rec["folder"])):
                self.log("%s: done in an earlier run, skipped" % step)
                continue
            folder = self.folder(step)
            t0 = time.time()
            rec = getattr(self, "step_" + step)(folder)
            rec["order"] = order
            rec["wall_s"] = round(time.time() - t0, 1)
            self.state["steps"][step] = rec
            self.save_state()
            if rec["status"] != "passed":
                self.finish("stopped at %s: %s" % (step, rec["why"]))
                return 1
        self.state["wall_s_this_run"] = round(time.time() - t_all, 1)
        self.finish("all %d steps passed" % len(self.preset["steps"]))
        return 0

    def finish(self, outcome):
        good = self.last_good()
        final = os.path.join(self.a.out, "final")
        if os.path.isdir(final):
            shutil.rmtree(final)
        shutil.copytree(good, final)
        self.state["outcome"] = outcome
        self.state["final_from"] = good
        self.save_state()
        self.log("%s; final model: %s (a copy of %s)" % (outcome, final, good))


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        return Pipeline(args).run()
    except (M.ModelError, FileNotFoundError, quant.convert_weights.ConvertError, RuntimeError, ValueError) as e:
        print("optimize.py: error: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
