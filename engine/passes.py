"""Repeated passes over a grid, combined per configuration into one record.

A shared machine (a cloud VM, a busy workstation) slows down for seconds at a time; one timing
window can land wholly inside such a spell. Measuring the grid in several interleaved passes and
keeping, per configuration, the median of its passes spreads each configuration over time, as the
randomised multiple interleaved trials of Abedi and Brecht (ICPE 2017) do. Each phase records how
many passes it holds and their spread, so the noise of the machine is shown, not hidden.
"""

from __future__ import annotations

import dataclasses
import statistics

from engine.record import Energy, PhaseResult, Record, Timing


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _timing(timings: list[Timing]) -> Timing:
    return Timing(
        median_s=_median([t.median_s for t in timings]),
        p10_s=_median([t.p10_s for t in timings]),
        p90_s=_median([t.p90_s for t in timings]),
        std_s=_median([t.std_s for t in timings]),
        repetitions=sum(t.repetitions for t in timings),
        window_s=sum(t.window_s for t in timings),
    )


def _energy(energies: list[Energy]) -> Energy:
    first = energies[0]
    return dataclasses.replace(
        first,
        joules=_median([e.joules for e in energies]),
        above_idle_j=_median([e.above_idle_j for e in energies]),
        avg_power_w=_median([e.avg_power_w for e in energies]),
        seconds=_median([e.seconds for e in energies]),
    )


def spread(values: list[float]) -> float:
    """(max - min) / median: how far the passes disagree (0 for one pass)."""
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else 0.0


def _phase(results: list[PhaseResult]) -> PhaseResult:
    first = results[0]
    primary = [r.timing.median_s if r.timing else r.seconds for r in results]
    names = [k for k in first.figures if all(k in r.figures for r in results)]
    figures = {k: _median([r.figures[k] for r in results]) for k in names}
    figures.update(passes=len(results), pass_spread=spread(primary))
    return dataclasses.replace(
        first,
        seconds=_median([r.seconds for r in results]),
        timing=_timing([r.timing for r in results]) if all(r.timing for r in results) else None,
        energy=_energy([r.energy for r in results]) if all(r.energy for r in results) else None,
        peak_memory_mb=max(r.peak_memory_mb for r in results),
        figures=figures,
    )


def combine(records: list[Record]) -> Record:
    """One record from successful passes of one configuration: the median of every figure.

    Peak memory is the highest of the passes; repetitions and windows add up; each phase gains
    `passes` and `pass_spread` (of its median time, or of its seconds where it has no timing).
    """
    if not records or any(r.failure for r in records):
        raise ValueError("combine() takes one or more successful records")
    if len({r.config.key() for r in records}) != 1:
        raise ValueError("combine() takes passes of one configuration")
    first = records[0]
    names = [p.phase for p in first.phases]
    phases = tuple(_phase([r.phase(name) for r in records]) for name in names)
    shared = [k for k in first.metrics if all(k in r.metrics for r in records)]
    examples = [k for k in first.example_scores if all(k in r.example_scores for r in records)]
    return dataclasses.replace(
        first,
        phases=phases,
        metrics={k: _median([r.metrics[k] for r in records]) for k in shared},
        example_scores={k: _median([r.example_scores[k] for r in records]) for k in examples},
        created=records[-1].created,
    )
