"""Accuracy tied within noise: the cheapest configuration tied with the best, named by the report's
Pareto section and by Recommend (costmodel.pareto.cheapest_tied)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from costmodel.pareto import cheapest_tied
from tests.test_app_fakes import DEMO, fake_record, make_app, settle
from tests.test_report_findings import fixture_records
from tui import publish
from tui.export import render
from tui.workspace import stored

EXAMPLES = 40
RNG = np.random.default_rng(3)
BASE = RNG.uniform(0.2, 0.9, EXAMPLES)


def scores(shift: float, noise: float = 0.02, seed: int = 0) -> dict[str, float]:
    """Per-example scores around BASE, moved by `shift`, with noise of their own."""
    values = np.clip(BASE + shift + np.random.default_rng(seed).normal(0, noise, EXAMPLES), 0, 1)
    return {f"ex{i}": float(v) for i, v in enumerate(values)}


def test_the_cheapest_tied_point_is_named_and_a_decided_one_is_not():
    best = ("best", 10.0, scores(0.0, seed=1))
    tied_cheap, tied_cheaper = ("tied", 5.0, scores(-0.005, seed=2)), ("cheapest", 2.0, scores(0.0, seed=3))
    worse, dearer = ("worse", 1.0, scores(-0.3, seed=4)), ("dearer", 20.0, scores(0.0, seed=5))
    unscored = ("unscored", 0.5, None)
    items = [best, tied_cheap, tied_cheaper, worse, dearer, unscored]
    found = cheapest_tied(best, items, lambda t: t[1], lambda t: t[2])
    assert found is tied_cheaper  # the cheapest of the tied, never the decidedly worse or the dearer
    assert cheapest_tied(best, [best, worse, dearer, unscored], lambda t: t[1], lambda t: t[2]) is None
    assert cheapest_tied(unscored, items, lambda t: t[1], lambda t: t[2]) is None  # a prediction ties nothing


def _report(records) -> str:
    return render(publish.build(stored(records), "t").renderables, ".txt", width=200)


@pytest.mark.parametrize("shift", [0.0, -0.3])
def test_the_report_says_tied_within_noise_only_where_it_is_so(shift):
    records = fixture_records()
    top = max(range(len(records)), key=lambda i: records[i].config.input_len * (records[i].dims["d_model"]))
    out = []
    for i, r in enumerate(records):
        s = scores(0.002 if i == top else shift, seed=i)
        f1 = float(np.mean(list(s.values())))
        out.append(dataclasses.replace(r, example_scores=s, metrics={**r.metrics, "f1": f1, "score": f1}))
    assert ("tied within noise" in _report(out)) is (shift == 0.0)


async def test_recommend_names_a_tied_cheaper_configuration(tmp_path):
    app = make_app(tmp_path, stored=0)
    grid = DEMO.grid()
    top = max(range(len(grid)), key=lambda i: (grid[i].input_len, grid[i].size == "small"))
    for i, config in enumerate(grid):
        r = fake_record(config)
        s = scores(0.002 if i == top else 0.0, seed=i)
        f1 = float(np.mean(list(s.values())))
        metrics = {next(iter(r.metrics)): f1, "score": f1}
        app.store.put(dataclasses.replace(r, example_scores=s, metrics=metrics))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        answer = str(app.screen.query_one("#answer").render())
        assert answer.startswith("Best: ") and "Tied within noise: " in answer, answer
        assert "less energy" in answer
