"""The study's three questions, answered per task on the measured and predicted grid.

- Family: at matched size and length, is LED more accurate at lower energy than BigBird-Pegasus?
- Size or length: from each configuration, does one step up in size buy more accuracy per extra
  joule than one step up in input length, and how much does the size step slow inference?
- Fixed budget: under one training budget, is the smaller model (with the batch that fit) both more
  accurate and cheaper than the larger one?

Pure functions of flat rows (engine Record.flat()), the cost model's Predictions (costmodel.predict)
and, where stored, per-example scores. A point's figure is its measured one where it was measured,
else the prediction with the model's 90% interval. A comparison is decided only when its interval
excludes 0; the verdict of a question is "agrees" or "disagrees" when every decided comparison points
the same way, and "undecided" when none is decided or they point both ways.

Energy is the whole fine-tuning (the budget's training phase) plus generating the evaluated examples
(one generate() batch's energy over its batch size, times the examples scored), in joules. Inference
latency is one generate() batch, in seconds. A measured energy or latency is taken as exact; a
measured accuracy has a bootstrap interval over its per-example scores, and an unbounded one when its
scores were not stored.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from costmodel.errors import FeatureError
from costmodel.features import FAMILIES, arch_of, param_count
from costmodel.quantities import default_metric, identity, measured, train_steps
from costmodel.uncertainty import SEED, Interval, difference, mean_interval, paired_difference, ratio

LED, BIGBIRD = FAMILIES
AGREES, DISAGREES, UNDECIDED = "agrees", "disagrees", "undecided"
VERDICTS = (AGREES, DISAGREES, UNDECIDED)
TASK_KINDS = ("summary", "qa")
METRIC_KINDS = {
    "rouge_mean": "summary",
    "rougeL": "summary",
    "rouge1": "summary",
    "f1": "qa",
    "exact_match": "qa",
}
SOURCE = "Ang, Dhingra & Wu Wills (2022), abstract"


@dataclass(frozen=True)
class Claim:
    """The study's own claim on a question, quoted from its abstract.

    Attributes:
        question: "family", "size_or_length" or "fixed_budget".
        text: the claim; the words in double quotes are the abstract's own.
        task_kind: the kind of task the study made the claim for: "summary", "qa" or "all".
        source: where the quote comes from.
    """

    question: str
    text: str
    task_kind: str
    source: str = SOURCE


CLAIMS = {
    "family": Claim(
        "family", '"LED consistently achieves better accuracy at lower energy costs than Big Bird."', "all"
    ),
    "size_or_length": Claim(
        "size_or_length",
        'For summarization, "increasing model size is more energy efficient than increasing sequence length '
        'for higher accuracy", but this "comes at the cost of a large drop in inference speed."',
        "summary",
    ),
    "fixed_budget": Claim(
        "fixed_budget",
        'For question answering, "smaller models are both more efficient and more accurate due to the larger '
        'training batch sizes possible under a fixed resource budget."',
        "qa",
    ),
}


@dataclass(frozen=True)
class Point:
    """One configuration as the findings read it.

    Attributes:
        key: the configuration's RunConfig key (the row's `key`): the id exports and figures match on.
        task: the task's name.
        family: the model family ("led" or "bigbird-pegasus").
        size: the size's name.
        params: parameters of the model (orders sizes).
        input_len: the input length asked, in tokens.
        batch_size: the batch trained with (resolved from "auto"); None when not known.
        batch_request: the batch asked: an integer as text, or "auto".
        budget: the training budget: (kind, value), value in steps, seconds or joules.
        kind: "measured" (a successful measurement exists) or "predicted".
        accuracy: the task metric with its 90% interval (the metric's units), or None.
        train_energy: the whole fine-tuning, J, or None.
        infer_energy: generating the evaluated examples, J, or None.
        latency: one generate() batch, s, or None.
    """

    key: str
    task: str
    family: str
    size: str
    params: float
    input_len: int
    batch_size: int | None
    batch_request: str
    budget: tuple[str, float]
    kind: str
    accuracy: Interval | None
    train_energy: Interval | None
    infer_energy: Interval | None
    latency: Interval | None

    @property
    def energy(self) -> Interval | None:
        """Fine-tuning plus inference over the evaluated examples, J."""
        if self.train_energy is None or self.infer_energy is None:
            return None
        return self.train_energy.plus(self.infer_energy)

    @property
    def label(self) -> str:
        return f"{self.family}-{self.size} n={self.input_len} b={self.batch_size or self.batch_request}"


@dataclass(frozen=True)
class FamilyPair:
    """LED against BigBird-Pegasus at one matched size, length, batch asked and budget.

    Attributes:
        led: the LED point.
        bigbird: the BigBird-Pegasus point.
        accuracy: LED's accuracy minus BigBird-Pegasus's (metric units), paired where both were scored.
        energy: LED's energy minus BigBird-Pegasus's, J.
        verdict: "agrees" (LED more accurate and cheaper), "disagrees" (BigBird-Pegasus decidedly more
            accurate or cheaper), "undecided" (otherwise).
    """

    led: Point
    bigbird: Point
    accuracy: Interval
    energy: Interval
    verdict: str


@dataclass(frozen=True)
class Step:
    """From one configuration, one step up in size and one step up in input length.

    Attributes:
        start: the configuration stepped from.
        size_up: the next larger size at the same length, batch asked and budget, or None.
        length_up: the next longer input at the same size, batch asked and budget, or None.
        size_gain: accuracy gained per extra joule by the size step (metric units per J), or None
            where the step costs no extra energy or a figure is missing.
        length_gain: the same for the length step.
        slowdown: the size step's inference latency over the start's (a ratio; 2.0 is twice as slow).
        verdict: "agrees" (the size step is decidedly the cheaper way to more accuracy), "disagrees"
            (the length step is), "undecided" (their intervals overlap, or one is missing). A step
            that decidedly gains accuracy at no extra energy (under a fixed training budget the
            fine-tuning costs every configuration the same) beats one that costs energy; two such
            steps are compared by the accuracy they gain.
        size_accuracy: the accuracy the size step adds (metric units; paired where both were scored).
        size_energy: the extra energy the size step costs, J (0 or less: none).
        length_accuracy: the same for the length step.
        length_energy: the same for the length step.
    """

    start: Point
    size_up: Point | None
    length_up: Point | None
    size_gain: Interval | None
    length_gain: Interval | None
    slowdown: Interval | None
    verdict: str
    size_accuracy: Interval | None = None
    size_energy: Interval | None = None
    length_accuracy: Interval | None = None
    length_energy: Interval | None = None


@dataclass(frozen=True)
class BudgetPair:
    """A smaller and a larger model under one budget, each with the batch that fit.

    Attributes:
        smaller: the point with fewer parameters.
        larger: the next larger size at the same length, batch asked and budget.
        accuracy: the smaller's accuracy minus the larger's (metric units).
        energy: the smaller's energy minus the larger's, J.
        verdict: "agrees" (the smaller is decidedly more accurate and cheaper), "disagrees" (the
            larger is decidedly more accurate, or the smaller decidedly costlier), "undecided".
    """

    smaller: Point
    larger: Point
    accuracy: Interval
    energy: Interval
    verdict: str


@dataclass(frozen=True)
class Finding:
    """One question answered for one task.

    Attributes:
        question: "family", "size_or_length" or "fixed_budget".
        task: the task's name.
        metric: the accuracy metric compared.
        verdict: "agrees", "disagrees" or "undecided", against `claim`.
        summary: one sentence stating the answer with its counts.
        claim: the study's claim on the question.
        claim_applies: whether the study made the claim for this task's kind.
        comparisons: the FamilyPairs, Steps or BudgetPairs the verdict counts.
    """

    question: str
    task: str
    metric: str
    verdict: str
    summary: str
    claim: Claim
    claim_applies: bool
    comparisons: tuple

    def count(self, verdict: str) -> int:
        return sum(c.verdict == verdict for c in self.comparisons)

    @property
    def points(self) -> tuple[Point, ...]:
        """Every point the comparisons use, once each."""
        seen: dict[str, Point] = {}
        for c in self.comparisons:
            for name in ("led", "bigbird", "start", "size_up", "length_up", "smaller", "larger"):
                p = getattr(c, name, None)
                if p is not None:
                    seen.setdefault(p.key, p)
        return tuple(seen.values())

    @property
    def measured(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.kind == "measured")

    @property
    def predicted(self) -> tuple[Point, ...]:
        return tuple(p for p in self.points if p.kind == "predicted")


@dataclass(frozen=True)
class TaskFindings:
    """The three questions answered for one task.

    Attributes:
        task: the task's name.
        task_kind: "summary" or "qa" (from the metric unless given).
        metric: the accuracy metric.
        family: LED against BigBird-Pegasus.
        size_or_length: a size step against a length step.
        fixed_budget: the smaller model under one budget.
    """

    task: str
    task_kind: str
    metric: str
    family: Finding
    size_or_length: Finding
    fixed_budget: Finding

    @property
    def findings(self) -> tuple[Finding, Finding, Finding]:
        return (self.family, self.size_or_length, self.fixed_budget)


# -- points -----------------------------------------------------------------------------------------


def _num(value: object) -> float | None:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _params(row: dict) -> float:
    try:
        return float(param_count(arch_of(row)))
    except FeatureError:
        return math.nan  # a row without its dimensions: left out of size steps


def _quantity(quantity: str, rows: list[dict], prediction, metric: str | None = None) -> Interval | None:
    values = [v for r in rows if (v := measured(r, quantity, metric)) is not None and math.isfinite(v)]
    if values:
        return Interval.exact(statistics.median(values))
    est = prediction.get(quantity) if prediction is not None else None
    return None if est is None else Interval(est.value, est.low, est.high, 0, "model")


def _accuracy(rows: list[dict], prediction, metric: str, scores: Mapping | None) -> Interval | None:
    key = str(rows[-1].get("key", "")) if rows else ""
    if rows and scores and scores.get(key):
        return mean_interval(scores[key])
    value = _quantity("accuracy", rows, prediction, metric)
    if value is not None and value.method == "measured":
        return Interval.unknown(value.value)
    return value


def _train_energy(row: dict, rows: list[dict], prediction) -> Interval | None:
    per_step = _quantity("train_energy", rows, prediction)
    if per_step is None:
        return None
    steps = train_steps(rows[-1]) if rows else train_steps(row)
    if steps is not None:
        return per_step.times(steps)
    kind, value = row.get("budget_kind"), _num(row.get("budget_value"))
    step_s = _quantity("train_latency", rows, prediction)
    if kind == "seconds" and value and step_s is not None:  # steps taken = seconds / seconds per step
        return ratio(per_step, step_s).times(value) if step_s.value > 0 else None
    return Interval.exact(value, "model") if kind == "joules" and value else None


def _point(row: dict, rows: list[dict], prediction, metric: str, scores: Mapping | None) -> Point:
    batch = _num(row.get("batch_size"))
    batch = int(batch) if batch else None
    per_batch = _quantity("gen_energy", rows, prediction)
    examples = _num(row.get("eval_samples"))
    infer = per_batch.times(examples / batch) if per_batch is not None and batch and examples else None
    return Point(
        key=str(row.get("key", "")),
        task=str(row.get("task", "")),
        family=str(row.get("family", "")),
        size=str(row.get("size", "")),
        params=_params(row),
        input_len=int(_num(row.get("input_len")) or 0),
        batch_size=batch,
        batch_request=str(row.get("batch_request", row.get("batch_size", ""))),
        budget=(str(row.get("budget_kind", "")), _num(row.get("budget_value")) or 0.0),
        kind="measured" if rows else "predicted",
        accuracy=_accuracy(rows, prediction, metric, scores),
        train_energy=_train_energy(row, rows, prediction),
        infer_energy=infer,
        latency=_quantity("gen_latency", rows, prediction),
    )


def points(
    rows: Sequence[dict],
    predictions: Iterable = (),
    *,
    metric: str,
    scores: Mapping[str, Mapping[str, float]] | None = None,
) -> list[Point]:
    """One Point per grid point: each prediction, then each measured configuration no prediction covers.

    `rows` are flat rows (failed ones are skipped); `predictions` costmodel Predictions; `scores`
    maps a row's `key` to its per-example scores of `metric` (example id -> score).
    """
    ok: dict[tuple, list[dict]] = {}
    for r in rows:
        if r.get("status", "ok") == "ok":
            ok.setdefault(identity(r), []).append(r)
    out, seen = [], set()
    for p in predictions:
        ident = identity(p.row)
        seen.add(ident)
        done = ok.get(ident, [])
        out.append(_point(done[-1] if done else p.row, done, p, metric, scores))
    out += [_point(rs[-1], rs, None, metric, scores) for ident, rs in ok.items() if ident not in seen]
    return out


# -- comparisons ------------------------------------------------------------------------------------


def _accuracy_difference(a: Point, b: Point, scores: Mapping | None, seed: int) -> Interval | None:
    if a.accuracy is None or b.accuracy is None:
        return None
    if scores and scores.get(a.key) and scores.get(b.key) and a.kind == b.kind == "measured":
        try:
            return paired_difference(scores[a.key], scores[b.key], seed=seed)
        except ValueError:
            pass  # no shared example: compare unpaired
    return difference(a.accuracy, b.accuracy)


def _sign(x: Interval) -> int:
    """+1 when the interval lies above 0, -1 below, 0 when it covers 0."""
    return 1 if x.low > 0 else -1 if x.high < 0 else 0


def _better_and_cheaper(accuracy: Interval, energy: Interval) -> str:
    """The verdict on "the first is more accurate at lower energy" from the first-minus-second intervals."""
    if _sign(accuracy) > 0 and _sign(energy) < 0:
        return AGREES
    if _sign(accuracy) < 0 or _sign(energy) > 0:
        return DISAGREES
    return UNDECIDED


def _verdict(comparisons: Sequence) -> str:
    verdicts = {c.verdict for c in comparisons} - {UNDECIDED}
    return verdicts.pop() if len(verdicts) == 1 else UNDECIDED


def _grid_key(p: Point) -> tuple:
    return (p.task, p.batch_request, p.budget)


def _sized(ps: Iterable[Point]) -> list[Point]:
    return sorted((p for p in ps if not math.isnan(p.params)), key=lambda p: p.params)


def family_pairs(ps: Sequence[Point], scores: Mapping | None = None, *, seed: int = SEED) -> list[FamilyPair]:
    """LED against BigBird-Pegasus at every size, length, batch asked and budget both have."""
    bigbird = {(*_grid_key(p), p.size, p.input_len): p for p in ps if p.family == BIGBIRD}
    out = []
    for led in (p for p in ps if p.family == LED):
        bb = bigbird.get((*_grid_key(led), led.size, led.input_len))
        if bb is None or led.energy is None or bb.energy is None:
            continue
        accuracy = _accuracy_difference(led, bb, scores, seed)
        if accuracy is None:
            continue
        energy = difference(led.energy, bb.energy)
        out.append(FamilyPair(led, bb, accuracy, energy, _better_and_cheaper(accuracy, energy)))
    return out


def _change(a: Point, b: Point | None, scores: Mapping | None, seed: int) -> tuple:
    """From a to b: (accuracy gained, extra energy in J, accuracy per extra joule); Nones where missing.

    The gain per joule is None where b costs no more energy than a."""
    if b is None:
        return None, None, None
    accuracy = _accuracy_difference(b, a, scores, seed)
    energy = difference(b.energy, a.energy) if a.energy is not None and b.energy is not None else None
    if accuracy is None or energy is None:
        return accuracy, energy, None
    return accuracy, energy, ratio(accuracy, energy)


def _free_gain(accuracy: Interval, energy: Interval) -> bool:
    """Accuracy decidedly gained at decidedly no extra energy."""
    return _sign(accuracy) > 0 and energy.high <= 0


def _cheaper_step(size: tuple, length: tuple) -> str:
    """Whether the size step ("agrees") or the length step ("disagrees") is decidedly the cheaper way
    to more accuracy; each step is its (accuracy, energy, gain per joule)."""
    (size_acc, size_j, size_gain), (length_acc, length_j, length_gain) = size, length
    if None in (size_acc, size_j, length_acc, length_j):
        return UNDECIDED
    size_free, length_free = _free_gain(size_acc, size_j), _free_gain(length_acc, length_j)
    if size_free and length_free:
        return {1: AGREES, -1: DISAGREES, 0: UNDECIDED}[_sign(difference(size_acc, length_acc))]
    if size_free or length_free:
        return AGREES if size_free else DISAGREES
    if size_gain is None or length_gain is None:
        return UNDECIDED
    if size_gain.low > length_gain.high:
        return AGREES
    if length_gain.low > size_gain.high:
        return DISAGREES
    return UNDECIDED


def steps(ps: Sequence[Point], scores: Mapping | None = None, *, seed: int = SEED) -> list[Step]:
    """From every point with a larger size or a longer input beside it: the two steps compared."""
    out = []
    for p in ps:
        same = [q for q in ps if _grid_key(q) == _grid_key(p) and q.family == p.family]
        bigger = [q for q in _sized(same) if q.input_len == p.input_len and q.params > p.params]
        longer = sorted(
            (q for q in same if q.size == p.size and q.input_len > p.input_len), key=lambda q: q.input_len
        )
        size_up = bigger[0] if bigger else None
        length_up = longer[0] if longer else None
        if size_up is None and length_up is None:
            continue
        size, length = _change(p, size_up, scores, seed), _change(p, length_up, scores, seed)
        slowdown = ratio(size_up.latency, p.latency) if size_up and size_up.latency and p.latency else None
        out.append(
            Step(
                p,
                size_up,
                length_up,
                size[2],
                length[2],
                slowdown,
                _cheaper_step(size, length),
                size_accuracy=size[0],
                size_energy=size[1],
                length_accuracy=length[0],
                length_energy=length[1],
            )
        )
    return out


def budget_pairs(ps: Sequence[Point], scores: Mapping | None = None, *, seed: int = SEED) -> list[BudgetPair]:
    """Each model against the next larger size of its family at the same length, batch asked and budget."""
    out = []
    for p in ps:
        same = [q for q in ps if _grid_key(q) == _grid_key(p) and q.family == p.family]
        bigger = [q for q in _sized(same) if q.input_len == p.input_len and q.params > p.params]
        if not bigger or p.energy is None or bigger[0].energy is None:
            continue
        larger = bigger[0]
        accuracy = _accuracy_difference(p, larger, scores, seed)
        if accuracy is None:
            continue
        energy = difference(p.energy, larger.energy)
        out.append(BudgetPair(p, larger, accuracy, energy, _better_and_cheaper(accuracy, energy)))
    return out


# -- findings ---------------------------------------------------------------------------------------


def _counts(comparisons: Sequence) -> tuple[str, int, int]:
    """("k of m" agreeing, disagreeing, undecided) for a summary sentence."""
    verdicts = [c.verdict for c in comparisons]
    return (
        f"{verdicts.count(AGREES)} of {len(verdicts)}",
        verdicts.count(DISAGREES),
        verdicts.count(UNDECIDED),
    )


def _finding(question: str, task: str, metric: str, kind: str, comparisons: list, summary: str) -> Finding:
    claim = CLAIMS[question]
    applies = claim.task_kind in ("all", kind)
    return Finding(question, task, metric, _verdict(comparisons), summary, claim, applies, tuple(comparisons))


def family_finding(task: str, metric: str, kind: str, pairs: list[FamilyPair]) -> Finding:
    agree, disagree, undecided = _counts(pairs)
    summary = (
        f"LED more accurate at lower energy in {agree} pairs; BigBird-Pegasus decidedly more accurate or "
        f"cheaper in {disagree}; undecided in {undecided}"
        if pairs
        else "no size and length measured or predicted for both families"
    )
    return _finding("family", task, metric, kind, pairs, summary)


def size_or_length_finding(task: str, metric: str, kind: str, found: list[Step]) -> Finding:
    agree, disagree, undecided = _counts(found)
    slow = [s.slowdown.value for s in found if s.slowdown is not None]
    free = sum(s.size_energy is not None and s.size_energy.high <= 0 for s in found)
    summary = (
        f"a size step buys more accuracy per joule than a length step from {agree} configurations; a "
        f"length step from {disagree}; undecided from {undecided}"
        + (f"; the size step costs no extra energy from {free}" if free else "")
        + (f"; the size step slows inference {statistics.median(slow):.3g}x (median)" if slow else "")
        if found
        else "no configuration has a larger size or a longer input beside it"
    )
    return _finding("size_or_length", task, metric, kind, found, summary)


def fixed_budget_finding(task: str, metric: str, kind: str, pairs: list[BudgetPair]) -> Finding:
    agree, disagree, undecided = _counts(pairs)
    larger_batch = sum((p.smaller.batch_size or 0) > (p.larger.batch_size or 0) for p in pairs)
    summary = (
        f"the smaller model is more accurate and cheaper under the same budget in {agree} pairs; the "
        f"larger decidedly more accurate, or the smaller costlier, in {disagree}; undecided in {undecided}; "
        f"the smaller trained with the larger batch in {larger_batch}"
        if pairs
        else "no two sizes of one family under the same budget and length"
    )
    return _finding("fixed_budget", task, metric, kind, pairs, summary)


def findings(
    rows: Sequence[dict],
    predictions: Sequence = (),
    *,
    scores: Mapping[str, Mapping[str, float]] | None = None,
    metrics: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    seed: int = SEED,
) -> list[TaskFindings]:
    """The three questions answered for every task that has an accuracy metric, in task order.

    `rows` are flat rows of measured records; `predictions` the cost model's Prediction per grid
    point (optional: without them only measured points count); `scores` maps a row's `key` to its
    per-example scores (example id -> score of the task's metric); `metrics` and `kinds` map a task to
    its accuracy metric (default: quantities.default_metric) and to "summary" or "qa" (default: from
    the metric).
    """
    everything = [*rows, *(p.row for p in predictions)]
    out = []
    for task in dict.fromkeys(str(r.get("task", "")) for r in everything):
        metric = (metrics or {}).get(task) or default_metric(
            [r for r in rows if str(r.get("task", "")) == task]
        )
        if metric is None:
            continue
        kind = (kinds or {}).get(task) or METRIC_KINDS.get(metric, "summary")
        task_rows = [r for r in rows if str(r.get("task", "")) == task]
        task_preds = [p for p in predictions if str(p.row.get("task", "")) == task]
        ps = points(task_rows, task_preds, metric=metric, scores=scores)
        out.append(
            TaskFindings(
                task,
                kind,
                metric,
                family_finding(task, metric, kind, family_pairs(ps, scores, seed=seed)),
                size_or_length_finding(task, metric, kind, steps(ps, scores, seed=seed)),
                fixed_budget_finding(task, metric, kind, budget_pairs(ps, scores, seed=seed)),
            )
        )
    return out
