"""The train phase: fine-tune under a budget of steps, seconds or joules, as the study did.

The optimizer is the configuration's (by default the study's: AdamW, betas 0.9/0.98, eps 1e-6,
weight decay 0.001); the learning rate warms up linearly over the first 10% of the budget and
decays linearly to zero at its end, the horizon following the fraction of the budget spent (steps,
seconds or joules), so a slow start does not end the schedule early. The training rows are
tokenised once, before the timed window (`TrainSet`). float16 and bfloat16 train as mixed
precision: float32 weights, autocast, and a gradient scaler for float16.
"""

from __future__ import annotations

import time
from contextlib import nullcontext

from engine import tasks
from engine.meters.energy import energy_record
from engine.meters.memory import PeakMemory
from engine.models import HALF
from engine.phases.context import PhaseContext, close_padded, counted_mb
from engine.record import PhaseResult

WARMUP_FRACTION = 0.1
ENCODE_CHUNK = 256  # rows tokenised at once


class TrainSet:
    """A task's training rows tokenised once (before any timed window), kept on the host.

    Batches walk through the rows in epochs, each in an order shuffled by the seed. SCROLLS rows
    are the train split shuffled by the seed (at most tasks.TRAIN_ROWS); synthetic ones are fresh
    documents, as many as a steps budget at a fixed batch needs, else tasks.SYNTHETIC_TRAIN.
    """

    def __init__(self, ctx: PhaseContext) -> None:
        import torch

        c = ctx.config
        t0 = time.perf_counter()
        if c.task.startswith("synthetic"):
            n = tasks.SYNTHETIC_TRAIN
            if c.budget.kind == "steps" and isinstance(c.batch_size, int):
                n = min(n, int(c.budget.value) * c.batch_size)
        else:
            n = tasks.TRAIN_ROWS
        examples = tasks.train_examples(c.task, n, c.seed, c.data_path)
        if not examples:
            raise ValueError(f"task {c.task!r} has no training rows")
        chunks = [
            ctx.encode(examples[i : i + ENCODE_CHUNK], device="cpu")
            for i in range(0, len(examples), ENCODE_CHUNK)
        ]
        narrow = {"input_ids": torch.int32, "labels": torch.int32}
        self.rows = {k: torch.cat([ch[k] for ch in chunks]).to(narrow.get(k, torch.int8)) for k in chunks[0]}
        self.size = len(examples)
        self.seed = c.seed
        self.device = c.device
        self.tokenise_s = time.perf_counter() - t0
        self._orders: dict[int, object] = {}

    def _order(self, epoch: int):
        import torch

        order = self._orders.pop(epoch, None)
        if order is None:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            order = torch.randperm(self.size, generator=g).tolist()
        self._orders[epoch] = order  # the most recently used last: the two newest are kept
        if len(self._orders) > 2:
            del self._orders[next(iter(self._orders))]
        return order

    def batch(self, step: int, batch_size: int) -> dict:
        """The model inputs of a step, on the device."""
        import torch

        start = step * batch_size
        index = torch.tensor(
            [self._order(p // self.size)[p % self.size] for p in range(start, start + batch_size)]
        )
        return {k: v[index].long().to(self.device) for k, v in self.rows.items()}


def make_optimizer(model, config, lr: float):
    import torch

    opt = config.optimizer
    cls = torch.optim.AdamW if opt.name == "adamw" else torch.optim.Adam
    return cls(model.parameters(), lr=lr, betas=opt.betas, eps=opt.eps, weight_decay=opt.weight_decay)


class Stepper:
    """Forward, backward and optimizer steps in the configuration's precision."""

    def __init__(self, ctx: PhaseContext, lr: float) -> None:
        import torch

        c = ctx.config
        self.model = ctx.model
        self.optimizer = make_optimizer(ctx.model, c, lr)
        device_type = c.device.split(":")[0]
        self.autocast = (
            (lambda: torch.autocast(device_type, dtype=getattr(torch, c.dtype)))
            if c.dtype in HALF
            else nullcontext
        )
        self.scaler = torch.amp.GradScaler(device_type, enabled=c.dtype == "float16")

    def step(self, batch: dict) -> float:
        """One optimiser step on a batch; returns the loss."""
        import torch

        with self.autocast():
            loss = self.model(**batch).loss
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.item()


def lr_factor(progress: float) -> float:
    """The learning rate's share of its peak at a fraction of the budget spent: linear warm-up over
    the first WARMUP_FRACTION, then linear decay to zero at the end."""
    if progress < WARMUP_FRACTION:
        return progress / WARMUP_FRACTION
    return max(0.0, (1.0 - progress) / (1.0 - WARMUP_FRACTION))


def run(ctx: PhaseContext) -> PhaseResult:
    c = ctx.config
    model = ctx.model
    model.train()
    data = ctx.train_set
    stepper = Stepper(ctx, c.lr)
    losses: list[float] = []
    with PeakMemory(c.device) as mem:
        ctx.sync()
        token = ctx.meter.begin()
        t0 = time.perf_counter()
        spent = 0.0
        while spent < c.budget.value:
            for group in stepper.optimizer.param_groups:
                group["lr"] = c.lr * lr_factor(spent / c.budget.value)
            losses.append(stepper.step(data.batch(len(losses), ctx.batch_size)))
            spent = _spent(ctx, token, len(losses), time.perf_counter() - t0)
        ctx.sync()
        seconds = time.perf_counter() - t0
        joules = close_padded(ctx, token, seconds)
    energy = energy_record(joules, seconds, ctx.meter.source, ctx.idle_w)
    tail = losses[-max(1, len(losses) // 10) :]
    return PhaseResult(
        phase="train",
        seconds=seconds,
        energy=energy,
        peak_memory_mb=mem.peak_mb,
        figures={
            "steps": len(losses),
            "budget_memory_mb": counted_mb(ctx, mem),  # the peak as a memory budget counts it
            "samples": len(losses) * ctx.batch_size,
            "final_loss": sum(tail) / len(tail),
            "first_loss": losses[0],
            "samples_per_s": len(losses) * ctx.batch_size / seconds,
            "tokenise_s": data.tokenise_s,
            "train_rows": data.size,
        },
    )


def _spent(ctx: PhaseContext, token, steps: int, elapsed: float) -> float:
    """How much of the budget is used, in the budget's own unit."""
    kind = ctx.config.budget.kind
    if kind == "seconds":
        return elapsed
    if kind == "joules":
        return ctx.meter.read(token)
    return float(steps)
