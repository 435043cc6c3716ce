"""Trade-offs from predictions: the Pareto frontier, the best configuration within a budget, and
the cheapest configuration whose accuracy is tied with the best's.

All use each point's best value: the measured one where the point was measured, else the model's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, TypeVar

from costmodel.errors import CostModelError
from costmodel.quantities import QUANTITIES

if TYPE_CHECKING:
    from costmodel.predict import Prediction

T = TypeVar("T")


def _check(*quantities: str) -> None:
    for q in quantities:
        if q not in QUANTITIES:
            raise CostModelError(f"quantity {q!r} unknown; allowed: {', '.join(QUANTITIES)}")


def front(
    items: Iterable[T], cost: Callable[[T], float | None], benefit: Callable[[T], float | None]
) -> list[T]:
    """The Pareto rule: items no other beats on both lower cost and higher benefit, cheapest first.

    Items without a cost or a benefit (None) are left out. Standard library only: every view's
    frontier (report, plots, figures, recommend) is this one.
    """
    placed = [
        (c, b, item) for item in items if (c := cost(item)) is not None and (b := benefit(item)) is not None
    ]
    placed.sort(key=lambda t: (t[0], -t[1]))
    out, best = [], float("-inf")
    for _, b, item in placed:
        if b > best:
            out.append(item)
            best = b
    return out


def pareto_front(predictions: list[Prediction], cost: str, benefit: str = "accuracy") -> list[Prediction]:
    """Points no other point beats on both: lower `cost` and higher `benefit`; sorted by cost."""
    _check(cost, benefit)
    return front(predictions, lambda p: p.value(cost), lambda p: p.value(benefit))


def best_within(
    predictions: list[Prediction],
    budgets: Mapping[str, float],
    objective: str = "accuracy",
    *,
    safe: bool = False,
) -> Prediction | None:
    """The point that maximises accuracy (or minimises another `objective`) within every budget.

    `budgets` maps quantities to limits, e.g. {"infer_energy": 2.0, "infer_memory": 8000}. A point
    without an estimate of a budgeted quantity is left out. With `safe`, a predicted point must fit
    its budgets at the top of its 90% interval, not only at its central value. None when none fits.
    """
    _check(objective, *budgets)
    sign = -1.0 if objective == "accuracy" else 1.0
    first = next(iter(budgets), objective)
    best, best_key = None, None
    for p in predictions:
        goal = p.value(objective)
        if goal is None or not all(_fits(p, q, limit, safe) for q, limit in budgets.items()):
            continue
        key = (sign * goal, p.value(first) or 0.0)
        if best_key is None or key < best_key:
            best, best_key = p, key
    return best


def _fits(p: Prediction, quantity: str, limit: float, safe: bool) -> bool:
    est = p.get(quantity)
    if est is None:
        return False
    value = est.measured if est.measured is not None else est.high if safe else est.value
    return value <= limit


def cheapest_tied(
    best: T,
    items: Iterable[T],
    cost: Callable[[T], float | None],
    scores: Callable[[T], Mapping[str, float] | None],
) -> T | None:
    """The cheapest of `items`, cheaper than `best`, whose accuracy is tied with best's
    (costmodel.uncertainty.tied: the paired 90% interval of the difference covers 0); None if none.

    A tie needs both items' per-example scores (example id -> score), so only measured points tie.
    (costmodel.uncertainty is imported here, so that the report's renderer imports no numpy or scipy.)
    """
    from costmodel.uncertainty import tied

    own, top = scores(best), cost(best)
    if not own or top is None:
        return None
    cheaper = [(c, item) for item in items if (c := cost(item)) is not None and c < top]
    for _, item in sorted(cheaper, key=lambda t: t[0]):
        theirs = scores(item)
        if theirs and own.keys() & theirs.keys() and tied(own, theirs):
            return item
    return None
