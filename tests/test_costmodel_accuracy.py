"""Accuracy fitted honestly: per training setup, inside the metric's range, wider where it reaches."""

import numpy as np
import pytest

from costmodel import fit_model
from tests.test_costmodel import grid, measure, true_accuracy

SIZES = [("led", "tiny"), ("led", "small"), ("bigbird-pegasus", "tiny"), ("bigbird-pegasus", "small")]
LENGTHS = (256, 512, 1024, 2048, 4096)


def trained(weights, **extra):
    return grid(sizes=SIZES, lengths=LENGTHS, batches=(2,), weights=weights, lr=2e-4, **extra)


@pytest.fixture(scope="module")
def rows():
    pretrained = measure(trained("pretrained"), acc_noise=0.02)
    random = [{**r, "rouge_mean": 0.0} for r in measure(trained("random"), seed=1)]
    return pretrained + random


@pytest.fixture(scope="module")
def model(rows):
    return fit_model(rows, quantities=("accuracy",), n_boot=60)


def test_accuracy_is_fitted_per_training_setup_never_pooled(model):
    assert len(model.fits) == 2
    grid_rows = trained("random")[-3:] + trained("pretrained")[-3:]  # small, the longest inputs
    predictions = model.predict(grid_rows)
    for p in predictions[:3]:  # every random-weight point measured scored 0
        acc = p.get("accuracy")
        assert (acc.value, acc.low, acc.high) == (0.0, 0.0, 0.0)
    for row, p in zip(grid_rows[3:], predictions[3:], strict=True):
        acc = p.get("accuracy")
        assert acc.low <= true_accuracy(row) <= acc.high and acc.value > 0.1


def test_a_training_setup_no_record_shares_gets_no_accuracy_and_says_why(model):
    (p,) = model.predict(grid(sizes=SIZES[:1], lengths=(512,), batches=(2,), weights="pretrained", lr=1e-3))
    assert "accuracy" not in p.estimates
    assert any("no record of task 'synthetic' was trained this way" in n and "lr 0.001" in n for n in p.notes)


def test_values_and_intervals_stay_inside_the_metric_range():
    rows = [
        {**r, "rouge_mean": min(1.0, 0.97 + 0.05 * np.sin(i))} for i, r in enumerate(measure(trained("x")))
    ]
    model = fit_model(rows, quantities=("accuracy",), n_boot=40)
    far = grid(sizes=SIZES, lengths=(16384,), batches=(2,), weights="x", lr=2e-4)
    for p in model.predict(trained("x") + far):
        acc = p.get("accuracy")
        assert 0.0 <= acc.low <= acc.value <= acc.high <= 1.0


def test_held_out_extrapolation_in_length_is_covered_and_flagged(rows):
    pretrained = [r for r in rows if r["weights"] == "pretrained"]
    fit_on = [r for r in pretrained if r["input_len"] < max(LENGTHS)]
    model = fit_model(fit_on, quantities=("accuracy",), n_boot=100)
    longest = [r for r in pretrained if r["input_len"] == max(LENGTHS)]
    predictions = model.predict(longest)
    inside = [
        p.get("accuracy").low <= r["rouge_mean"] <= p.get("accuracy").high
        for r, p in zip(longest, predictions, strict=True)
    ]
    assert np.mean(inside) >= 0.8
    assert all(p.get("accuracy").extrapolated for p in predictions)
    assert all(any("saturating curve reaches beyond" in n for n in p.notes) for p in predictions)
