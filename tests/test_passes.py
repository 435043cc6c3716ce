"""Combining interleaved passes of one configuration into one record."""

import dataclasses

import pytest

from engine.passes import combine, spread
from engine.record import Failure, Record
from tests.test_store import make_record


def scaled(record: Record, factor: float, memory: float, metric: float) -> Record:
    """The record with every infer time and energy times `factor`, its peak memory and one metric set."""
    infer = record.phase("infer")
    timing = dataclasses.replace(
        infer.timing, median_s=infer.timing.median_s * factor, p90_s=infer.timing.p90_s * factor
    )
    energy = dataclasses.replace(infer.energy, joules=infer.energy.joules * factor)
    phases = tuple(
        dataclasses.replace(p, timing=timing, energy=energy, peak_memory_mb=memory)
        if p.phase == "infer"
        else p
        for p in record.phases
    )
    return dataclasses.replace(record, phases=phases, metrics={**record.metrics, "f1": metric})


def test_combine_takes_the_median_of_each_figure_and_says_how_far_passes_disagree():
    base = make_record(1)
    passes = [scaled(base, 1.0, 80.0, 0.2), scaled(base, 3.0, 95.0, 0.4), scaled(base, 1.2, 70.0, 0.3)]
    out = combine(passes)
    infer = out.phase("infer")
    assert infer.timing.median_s == pytest.approx(0.012)  # median of 0.01, 0.03, 0.012: the slow pass is out
    assert infer.timing.repetitions == 21  # repetitions and windows add up
    assert infer.timing.window_s == pytest.approx(1.5)
    assert infer.energy.joules == pytest.approx(1.8)
    assert infer.peak_memory_mb == 95.0  # the highest peak of any pass
    assert infer.figures["passes"] == 3
    assert infer.figures["pass_spread"] == pytest.approx((0.03 - 0.01) / 0.012)
    assert out.metrics["f1"] == pytest.approx(0.3)
    assert out.config == base.config and out.env == base.env
    flat = out.flat()
    assert flat["infer_passes"] == 3 and flat["train_passes"] == 3
    assert flat["eval_pass_spread"] == 0.0  # identical passes (eval has no timing: its seconds)


def test_one_pass_is_kept_as_measured():
    record = make_record(2)
    out = combine([record])
    assert out.phase("infer").timing == record.phase("infer").timing
    assert out.phase("infer").figures["pass_spread"] == 0.0


def test_combine_refuses_failures_and_mixed_configurations():
    ok = make_record(1)
    with pytest.raises(ValueError):
        combine([ok, dataclasses.replace(ok, failure=Failure("infer", "error", "boom"))])
    with pytest.raises(ValueError):
        combine([ok, make_record(2)])
    with pytest.raises(ValueError):
        combine([])


def test_spread():
    assert spread([1.0]) == 0.0
    assert spread([1.0, 2.0, 4.0]) == pytest.approx(1.5)
