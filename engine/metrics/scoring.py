"""Accuracy metrics for generated text, computed with `evaluate` from modules shipped here.

The evaluate modules live in ``engine/metrics/modules/<name>/<name>.py`` and are loaded by
path, so nothing is fetched from the Hugging Face Hub: loading works offline. evaluate
copies each script into its modules cache (``$HF_MODULES_CACHE``) and creates an empty
directory under ``$HF_HOME/metrics``; predictions are kept in memory, never written.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import evaluate

MODULES_DIR = Path(__file__).parent / "modules"
"""Directory holding the shipped evaluate modules, one folder per module."""

TaskKind = Literal["summary", "qa"]

METRICS: dict[str, tuple[str, ...]] = {
    "summary": ("rouge1", "rouge2", "rougeL", "rouge_mean"),
    "qa": ("f1", "exact_match"),
}
"""Names of the figures `score` returns for each task kind."""

PRIMARY_METRIC: dict[str, str] = {"summary": "rouge_mean", "qa": "f1"}
"""The single accuracy figure of each task kind (the SCROLLS score for summaries)."""

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL")


@functools.cache
def load_metric(name: str) -> evaluate.EvaluationModule:
    """Load a shipped evaluate module by folder name (``"rouge"`` or ``"squad_f1"``), once per process."""
    path = MODULES_DIR / name
    if not (path / f"{name}.py").is_file():
        available = sorted(p.name for p in MODULES_DIR.iterdir() if (p / f"{p.name}.py").is_file())
        raise ValueError(f"unknown metric module {name!r}; shipped modules: {', '.join(available)}")
    import evaluate  # deferred: importing evaluate takes seconds

    evaluate.logging.disable_progress_bar()
    return evaluate.load(str(path.resolve()), keep_in_memory=True)


def geometric_mean(values: list[float] | tuple[float, ...]) -> float:
    """Geometric mean of non-negative values; 0 when any value is 0."""
    if not values:
        raise ValueError("geometric mean of no values")
    if any(v < 0 for v in values):
        raise ValueError(f"geometric mean needs non-negative values, got {values}")
    if any(v == 0 for v in values):
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def score(
    task_kind: str,
    predictions: list[str],
    references: Sequence[str | Sequence[str]],
    *,
    stemmer: bool = True,
) -> dict[str, float]:
    """Score predictions against references (a text, or the texts of one example); every figure is
    in [0, 1], each prediction scoring its best over its references as SCROLLS does.

    ``"summary"``: rouge1, rouge2, rougeL (mean F-measures, Porter stemmer unless `stemmer` is
    False, as SCROLLS scores) and rouge_mean, the geometric mean of the three means (the SCROLLS
    score of a summary). ``"qa"``: f1 (SQuAD-normalised token F1) and exact_match.
    """
    if task_kind not in METRICS:
        raise ValueError(f"unknown task kind {task_kind!r}; allowed: {', '.join(METRICS)}")
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("nothing to score: no predictions")
    if task_kind == "summary":
        result = load_metric("rouge").compute(
            predictions=predictions,
            references=_lists(references),
            rouge_types=ROUGE_TYPES,
            use_stemmer=stemmer,
        )
        figures = {name: float(result[name]) for name in ROUGE_TYPES}
        figures["rouge_mean"] = geometric_mean(tuple(figures.values()))
        return figures
    result = load_metric("squad_f1").compute(predictions=predictions, references=_lists(references))
    return {"f1": float(result["f1"]), "exact_match": float(result["exact_match"])}


def example_scores(
    task_kind: str,
    metric: str,
    predictions: list[str],
    references: Sequence[str | Sequence[str]],
    *,
    stemmer: bool = True,
) -> list[float]:
    """Each prediction's own figure `metric` (one of `score`'s), as `score` gives it for that example
    alone: rouge_mean is then the geometric mean of the example's three ROUGE figures."""
    pairs = zip(predictions, references, strict=True)
    return [score(task_kind, [p], [r], stemmer=stemmer)[metric] for p, r in pairs]


def scrolls_score(task_scores: dict[str, float]) -> float:
    """SCROLLS' benchmark score of one model: the mean of its tasks' scores (each task's own, in [0, 1])."""
    if not task_scores:
        raise ValueError("no task scores to average")
    return sum(task_scores.values()) / len(task_scores)


def _lists(references: Sequence[str | Sequence[str]]) -> list[list[str]]:
    refs = [[r] if isinstance(r, str) else list(r) for r in references]
    if any(not r for r in refs):
        raise ValueError("an example without a reference")
    return refs
