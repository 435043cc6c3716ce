"""batch_size "auto": the largest batch whose training step fits the memory budget, found by trying.

The peak of a real step counts the weights once, with the activations, gradients and optimizer
state: on a GPU every tensor allocated, on the CPU the heap (engine.meters.memory) above what the
process held besides the weights once the model was built (the libraries' objects, which a GPU's
allocator does not count either, and which vary with what was imported before). It is
compared with the configured budget (the study's GPU, say), or with what the device holds for this
process plus what is free. The training rows are tokenised once (PhaseContext.train_set) and shared
with the train phase. On a GPU the peak is what torch allocated: the caching allocator's slack and
the CUDA context (about a GB) are not counted, so a batch at the very edge of a 48 GB budget may not
have fitted on the study's 48 GB card.
"""

from __future__ import annotations

from engine.meters.memory import PeakMemory
from engine.phases.context import PhaseContext, counted_mb
from engine.phases.train import Stepper

MAX_BATCH = 256


def memory_budget_mb(ctx: PhaseContext) -> float:
    """The configured budget, or what the device has: this process's GPU memory plus the free memory,
    or the model's heap plus 80% of the host memory available."""
    if ctx.config.memory_budget_gb:
        return ctx.config.memory_budget_gb * 1024
    if ctx.config.device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(ctx.config.device)
        return (free + torch.cuda.memory_reserved(ctx.config.device)) / 2**20
    import psutil

    from engine.meters.memory import heap_mb

    return heap_mb() - ctx.base_mb + 0.8 * psutil.virtual_memory().available / 2**20


def fits(ctx: PhaseContext, batch_size: int, budget_mb: float) -> bool:
    """One real training step (optimizer state included, learning rate 0) within the budget."""
    import torch

    ctx.model.train()
    batch = ctx.train_set.batch(0, batch_size)  # the rows are tokenised before the first window
    stepper = Stepper(ctx, lr=0.0)
    try:
        with PeakMemory(ctx.config.device) as mem:
            stepper.step(batch)
    except torch.OutOfMemoryError:
        return False
    finally:
        stepper.optimizer.zero_grad(set_to_none=True)
        del stepper, batch
        if ctx.config.device.startswith("cuda"):
            torch.cuda.empty_cache()
    return counted_mb(ctx, mem) <= budget_mb


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
