"""Accuracy metrics (ROUGE, token F1, exact match) through `evaluate`, loaded offline."""

from engine.metrics.scoring import (
    METRICS,
    PRIMARY_METRIC,
    geometric_mean,
    load_metric,
    score,
    scrolls_score,
)

__all__ = ["METRICS", "PRIMARY_METRIC", "geometric_mean", "load_metric", "score", "scrolls_score"]
