"""The one training loop every distillation / recovery step (and scripts/train_teacher.py) uses:
AdamW, linear warm-up and decay, gradient clipping, seeded batch order, a tqdm bar, an optional
wall-time budget, and optional checkpoints so that an interrupted run resumes where it stopped.

A checkpoint (written atomically: a temporary file, then rename) holds the model's and the extra
parameters' values, the optimizer and scheduler state, the epoch and the number of batches done
in it, the batch-order generator's state at the start of that epoch, torch's global RNG state
(dropout), the running loss sums and the training seconds spent so far. Resuming regenerates the
epoch's batch order from the saved generator state, skips the batches already done and restores
the RNG, so a resumed run takes the same batches in the same order as an uninterrupted one."""

import math
import os
import time

import torch
from tqdm import tqdm


def _save_checkpoint(path, student, extra, opt, sched, pos, log=None):
    state = {"model": student.state_dict(), "extra": [p.detach().clone() for p in extra],
             "opt": opt.state_dict(), "sched": sched.state_dict(), "torch_rng": torch.get_rng_state(), **pos}
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)
    if log:
        log("checkpoint: epoch %d, %d batches done, %.0f s trained -> %s"
            % (pos["epoch"] + 1, pos["done"], pos["elapsed"], path))


def fit(student, data, epochs, lr, loss_fn, desc="train", batch_size=32, seed=1, extra_params=(),
        time_budget=None, limit=None, weight_decay=0.01, warmup=0.06, log=print,
        checkpoint=None, checkpoint_every=600.0, schedule_by_time=False, clock=time.time):
    """loss_fn(student, (ids, mask, labels, rows)) -> scalar loss. Returns the mean loss of the
    last epoch. Stops early (and says so) when time_budget seconds of training have passed.

    checkpoint: a file path; written every checkpoint_every seconds and at the end (also when
    the budget stops the run). When it exists at the start, training resumes from it; the time
    budget counts the seconds of every run together. schedule_by_time (needs time_budget): the
    learning-rate decay follows max(step fraction, time fraction), so a run that the budget
    stops has still decayed to 0 rather than being cut at a high rate. clock: what the budget
    counts (time.time: wall seconds; time.process_time: this process's CPU seconds, for
    comparing settings fairly on a shared host)."""
    gen = torch.Generator().manual_seed(seed)
    extra = list(extra_params)
    params = [p for p in student.parameters() if p.requires_grad] + extra
    steps = max(1, epochs * math.ceil((len(data) if limit is None else min(limit, len(data))) / batch_size))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    warm = max(1, int(steps * warmup))
    spent = {"elapsed": 0.0, "since": clock()}  # budget seconds of earlier runs; when this one began

    def trained():
        return spent["elapsed"] + clock() - spent["since"]

    def factor(s):
        if s < warm:
            return (s + 1) / warm
        frac = (s - warm) / max(1, steps - warm)
        if schedule_by_time and time_budget:
            frac = max(frac, trained() / time_budget)
        return max(0.0, 1.0 - frac)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    start_epoch, skip, totals = 0, 0, (0.0, 0)
    epoch_gen_state = None
    if checkpoint and os.path.exists(checkpoint):
        ck = torch.load(checkpoint)
        student.load_state_dict(ck["model"])
        with torch.no_grad():
            for p, v in zip(extra, ck["extra"]):
                p.copy_(v)
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        start_epoch, skip, totals = ck["epoch"], ck["done"], (ck["total"], ck["n"])
        epoch_gen_state = ck["gen"]
        spent["elapsed"] = ck["elapsed"]
        torch.set_rng_state(ck["torch_rng"])
        log("%s: resumed from %s (epoch %d, %d batches done, %.0f s trained)"
            % (desc, checkpoint, start_epoch + 1, skip, ck["elapsed"]))
        if ck.get("finished"):
            log("%s: the checkpoint is of a finished run" % desc)
            return ck.get("mean", float("nan"))
    spent["since"] = clock()
    last_ck, mean = time.time(), float("nan")

    def position(ep, done, total, n, gstate, **more):
        return {"epoch": ep, "done": done, "total": total, "n": n, "gen": gstate, "elapsed": trained(), **more}

    for ep in range(start_epoch, epochs):
        student.train()
        if epoch_gen_state is not None:
            gen.set_state(epoch_gen_state)
        gstate = gen.get_state()
        batches = data.batches(batch_size, gen, limit)
        total, n = totals if ep == start_epoch else (0.0, 0)
        done = skip if ep == start_epoch else 0
        bar = tqdm(batches[done:], desc="%s %d/%d" % (desc, ep + 1, epochs), leave=False,
                   total=len(batches), initial=done)
        for batch in bar:
            loss = loss_fn(student, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total, n, done = total + float(loss), n + 1, done + 1
            bar.set_postfix(loss="%.4f" % (total / n))
            if time_budget is not None and trained() > time_budget:
                bar.close()
                log("%s: stopped at the time budget (%.0f s) in epoch %d, batch %d of %d"
                    % (desc, time_budget, ep + 1, done, len(batches)))
                if checkpoint:
                    _save_checkpoint(checkpoint, student, extra, opt, sched,
                                     position(ep, done, total, n, gstate, finished=True, mean=total / max(n, 1)),
                                     log)
                return total / max(n, 1)
            if checkpoint and time.time() - last_ck > checkpoint_every:
                _save_checkpoint(checkpoint, student, extra, opt, sched, position(ep, done, total, n, gstate), log)
                last_ck = time.time()
        mean = total / max(n, 1)
        epoch_gen_state = None
        log("%s epoch %d/%d: mean loss %.4f (%.0f s trained)" % (desc, ep + 1, epochs, mean, trained()))
        if checkpoint:
            # The start of the next epoch: its batch order comes from gen's state now.
            _save_checkpoint(checkpoint, student, extra, opt, sched,
                             position(ep + 1, 0, 0.0, 0, gen.get_state(), finished=ep + 1 == epochs, mean=mean),
                             None if ep + 1 < epochs else log)
    return mean
