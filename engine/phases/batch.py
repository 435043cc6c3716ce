"""batch_size "auto": the largest batch whose training step fits the memory budget, found by trying."""

from __future__ import annotations

from engine.meters.memory import PeakMemory
from engine.phases.context import PhaseContext
from engine.phases.train import example_stream, make_optimizer, train_step

MAX_BATCH = 256


def memory_budget_mb(ctx: PhaseContext) -> float:
    """The configured budget, or what the device has: free GPU memory, or 80% of available host memory."""
    if ctx.config.memory_budget_gb:
        return ctx.config.memory_budget_gb * 1024
    if ctx.config.device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info()
        return free / 2**20
    import psutil

    return 0.8 * psutil.virtual_memory().available / 2**20


def fits(ctx: PhaseContext, batch_size: int, budget_mb: float) -> bool:
    """One real training step (optimizer state included, learning rate 0) within the budget."""
    import torch

    model = ctx.model
    optimizer = make_optimizer(model, lr=0.0)
    model.train()
    try:
        with PeakMemory(ctx.config.device) as mem:
            train_step(ctx, model, optimizer, next(example_stream(ctx.config, batch_size)))
    except torch.OutOfMemoryError:
        return False
    finally:
        optimizer.zero_grad(set_to_none=True)
        del optimizer
        if ctx.config.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return mem.peak_mb <= budget_mb


def resolve_batch_size(ctx: PhaseContext) -> int:
    """Double until a step no longer fits, then bisect between the last fit and the first miss."""
    budget = memory_budget_mb(ctx)
    if not fits(ctx, 1, budget):
        raise MemoryError(f"batch size 1 does not fit the memory budget of {budget:.0f} MB")
    lo, hi = 1, None
    while hi is None and lo < MAX_BATCH:
        if fits(ctx, 2 * lo, budget):
            lo *= 2
        else:
            hi = 2 * lo
    if hi is None:
        return lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(ctx, mid, budget) else (lo, mid)
    return lo
