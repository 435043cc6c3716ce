"""Tasks: the built-in synthetic task and the SCROLLS configs."""

from __future__ import annotations

import random

from engine.metrics.scoring import PRIMARY_METRIC
from engine.tasks import synthetic
from engine.tasks.example import Example
from engine.tasks.scrolls import SCROLLS_METRIC, SCROLLS_TASKS

TASKS = {**synthetic.VARIANTS, **SCROLLS_TASKS}
TRAIN_ROWS = 20_000  # SCROLLS train rows read at most (GovReport, the largest, has 17,457)
SYNTHETIC_TRAIN = 1024  # fresh synthetic training documents, cycled beyond (each is tokenised)


def kind(task: str) -> str:
    """ "summary" or "qa"."""
    return TASKS[task]


def primary_metric(task: str) -> str:
    """The one accuracy figure of a task: its SCROLLS score, or its kind's for the synthetic tasks."""
    return SCROLLS_METRIC.get(task) or PRIMARY_METRIC[kind(task)]


def load(task: str, split: str, n: int, seed: int = 0, local_path: str | None = None) -> list[Example]:
    """n examples of a task's split, in file order (SCROLLS from a local path or the caches)."""
    if task in synthetic.VARIANTS:
        return synthetic.examples(task, split, n, seed)
    from engine.tasks.scrolls import load_scrolls

    return load_scrolls(task, split, local_path=local_path, limit=n)


def train_examples(task: str, n: int, seed: int, local_path: str | None = None) -> list[Example]:
    """Up to n training examples shuffled by the seed: fresh synthetic documents, or SCROLLS train rows."""
    if task in synthetic.VARIANTS:
        return synthetic.examples(task, "train", n, seed)
    rows = load(task, "train", TRAIN_ROWS, local_path=local_path)
    random.Random(f"train/{seed}").shuffle(rows)
    return rows[:n]


def eval_examples(task: str, n: int, seed: int, local_path: str | None = None) -> list[Example]:
    """n held-out examples chosen by the seed, one per unique id with all its references.

    The choice depends only on the task's validation split and the seed, so every configuration of
    a sweep is scored on the same examples.
    """
    if task in synthetic.VARIANTS:
        return synthetic.examples(task, "validation", n, seed)
    from engine.tasks.scrolls import merge_by_id

    merged = sorted(merge_by_id(load(task, "validation", 10**9, local_path=local_path)), key=lambda e: e.id)
    return random.Random(f"eval/{seed}").sample(merged, min(n, len(merged)))
