"""The cost model's errors: each carries one line that says what went wrong and what is allowed."""

from __future__ import annotations


class CostModelError(ValueError):
    """Base of the cost model's one-line errors."""


class FeatureError(CostModelError):
    """A row lacks a field the analytic features need, or holds an unusable value."""


class FitError(CostModelError):
    """A fit cannot be made: too few points, degenerate inputs, non-finite values."""


class SelectError(CostModelError):
    """A selection (`--fit-on EXPR`, `--sample F`) is malformed or names an unknown field."""
