"""batch_size "auto": the batch that fits, predicted from the training-memory fit and the memory budget.

The engine (engine.phases.batch) takes the largest batch, up to MAX_BATCH, whose training step peaks
within `memory_budget_gb`, counting the peak as a budget does (on the CPU, the heap the step adds;
the fit counts the resident set: the measured rows say by how much more, counted_offset). Predicted
memory grows with the batch (every coefficient is non-negative), so the batch predicted is the
largest whose predicted peak fits; its 90% interval runs from the largest whose interval's upper end
fits to the largest whose lower end does.

A row asks for "auto" in `batch_request`; its `batch_size` is the batch resolved, None until known.
"""

from __future__ import annotations

from collections.abc import Callable

from costmodel.fit import Estimate, Fit
from costmodel.quantities import measured

MAX_BATCH = 256  # engine.phases.batch.MAX_BATCH
MB_PER_GB = 1024  # engine.phases.batch.memory_budget_mb: a budget of G GB is G * 1024 MB
MEMORY = "train_memory"  # the engine resolves "auto" by trying training steps
COUNTED = (
    "train_budget_memory_mb"  # the training peak as the budget counts it (engine.phases.context.counted_mb)
)


def is_auto(row: dict) -> bool:
    """The row asks for the batch that fits, and none is resolved yet."""
    return row.get("batch_request") == "auto" and row.get("batch_size") in (None, "")


def _largest(fits: Callable[[list[int]], list[bool]], n: int) -> list[int]:
    """Per point, the largest batch in [0, MAX_BATCH] that `fits` (monotone in the batch), by bisection."""
    lo, hi = [0] * n, [MAX_BATCH + 1] * n
    while any(h - lo_ > 1 for lo_, h in zip(lo, hi, strict=True)):
        mid = [(a + b) // 2 for a, b in zip(lo, hi, strict=True)]
        ok = fits(mid)
        lo = [m if o else a for a, m, o in zip(lo, mid, ok, strict=True)]
        hi = [b if o else m for b, m, o in zip(hi, mid, ok, strict=True)]
    return lo


def predict_batches(fit: Fit, rows: list[dict], budgets_mb: list[float]) -> list[Estimate | str]:
    """The batch each row's training step fits into its budget, or why it cannot be predicted."""
    n = len(rows)

    def bound(pick: Callable[[Estimate], float]) -> list[int]:
        def fits(batches: list[int]) -> list[bool]:
            ests = fit.estimate([{**r, "batch_size": max(b, 1)} for r, b in zip(rows, batches, strict=True)])
            return [b >= 1 and pick(e) <= m for b, e, m in zip(batches, ests, budgets_mb, strict=True)]

        return _largest(fits, n)

    value, low, high = bound(lambda e: e.value), bound(lambda e: e.high), bound(lambda e: e.low)
    out: list[Estimate | str] = []
    for row, v, lo, hi, m in zip(rows, value, low, high, budgets_mb, strict=True):
        if hi == 0:
            out.append(f"batch auto: even batch 1 is predicted to exceed the {m:.0f} MB memory budget")
            continue
        outside = fit.estimate([{**row, "batch_size": max(v, 1)}])[0].extrapolated
        out.append(Estimate(float(max(v, 1)), float(max(lo, 1)), float(hi), outside))
    return out


def budget_mb(row: dict) -> float | None:
    """The row's memory budget in MB (None: the device's memory at run time, unknown beforehand)."""
    gb = row.get("memory_budget_gb")
    return None if gb in (None, "") else float(gb) * MB_PER_GB


def counted_offset(measured_rows: list[dict]) -> float:
    """What the training-memory fit counts beyond what a memory budget counts, in MB: on a GPU
    nothing, on the CPU the process's own heap and mapped code (the peak is the resident set). The
    median over the rows that record both; 0 without such rows."""
    diffs = sorted(
        peak - counted
        for r in measured_rows
        if (peak := measured(r, MEMORY)) is not None and isinstance(counted := r.get(COUNTED), int | float)
    )
    return diffs[len(diffs) // 2] if diffs else 0.0


def learned_budget(fit: Fit, measured_rows: list[dict]) -> float | None:
    """The device's budget as measured auto rows without one met it: between the predicted peaks at
    the batch each resolved and at one more (the median of their midpoints); None without such rows."""
    done = [
        r
        for r in measured_rows
        if r.get("batch_request") == "auto"
        and isinstance(r.get("batch_size"), int)
        and budget_mb(r) is None
        and r.get("status", "ok") == "ok"
    ]
    if not done:
        return None
    at = fit.estimate(done)
    above = fit.estimate([{**r, "batch_size": r["batch_size"] + 1} for r in done])
    mids = sorted((a.value + b.value) / 2 for a, b in zip(at, above, strict=True))
    return mids[len(mids) // 2]
