"""What every phase of one configuration shares: the model, the meters, the device, the training rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

from engine.batching import encode
from engine.config import RunConfig
from engine.meters.energy import EnergyMeter, WindowTooShort
from engine.meters.memory import PeakMemory

METERED_MAX_S = 120.0  # a window the meter still reads nothing over is given up


class MeterSilent(RuntimeError):
    """The energy meter read nothing over a long window: its source is broken, not slow."""


@dataclass
class PhaseContext:
    config: RunConfig
    model: object
    tokenizer: object
    meter: EnergyMeter
    idle_w: float
    batch_size: int
    base_mb: float = 0.0  # on the CPU: the heap the process held besides the weights, once built

    def sync(self) -> None:
        """Wait for the device; a no-op on the CPU."""
        if self.config.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize(self.config.device)

    @property
    def sync_fn(self):
        return self.sync if self.config.device.startswith("cuda") else None

    def encode(self, examples, *, with_labels: bool = True, device: str | None = None) -> dict:
        """Model inputs for examples at this configuration's length and task, on `device` (default
        the configuration's)."""
        c = self.config
        return encode(
            self.tokenizer,
            examples,
            input_len=c.input_len,
            target_len=c.gen_tokens,
            family=c.family,
            task=c.task,
            device=device or c.device,
            with_labels=with_labels,
        )

    @cached_property
    def train_set(self):
        """The training rows, tokenised once for the batch search and the train phase."""
        from engine.phases.train import TrainSet

        return TrainSet(self)


def metered(ctx: PhaseContext, fn, *, max_s: float = METERED_MAX_S):
    """Run fn inside an energy window, repeating it until the meter accepts the window.

    Returns (fn's first result, joules per run, seconds per run): a window shorter than the source's
    update period is repeated until long enough, never reported as zero. A meter that still reads
    nothing after `max_s` raises MeterSilent.
    """
    ctx.sync()
    token = ctx.meter.begin()
    t0 = time.perf_counter()
    result, runs = fn(), 1
    while True:
        ctx.sync()
        try:
            joules, seconds = ctx.meter.end(token)
        except WindowTooShort as exc:
            if time.perf_counter() - t0 > max_s:
                raise MeterSilent(
                    f"{ctx.meter.source} read no energy over {runs} runs ({time.perf_counter() - t0:.0f} s): "
                    f"the source is not working ({exc})"
                ) from None
            fn()
            runs += 1
            continue
        return result, joules / runs, seconds / runs


def close_padded(ctx: PhaseContext, token, busy_s: float) -> float:
    """Joules of a window that cannot be repeated (a training run) and lasted busy_s seconds.

    A window shorter than the source resolves is padded with idle time until the meter accepts
    it, and the idle energy of the pad is taken back out.
    """
    pad = max(ctx.meter.min_window_s - busy_s, 0.0)
    for _ in range(6):
        time.sleep(pad)
        try:
            joules, seconds = ctx.meter.end(token)
        except WindowTooShort:
            pad = max(pad * 2, 0.05)
            continue
        return max(joules - ctx.idle_w * (seconds - busy_s), 0.0) if seconds > busy_s else joules
    return ctx.meter.end(token)[0]  # raises WindowTooShort: the source reads nothing at all


def counted_mb(ctx: PhaseContext, mem: PeakMemory) -> float:
    """A window's peak as the budget counts it: what torch allocated on a GPU; on the CPU the heap
    above what the built process held besides the weights."""
    return mem.heap_mb - ctx.base_mb
