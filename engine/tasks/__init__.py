"""Tasks: the built-in synthetic task and the SCROLLS configs."""

from __future__ import annotations

from engine.tasks import synthetic
from engine.tasks.example import Example
from engine.tasks.scrolls import SCROLLS_TASKS

TASKS = {**synthetic.VARIANTS, **SCROLLS_TASKS}


def kind(task: str) -> str:
    """ "summary" or "qa"."""
    return TASKS[task]


def load(task: str, split: str, n: int, seed: int = 0, local_path: str | None = None) -> list[Example]:
    """n examples of a task's split (SCROLLS from the datasets cache or a local path)."""
    if task in synthetic.VARIANTS:
        return synthetic.examples(task, split, n, seed)
    from engine.tasks.scrolls import load_scrolls

    return load_scrolls(task, split, local_path=local_path, limit=n)
