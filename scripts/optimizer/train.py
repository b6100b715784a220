"""The one training loop every distillation / recovery step uses: AdamW, linear warm-up and
decay, gradient clipping, seeded batch order, a tqdm bar, and an optional wall-time budget."""

import math
import time

import torch
from tqdm import tqdm


def fit(student, data, epochs, lr, loss_fn, desc="train", batch_size=32, seed=1, extra_params=(),
        time_budget=None, limit=None, weight_decay=0.01, warmup=0.06, log=print):
    """loss_fn(student, (ids, mask, labels, rows)) -> scalar loss. Returns the mean loss of the
    last epoch. Stops early (and says so) when time_budget seconds have passed."""
    gen = torch.Generator().manual_seed(seed)
    params = [p for p in student.parameters() if p.requires_grad] + list(extra_params)
    steps = max(1, epochs * math.ceil((len(data) if limit is None else min(limit, len(data))) / batch_size))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    warm = max(1, int(steps * warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm)))
    t0, mean = time.time(), float("nan")
    for ep in range(epochs):
        student.train()
        total, n = 0.0, 0
        bar = tqdm(data.batches(batch_size, gen, limit), desc="%s %d/%d" % (desc, ep + 1, epochs), leave=False)
        for batch in bar:
            loss = loss_fn(student, batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            total, n = total + float(loss), n + 1
            bar.set_postfix(loss="%.4f" % (total / n))
            if time_budget is not None and time.time() - t0 > time_budget:
                log("%s: stopped at the time budget (%.0f s) in epoch %d" % (desc, time_budget, ep + 1))
                return total / max(n, 1)
        mean = total / max(n, 1)
        log("%s epoch %d/%d: mean loss %.4f (%.0f s)" % (desc, ep + 1, epochs, mean, time.time() - t0))
    return mean
