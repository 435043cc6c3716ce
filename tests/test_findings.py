"""Accuracy intervals and the study's three findings, on constructed rows, scores and predictions."""

import json
import math
from pathlib import Path

import pytest

from costmodel.findings import (
    AGREES,
    CLAIMS,
    DISAGREES,
    UNDECIDED,
    budget_pairs,
    findings,
    points,
)
from costmodel.fit import Estimate
from costmodel.predict import Prediction
from costmodel.uncertainty import (
    Interval,
    difference,
    mean_interval,
    paired_difference,
    ratio,
    tied,
    tied_with_best,
)

ARCHS = json.loads((Path(__file__).resolve().parents[1] / "engine/data/archs.json").read_text())
N = 40  # evaluated examples
STEPS = 10


def binary(k: int, offset: int = 0) -> dict[str, float]:
    """Per-example scores: example i is right when (i + offset) mod N < k."""
    return {f"ex{i}": float((i + offset) % N < k) for i in range(N)}


def row(family, size, n, *, acc, train_j, gen_j=1.0, gen_s=0.1, task="qa", batch=4, request=None, **extra):
    request = str(batch) if request is None else request
    return {
        "key": f"{family}-{size}-{n}-{task}-{request}",
        "family": family,
        "size": size,
        "input_len": n,
        "task": task,
        "batch_size": batch,
        "batch_request": request,
        "dtype": "float32",
        "device": "cpu",
        "budget_kind": "steps",
        "budget_value": STEPS,
        "eval_samples": N,
        **ARCHS[family][size],
        "status": "ok",
        "train_steps": STEPS,
        "train_energy_j": train_j,
        "infer_gen_energy_j": gen_j,
        "infer_gen_median_s": gen_s,
        ("f1" if task == "qa" else "rouge_mean"): acc,
        **extra,
    }


def scored(*specs):
    """Rows and their scores from (row kwargs, scores) pairs; each row's accuracy is its scores' mean."""
    rows, scores = [], {}
    for kwargs, s in specs:
        r = row(**kwargs, acc=sum(s.values()) / len(s))
        rows.append(r)
        scores[r["key"]] = s
    return rows, scores


def only(task_findings):
    assert len(task_findings) == 1
    return task_findings[0]


# -- uncertainty ------------------------------------------------------------------------------------


def test_mean_interval_brackets_the_mean_and_is_deterministic_by_seed():
    s = binary(25)
    a, b = mean_interval(s, seed=3), mean_interval(s, seed=3)
    assert a == b
    assert a.method == "bootstrap" and a.n == N
    assert a.low < 25 / N < a.high and 0 <= a.low and a.high <= 1
    assert a.high - a.low < 0.3
    assert mean_interval(list(s.values())) == mean_interval(s)


def test_degenerate_scores_say_so():
    same = mean_interval([0.7] * 12)
    assert same.method == "no-spread" and same.low == same.value == same.high == pytest.approx(0.7)
    one = mean_interval([0.4])
    assert one.method == "one-example" and one.low == -math.inf and one.high == math.inf
    with pytest.raises(ValueError, match="at least one"):
        mean_interval([])
    with pytest.raises(ValueError, match="finite"):
        mean_interval([0.1, math.nan])


def test_paired_difference_resamples_shared_examples():
    superset = paired_difference(binary(30), binary(10))
    assert superset.value == pytest.approx(0.5) and superset.low > 0.3
    # the same count right on other examples: unpaired noise, no decided difference
    shifted = paired_difference(binary(20), binary(19, offset=5))
    assert shifted.covers(0.0) and tied(binary(20), binary(19, offset=5))
    assert not tied(binary(30), binary(10))
    # identical scores: a difference of exactly 0, tied
    assert paired_difference(binary(20), binary(20)).method == "no-spread"
    assert tied(binary(20), binary(20))
    partial = paired_difference({"a": 1.0, "b": 0.0, "c": 1.0}, {"b": 1.0, "c": 1.0, "d": 0.0})
    assert partial.n == 2 and partial.value == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="share no"):
        paired_difference({"a": 1.0}, {"b": 1.0})


def test_the_configurations_tied_with_the_best_are_named_best_first():
    scores = {"best": binary(30), "close": binary(29, offset=3), "far": binary(5)}
    assert tied_with_best(scores) == ["best", "close"]
    assert tied_with_best({}) == []


def test_interval_arithmetic_keeps_the_widest_ends():
    d = difference(Interval(1.0, 0.5, 1.5), Interval(0.4, 0.3, 0.6))
    assert (d.low, d.high) == pytest.approx((-0.1, 1.2))
    r = ratio(Interval(0.2, 0.1, 0.3), Interval(2.0, 1.0, 4.0))
    assert (r.value, r.low, r.high) == pytest.approx((0.1, 0.025, 0.3))
    assert ratio(Interval(0.2, 0.1, 0.3), Interval(-1.0, -2.0, 0.5)) is None
    assert ratio(Interval(0.2, 0.1, 0.3), Interval(1.0, -1.0, 2.0)).bounded is False


# -- family -----------------------------------------------------------------------------------------


def family_case(led_k, bb_k, led_j, bb_j, bb_offset=0):
    return scored(
        (dict(family="led", size="tiny", n=256, train_j=led_j), binary(led_k)),
        (dict(family="bigbird-pegasus", size="tiny", n=256, train_j=bb_j), binary(bb_k, bb_offset)),
    )


@pytest.mark.parametrize(
    ("case", "verdict"),
    [
        (family_case(30, 10, 100.0, 200.0), AGREES),  # LED more accurate, cheaper
        (family_case(10, 30, 200.0, 100.0), DISAGREES),  # BigBird-Pegasus more accurate, cheaper
        (family_case(30, 10, 300.0, 100.0), DISAGREES),  # LED more accurate but dearer
        (family_case(20, 19, 100.0, 200.0, bb_offset=5), UNDECIDED),  # accuracy tied within noise
    ],
)
def test_family_verdicts(case, verdict):
    rows, scores = case
    family = only(findings(rows, scores=scores)).family
    assert family.verdict == verdict
    (pair,) = family.comparisons
    assert pair.verdict == verdict
    assert pair.led.family == "led" and pair.bigbird.family == "bigbird-pegasus"
    assert pair.energy.value == pytest.approx(rows[0]["train_energy_j"] - rows[1]["train_energy_j"])
    assert f"in {1 if verdict == AGREES else 0} of 1 pairs" in family.summary
    assert family.claim is CLAIMS["family"] and family.claim_applies
    assert {p.key for p in family.measured} == {r["key"] for r in rows} and not family.predicted


def test_family_pairs_pointing_both_ways_are_undecided():
    rows_a, scores_a = family_case(30, 10, 100.0, 200.0)
    rows_b, scores_b = scored(
        (dict(family="led", size="small", n=256, train_j=300.0), binary(10)),
        (dict(family="bigbird-pegasus", size="small", n=256, train_j=100.0), binary(30)),
    )
    family = only(findings(rows_a + rows_b, scores=scores_a | scores_b)).family
    assert (family.count(AGREES), family.count(DISAGREES)) == (1, 1)
    assert family.verdict == UNDECIDED


def test_a_measured_accuracy_without_per_example_scores_decides_nothing():
    rows, _ = family_case(30, 10, 100.0, 200.0)
    family = only(findings(rows)).family
    assert family.comparisons[0].led.accuracy.method == "unscored"
    assert family.verdict == UNDECIDED


def test_no_matched_pair_is_said():
    rows, scores = scored((dict(family="led", size="tiny", n=256, train_j=1.0), binary(3)))
    family = only(findings(rows, scores=scores)).family
    assert family.verdict == UNDECIDED and family.comparisons == () and "no size and length" in family.summary


# -- size or length ---------------------------------------------------------------------------------


def size_length_case(size_k, size_j, length_k, length_j, length_offset=0):
    """led-tiny at 256 (10 right, 100 J); led-small at 256 and led-tiny at 512 beside it."""
    return scored(
        (dict(family="led", size="tiny", n=256, train_j=100.0, gen_s=0.1, task="sum"), binary(10)),
        (dict(family="led", size="small", n=256, train_j=size_j, gen_s=0.3, task="sum"), binary(size_k)),
        (
            dict(family="led", size="tiny", n=512, train_j=length_j, task="sum"),
            binary(length_k, length_offset),
        ),
    )


@pytest.mark.parametrize(
    ("case", "verdict"),
    [
        (size_length_case(30, 110.0, 14, 200.0), AGREES),  # +0.5 for ~10 J against +0.1 for ~100 J
        (size_length_case(14, 200.0, 30, 110.0), DISAGREES),
        (size_length_case(12, 110.0, 12, 110.0, length_offset=3), UNDECIDED),  # both gains within noise
    ],
)
def test_size_or_length_verdicts(case, verdict):
    rows, scores = case
    found = only(findings(rows, scores=scores))
    assert found.task_kind == "summary" and found.metric == "rouge_mean"
    finding = found.size_or_length
    assert finding.claim_applies and finding.verdict == verdict
    step = next(s for s in finding.comparisons if s.start.size == "tiny" and s.start.input_len == 256)
    assert step.verdict == verdict
    assert (step.size_up.size, step.length_up.input_len) == ("small", 512)
    extra_j = step.size_up.energy.value - step.start.energy.value
    gain = (step.size_up.accuracy.value - step.start.accuracy.value) / extra_j
    assert step.size_gain.value == pytest.approx(gain)
    assert step.size_gain.low <= gain <= step.size_gain.high
    assert step.slowdown.value == pytest.approx(3.0)
    assert "slows inference 3x" in finding.summary


@pytest.mark.parametrize(
    ("case", "verdict"),
    [
        # the size step gains +0.5 at 10 J less (as under a fixed training budget): it beats any price
        (size_length_case(30, 90.0, 14, 200.0), AGREES),
        (size_length_case(14, 200.0, 30, 90.0), DISAGREES),
        # both free: the larger accuracy gain wins, and within noise nothing is decided
        (size_length_case(30, 90.0, 14, 95.0), AGREES),
        (size_length_case(20, 90.0, 20, 95.0, length_offset=3), UNDECIDED),
        # a free step that gains nothing decidedly does not beat a priced one that gains
        (size_length_case(11, 90.0, 30, 200.0), UNDECIDED),
    ],
)
def test_a_step_that_costs_no_extra_energy_is_judged_by_the_accuracy_it_gains(case, verdict):
    rows, scores = case
    finding = only(findings(rows, scores=scores)).size_or_length
    step = next(s for s in finding.comparisons if s.size_up and s.length_up)
    assert step.size_accuracy.value == pytest.approx(step.size_up.accuracy.value - step.start.accuracy.value)
    assert step.verdict == verdict
    for gain, energy in ((step.size_gain, step.size_energy), (step.length_gain, step.length_energy)):
        assert (gain is None) == (energy.high <= 0)  # no gain per joule where no joule is spent
    if step.size_energy.high <= 0:
        assert "the size step costs no extra energy from 1" in finding.summary


# -- fixed budget -----------------------------------------------------------------------------------


def budget_case(small_k, large_k, small_j, large_j, large_offset=0):
    return scored(
        (dict(family="led", size="tiny", n=256, batch=16, request="auto", train_j=small_j), binary(small_k)),
        (
            dict(family="led", size="small", n=256, batch=4, request="auto", train_j=large_j),
            binary(large_k, large_offset),
        ),
    )


@pytest.mark.parametrize(
    ("case", "verdict"),
    [
        (budget_case(30, 10, 100.0, 150.0), AGREES),
        (budget_case(10, 30, 100.0, 150.0), DISAGREES),
        (budget_case(20, 19, 100.0, 150.0, large_offset=5), UNDECIDED),
    ],
)
def test_fixed_budget_verdicts(case, verdict):
    rows, scores = case
    finding = only(findings(rows, scores=scores)).fixed_budget
    assert finding.claim_applies and finding.verdict == verdict
    (pair,) = finding.comparisons
    assert (pair.smaller.size, pair.smaller.batch_size, pair.larger.size, pair.larger.batch_size) == (
        "tiny",
        16,
        "small",
        4,
    )
    assert pair.smaller.budget == pair.larger.budget == ("steps", STEPS)
    assert finding.summary.endswith("the smaller trained with the larger batch in 1")


def test_sizes_under_different_budgets_are_not_compared():
    rows, scores = budget_case(30, 10, 100.0, 150.0)
    rows[1] = {**rows[1], "budget_value": STEPS * 2}
    ps = points(rows, metric="f1", scores=scores)
    assert budget_pairs(ps, scores) == []


def test_the_qa_claim_does_not_apply_to_a_summary_task():
    rows, scores = size_length_case(30, 110.0, 14, 200.0)
    found = only(findings(rows, scores=scores))
    assert not found.fixed_budget.claim_applies and found.size_or_length.claim_applies


# -- predictions and rows ---------------------------------------------------------------------------


def estimate(value, spread, measured=None):
    return Estimate(value, value - spread, value + spread, False, measured)


def predicted(family, size, n, acc, acc_spread, train_step_j, task="qa"):
    grid = {k: v for k, v in row(family, size, n, acc=0.0, train_j=0.0, task=task).items()}
    for k in ("train_steps", "train_energy_j", "infer_gen_energy_j", "infer_gen_median_s", "f1"):
        grid.pop(k)
    grid["status"] = "planned"
    estimates = {
        "accuracy": estimate(acc, acc_spread),
        "train_energy": estimate(train_step_j, 0.1 * train_step_j),
        "gen_energy": estimate(1.0, 0.1),
        "gen_latency": estimate(0.1, 0.01),
    }
    return Prediction(row=grid, kind="predicted", estimates=estimates)


@pytest.mark.parametrize(
    ("led_acc", "spread", "verdict"),
    [(0.8, 0.05, AGREES), (0.2, 0.05, DISAGREES), (0.55, 0.1, UNDECIDED)],
)
def test_predicted_points_are_judged_by_the_models_intervals(led_acc, spread, verdict):
    preds = [
        predicted("led", "large", 1024, led_acc, spread, 10.0),
        predicted("bigbird-pegasus", "large", 1024, 0.5, spread, 20.0),
    ]
    assert findings([], preds) == []  # no measured row names the metric
    family = only(findings([], preds, metrics={"qa": "f1"})).family
    assert family.verdict == verdict
    (pair,) = family.comparisons
    assert pair.led.kind == pair.bigbird.kind == "predicted" and len(family.predicted) == 2
    assert pair.led.accuracy.method == "model"
    assert pair.led.train_energy.value == pytest.approx(10.0 * STEPS)
    assert pair.led.infer_energy.value == pytest.approx(1.0 * N / 4)


def test_a_measured_point_keeps_its_row_and_a_failed_one_is_left_out():
    rows, scores = family_case(30, 10, 100.0, 200.0)
    failed = {**rows[1], "status": "failed", "failed_phase": "train", "failure_kind": "oom"}
    pred = predicted("led", "tiny", 256, 0.1, 0.01, 1.0)
    ps = points(
        [rows[0], failed], [pred, predicted("bigbird-pegasus", "tiny", 256, 0.5, 0.1, 1.0)], metric="f1"
    )
    kinds = {p.family: p.kind for p in ps}
    assert kinds == {"led": "measured", "bigbird-pegasus": "predicted"}
    led = next(p for p in ps if p.family == "led")
    assert led.train_energy.value == pytest.approx(100.0) and led.train_energy.method == "measured"


def test_a_seconds_budget_predicts_training_energy_from_power_and_a_joules_budget_is_its_value():
    pred = predicted("led", "tiny", 256, 0.5, 0.1, 2.0)
    pred.row.update(budget_kind="seconds", budget_value=30.0)
    pred.estimates["train_latency"] = estimate(0.5, 0.0)
    (p,) = points([], [pred], metric="f1")
    assert p.train_energy.value == pytest.approx(2.0 / 0.5 * 30.0)
    assert p.train_energy.low < p.train_energy.value < p.train_energy.high
    pred.row.update(budget_kind="joules", budget_value=500.0)
    (p,) = points([], [pred], metric="f1")
    assert p.train_energy.value == 500.0
