"""Per-example scores: the eval phase keeps each unique example's score, stored with the record."""

from __future__ import annotations

import json
import math

import pytest

from engine.config import Budget, RunConfig
from engine.metrics.scoring import example_scores, score
from engine.record import Record
from engine.runner import measure
from engine.store import Store

QUICK = dict(
    batch_size=2,
    budget=Budget("steps", 2),
    repetitions=1,
    min_window_s=0.05,
    warmup=1,
    eval_samples=4,
    gen_tokens=8,
)


def test_example_scores_are_each_examples_own_score():
    preds, refs = ["a b c", "x y"], [["a b c"], ["a b", "x"]]
    each = example_scores("qa", "f1", preds, refs)
    assert each[0] == 1.0 and 0 < each[1] < 1
    assert math.isclose(sum(each) / 2, score("qa", preds, refs)["f1"])


@pytest.fixture(scope="module")
def record() -> Record:
    return measure(RunConfig("led", "tiny", 128, task="synthetic-qa", **QUICK), idle_w=0.5)


def test_the_runner_stores_one_score_per_unique_example(record, tmp_path):
    assert record.status == "ok", record.failure
    scores = record.example_scores
    assert len(scores) == record.phase("eval").figures["examples"] == 4
    assert all(isinstance(k, str) and 0.0 <= v <= 1.0 for k, v in scores.items())
    assert math.isclose(sum(scores.values()) / len(scores), record.metrics["f1"])
    assert "example_scores" not in record.flat()
    with Store(tmp_path / "x.sqlite", create=True) as store:
        store.put(record)
        (back,) = store.records()
    assert back.example_scores == scores


def test_records_without_scores_still_load(record):
    old = json.loads(json.dumps(record.to_dict()))
    del old["example_scores"]
    assert Record.from_dict(old).example_scores == {}
