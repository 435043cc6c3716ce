"""Wall-clock timing of a repeated callable: warm-up, then a window of at least N reps and T seconds."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from engine.meters.energy import EnergyMeter, WindowTooShort
from engine.record import Timing

Clock = Callable[[], float]


def _loop(
    fn: Callable[[], object],
    min_reps: int,
    min_window_s: float,
    max_window_s: float,
    sync: Callable[[], object] | None,
    clock: Clock,
) -> tuple[list[float], float]:
    """Repeat fn until both min_reps and min_window_s have passed, or max_window_s.

    The caller has synchronised the device before calling. Each repetition is timed from the previous
    timestamp, so one clock read per repetition; sync() after fn keeps that exact on an async device.
    """
    times: list[float] = []
    append = times.append
    start = prev = clock()
    while True:
        fn()
        if sync is not None:
            sync()
        now = clock()
        append(now - prev)
        prev = now
        elapsed = now - start
        if (len(times) >= min_reps and elapsed >= min_window_s) or elapsed >= max_window_s:
            return times, elapsed


def summarise(times: list[float], window_s: float) -> Timing:
    """Median, p10, p90 and sample standard deviation (ddof=1; 0 for one repetition)."""
    a = np.asarray(times, dtype=float)
    p10, p50, p90 = np.percentile(a, [10, 50, 90])
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return Timing(float(p50), float(p10), float(p90), std, int(a.size), float(window_s))


def _warm(fn: Callable[[], object], warmup: int, sync: Callable[[], object] | None) -> None:
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()


def measure(
    fn: Callable[[], object],
    *,
    warmup: int = 2,
    min_reps: int = 5,
    min_window_s: float = 1.0,
    max_window_s: float = 60.0,
    sync: Callable[[], object] | None = None,
    clock: Clock = time.perf_counter,
) -> tuple[Timing, list[float]]:
    """Time fn: `warmup` untimed calls, then repeat until min_reps AND min_window_s (cap max_window_s).

    sync (e.g. torch.cuda.synchronize) runs before the window opens and after every repetition.
    Returns the summary and the per-repetition seconds.
    """
    if min_reps < 1:
        raise ValueError("min_reps must be at least 1")
    _warm(fn, warmup, sync)
    times, window = _loop(fn, min_reps, min_window_s, max_window_s, sync, clock)
    return summarise(times, window), times


def measure_energy(
    fn: Callable[[], object],
    meter: EnergyMeter,
    *,
    warmup: int = 2,
    min_reps: int = 5,
    min_window_s: float = 1.0,
    max_window_s: float = 60.0,
    sync: Callable[[], object] | None = None,
) -> tuple[Timing, list[float], float, float]:
    """Like measure(), with an energy window around the timed loop (warm-up excluded).

    The window is at least meter.min_window_s; a window the meter rejects (WindowTooShort, e.g. an
    NVML counter that has not ticked) is repeated twice as long, up to max_window_s. Returns
    (timing, per-rep seconds, joules, seconds) for the whole window: divide by timing.repetitions
    for the energy of one call.
    """
    if min_reps < 1:
        raise ValueError("min_reps must be at least 1")
    _warm(fn, warmup, sync)
    window = max(min_window_s, meter.min_window_s)
    while True:
        token = meter.begin()
        times, elapsed = _loop(fn, min_reps, window, max(max_window_s, window), sync, time.perf_counter)
        try:
            joules, seconds = meter.end(token)
        except WindowTooShort:
            if window >= max_window_s:
                raise
            window = min(max(2 * window, 2 * elapsed), max_window_s)
            continue
        return summarise(times, elapsed), times, joules, seconds
