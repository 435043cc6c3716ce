"""batch_size "auto": the batch that fits, predicted from training memory and the memory budget."""

import pytest

from costmodel import fit_model
from costmodel.batch import COUNTED, MAX_BATCH, MB_PER_GB
from tests.test_costmodel import config, grid, measure, true_cost

BUDGET_GB = 1.5


@pytest.fixture(scope="module")
def model():
    rows = measure(
        grid(
            sizes=[("led", "tiny"), ("led", "small"), ("bigbird-pegasus", "small")],
            lengths=(256, 1024, 4096),
            batches=(1, 2, 8),
        ),
        noise=0.02,
    )
    return fit_model(rows, quantities=("infer_latency", "train_memory", "accuracy"), n_boot=40)


def auto(family, size, n, **extra):
    return {**config(family, size, n, batch=None), "batch_request": "auto", **extra}


def true_batch(row, budget_mb):
    fitting = [
        b for b in range(1, MAX_BATCH + 1) if true_cost({**row, "batch_size": b}, "train_memory") <= budget_mb
    ]
    return max(fitting) if fitting else 0


@pytest.mark.parametrize(
    "point", [("led", "small", 2048), ("bigbird-pegasus", "small", 1024), ("led", "tiny", 512)]
)
def test_an_auto_point_gets_the_batch_that_fits_then_its_costs_at_that_batch(model, point):
    row = auto(*point, memory_budget_gb=BUDGET_GB)
    (p,) = model.predict([row])
    truth = true_batch(row, BUDGET_GB * MB_PER_GB)
    assert p.row["batch_size"] is None and p.row["batch_request"] == "auto"  # the request stays as asked
    assert p.batch is not None and p.batch.low <= truth <= p.batch.high
    assert abs(p.batch.value - truth) <= max(1, 0.1 * truth)
    assert p.batch_size == p.batch.value
    assert set(p.estimates) == {"infer_latency", "train_memory", "accuracy"}
    latency = p.get("infer_latency")
    at_truth = true_cost({**row, "batch_size": truth}, "infer_latency")
    assert latency.low <= at_truth <= latency.high
    memory = p.get("train_memory")
    assert memory.value <= BUDGET_GB * MB_PER_GB


def test_the_batch_interval_holds_the_costs_at_both_its_ends(model):
    row = auto("led", "small", 2048, memory_budget_gb=BUDGET_GB)
    (p,) = model.predict([row])
    (at_low,) = model.predict([{**row, "batch_size": int(p.batch.low)}])
    (at_high,) = model.predict([{**row, "batch_size": int(p.batch.high)}])
    est = p.get("infer_latency")
    assert est.low <= at_low.get("infer_latency").low and est.high >= at_high.get("infer_latency").high


def test_without_a_budget_the_device_budget_is_learned_from_measured_auto_points(model):
    budget = BUDGET_GB * MB_PER_GB
    done = []
    for point in (("led", "small", 1024), ("led", "tiny", 4096)):
        row = auto(*point)
        (m,) = measure([{**row, "batch_size": true_batch(row, budget)}])
        done.append(m)
    row = auto("bigbird-pegasus", "small", 2048)
    (p,) = model.predict([row], done)
    truth = true_batch(row, budget)
    assert p.batch.low <= truth <= p.batch.high


def test_an_auto_point_that_cannot_be_resolved_says_why(model):
    (no_budget,) = model.predict([auto("led", "small", 1024)])
    assert no_budget.batch is None and set(no_budget.estimates) == {"accuracy"}
    assert any("no memory_budget_gb" in n for n in no_budget.notes)
    (too_small,) = model.predict([auto("led", "small", 4096, memory_budget_gb=0.01)])
    assert any("even batch 1 is predicted to exceed" in n for n in too_small.notes)
    assert not any("batch_size" in n for n in too_small.notes)


def test_an_auto_point_measured_shows_the_batch_found(model):
    row = auto("led", "small", 1024, memory_budget_gb=BUDGET_GB)
    found = true_batch(row, BUDGET_GB * MB_PER_GB)
    (m,) = measure([{**row, "batch_size": found, "key": "k1"}])
    (p,) = model.predict([{**row, "key": "k1"}], [m])
    assert p.kind == "measured" and p.batch.measured == found and p.batch_size == found


def test_a_budget_counts_the_peak_as_the_engine_does_less_than_the_fit_on_the_cpu(model):
    """On the CPU the training peak is the resident set, the budget the heap the step adds: the rows
    measured say by how much the two differ, and an explicit budget is met as the engine meets it."""
    budget = BUDGET_GB * MB_PER_GB
    process = 400.0  # MB the fit counts that the budget does not
    measured_rows = []
    for point in (("led", "small", 1024), ("led", "tiny", 4096)):
        (m,) = measure([config(*point, batch=2)])
        measured_rows.append({**m, COUNTED: m["train_peak_memory_mb"] - process})
    row = auto("led", "small", 2048, memory_budget_gb=BUDGET_GB)
    (p,) = model.predict([row], measured_rows)
    truth = true_batch(row, budget + process)  # the step fits when the peak less the process does
    assert p.batch.low <= truth <= p.batch.high and abs(p.batch.value - truth) <= max(1, 0.1 * truth)
    (unmeasured,) = model.predict([row])  # no row says what the budget counts: the fit's own peak
    assert unmeasured.batch.value < p.batch.value
