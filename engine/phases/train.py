"""The train phase: fine-tune under a budget of steps, seconds or joules, AdamW with linear warm-up."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

from engine import tasks
from engine.meters.energy import WindowTooShort, energy_record
from engine.meters.memory import PeakMemory
from engine.phases.context import PhaseContext, close_padded
from engine.record import PhaseResult
from engine.tasks.example import Example

WARMUP_FRACTION = 0.1
ESTIMATE_AFTER = 3  # steps before a seconds or joules budget is turned into a step count


def example_stream(config, batch_size: int) -> Iterator[list[Example]]:
    """Endless training batches: fresh synthetic documents, or the SCROLLS train split cycled."""
    if config.task.startswith("synthetic"):
        for i in itertools.count():
            yield tasks.load(config.task, "train", batch_size, seed=config.seed * 1_000_003 + i)
    data = tasks.load(config.task, "train", 10_000, seed=config.seed)
    cyc = itertools.cycle(data)
    while True:
        yield [next(cyc) for _ in range(batch_size)]


def make_optimizer(model, lr: float):
    import torch

    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.001)


def train_step(ctx: PhaseContext, model, optimizer, examples: list[Example]) -> float:
    """One forward, backward and optimizer step; returns the loss."""
    import torch

    batch = ctx.encode(examples)
    loss = model(**batch).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss.item()


class _LinearWarmup:
    """Linear warm-up over the first 10% of steps, then linear decay to zero; the total may be revised."""

    def __init__(self, total: int) -> None:
        self.total = max(1, total)

    def __call__(self, step: int) -> float:
        warm = max(1, int(self.total * WARMUP_FRACTION))
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (self.total - step) / max(1, self.total - warm))


def run(ctx: PhaseContext) -> PhaseResult:
    import torch

    c = ctx.config
    model = ctx.model
    model.train()
    optimizer = make_optimizer(model, c.lr)
    shape = _LinearWarmup(int(c.budget.value) if c.budget.kind == "steps" else 10**9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, shape)
    stream = example_stream(c, ctx.batch_size)
    losses: list[float] = []
    with PeakMemory(c.device) as mem:
        ctx.sync()
        token = ctx.meter.begin()
        t0 = time.perf_counter()
        while True:
            losses.append(train_step(ctx, model, optimizer, next(stream)))
            scheduler.step()
            steps = len(losses)
            spent = _spent(ctx, token, steps, time.perf_counter() - t0)
            if c.budget.kind != "steps" and steps == ESTIMATE_AFTER:
                shape.total = max(steps, int(c.budget.value / max(spent, 1e-9) * steps))
            if spent >= c.budget.value:
                break
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
            "samples": len(losses) * ctx.batch_size,
            "final_loss": sum(tail) / len(tail),
            "first_loss": losses[0],
            "samples_per_s": len(losses) * ctx.batch_size / seconds,
        },
    )


def _spent(ctx: PhaseContext, token, steps: int, elapsed: float) -> float:
    """How much of the budget is used, in the budget's own unit."""
    kind = ctx.config.budget.kind
    if kind == "seconds":
        return elapsed
    if kind == "joules":
        try:
            return ctx.meter.end(token)[0]
        except WindowTooShort:
            return 0.0
    return float(steps)
