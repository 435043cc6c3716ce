"""What each plot draws, computed from a Snapshot: series of points, curves and intervals (no widgets)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from costmodel import pareto
from costmodel.quantities import measured
from engine.rows import config_row
from tui import names, values
from tui.points import Point, metrics_by_task
from tui.workspace import Snapshot, no_model_reason

CURVE_POINTS = 32
COLOURS = ("cyan", "magenta", "yellow", "green", "bright_blue", "red", "bright_white", "orange1")
# (measured, predicted) per model, so that models are told apart without colour too
MARKERS = (("●", "○"), ("■", "□"), ("▲", "△"), ("◆", "◇"), ("▼", "▽"), ("★", "☆"))
LINE = "⠒⠒"  # how a fitted curve or a frontier is drawn (braille), as the legend shows it
PARITY = (  # the quantities a parity plot offers, in order
    "infer_latency",
    "gen_latency",
    "infer_energy",
    "gen_energy",
    "infer_memory",
    "train_latency",
    "train_energy",
    "train_memory",
    "accuracy",
)
PLOTS = ("infer_latency", "gen_latency", "infer_energy", "gen_energy", "accuracy", "parity")


@dataclass
class Series:
    """One thing drawn. kind: measured (filled), predicted (hollow, with interval), curve, front, diagonal."""

    kind: str
    label: str
    colour: str
    marker: str = ""  # the glyph of a measured or predicted point
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)  # predicted: the interval's ends
    high: list[float] = field(default_factory=list)


@dataclass
class PlotSpec:
    """A plot: its title, axes, series, the choice shown (model, task or quantity) and notes below it."""

    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    choice: str
    notes: list[str] = field(default_factory=list)
    legend: list[tuple[str, str, str]] = field(default_factory=list)  # (glyphs, colour, what they mark)


def _model_name(row: dict) -> str:
    batch = row.get("batch_size") or row.get("batch_request")
    return f"{row.get('family')}-{row.get('size')} b{batch}"


def choices(snap: Snapshot, plot: str) -> list[str]:
    """What `m` cycles through on a plot: "all" and each model, task or quantity."""
    if plot == "accuracy":
        return sorted({str(p.row.get("task")) for p in snap.points}) or ["—"]
    if plot == "parity":
        return [q for q in PARITY if snap.model is not None and q in snap.model.quantities] or ["—"]
    return ["all", *dict.fromkeys(_model_name(p.row) for p in snap.points)]


def build(snap: Snapshot, plot: str, choice: str) -> PlotSpec:
    if plot == "accuracy":
        return accuracy_energy(snap, choice)
    if plot == "parity":
        return parity(snap, choice)
    return against_length(snap, plot, choice)


def _measured(point: Point, quantity: str) -> float | None:
    est = point.prediction.get(quantity) if point.prediction else None
    if est is not None and est.measured is not None:
        return est.measured
    if quantity == "accuracy" or point.kind != "measured":
        return None
    return values.number(measured(point.row, quantity))


def against_length(snap: Snapshot, quantity: str, choice: str) -> PlotSpec:
    """A quantity against input length per model: measured filled, predicted hollow, the fitted curve."""
    label, scale = names.label(quantity), names.scale(quantity)
    configs = {c.key(): c for c in snap.configs}
    groups: dict[str, list[Point]] = {}
    for p in snap.points:
        name = _model_name(p.row)
        if choice in ("all", name):
            groups.setdefault(name, []).append(p)
    series: list[Series] = []
    legend: list[tuple[str, str, str]] = []
    for i, (name, points) in enumerate(groups.items()):
        colour = COLOURS[i % len(COLOURS)]
        filled, hollow = MARKERS[i % len(MARKERS)]
        measured = Series("measured", name, colour, filled)
        predicted = Series("predicted", name, colour, hollow)
        seen: set[int] = set()
        for p in sorted(points, key=lambda p: p.kind != "measured"):
            n = int(p.row["input_len"])
            if n in seen:  # the same model and length in another task: one point is enough
                continue
            value = _measured(p, quantity)
            est = p.prediction.get(quantity) if p.prediction else None
            if value is not None:
                measured.x.append(n)
                measured.y.append(value * scale)
            elif est is not None and p.kind == "predicted":
                predicted.x.append(n)
                predicted.y.append(est.value * scale)
                predicted.low.append(est.low * scale)
                predicted.high.append(est.high * scale)
            else:
                continue
            seen.add(n)
        series += [s for s in (measured, predicted) if s.x]
        if measured.x or predicted.x:
            legend.append((f"{filled}{hollow}", colour, name))
        if snap.model is not None and quantity in snap.model.quantities:
            config = next((configs[p.row["key"]] for p in points if p.row.get("key") in configs), None)
            if config is not None:
                series.append(_curve(snap, config, quantity, scale, name, colour))
    notes = [f"filled: measured · hollow: predicted, bar: 90% interval · {LINE}: fitted cost model"]
    if snap.model is None:
        notes.append(no_model_reason(snap))
    xlabel = f"input length, tokens · y: {label}"
    return PlotSpec(f"{label} against input length", xlabel, label, series, choice, notes, legend)


def _curve(snap: Snapshot, config, quantity: str, scale: float, name: str, colour: str) -> Series:
    """The model's prediction for one model across the grid's range of input lengths."""
    lengths = [c.input_len for c in snap.configs]
    lo, hi = min(lengths), max(lengths)
    xs = sorted({round(lo + (hi - lo) * i / (CURVE_POINTS - 1)) for i in range(CURVE_POINTS)})
    rows = [config_row(dataclasses.replace(config, input_len=n), snap.env) for n in xs]
    curve = Series("curve", name, colour)
    for n, prediction in zip(xs, snap.model.predict(rows), strict=True):
        est = prediction.get(quantity)
        if est is not None:
            curve.x.append(n)
            curve.y.append(est.value * scale)
    return curve


def accuracy_energy(snap: Snapshot, task: str) -> PlotSpec:
    """Accuracy against encoder energy per sample for one task, and the Pareto frontier through them."""
    metric = metrics_by_task(list(snap.rows)).get(task)
    measured = Series("measured", "measured", "cyan", "●")
    predicted = Series("predicted", "predicted, bar: 90% interval", "magenta", "○")
    points: list[tuple[float, float, str]] = []
    for p in snap.points:
        if str(p.row.get("task")) != task:
            continue
        batch = p.row.get("batch_size")
        batch = batch if isinstance(batch, int) and batch > 0 else 1
        energy = _measured(p, "infer_energy")
        acc_est = p.prediction.get("accuracy") if p.prediction else None
        accuracy = p.row.get(metric) if metric and p.kind == "measured" else None
        if energy is not None and isinstance(accuracy, int | float):
            measured.x.append(energy / batch)
            measured.y.append(float(accuracy))
            points.append((energy / batch, float(accuracy), _model_name(p.row)))
            continue
        est = p.prediction.get("infer_energy") if p.prediction else None
        if p.kind == "predicted" and est is not None and acc_est is not None:
            predicted.x.append(est.value / batch)
            predicted.y.append(acc_est.value)
            predicted.low.append(acc_est.low)
            predicted.high.append(acc_est.high)
            points.append((est.value / batch, acc_est.value, _model_name(p.row)))
    front = Series("front", "Pareto frontier", "green")
    for energy, accuracy, _ in pareto.front(points, lambda t: t[0], lambda t: t[1]):
        front.x.append(energy)
        front.y.append(accuracy)
    notes = []
    if len(front.x) > 0:
        cheapest, best_acc = front.x[0], front.y[-1]
        notes.append(
            f"frontier: {len(front.x)} points, from {cheapest:.3g} J/sample to accuracy {best_acc:.3g}"
        )
    ylabel = f"accuracy ({metric or 'no metric measured'})"
    series = [s for s in (front, measured, predicted) if s.x]
    xlabel = f"encoder energy, J/sample · y: {ylabel}"
    legend = _legend(series, "more accuracy for less energy")
    return PlotSpec("accuracy against energy, for task", xlabel, ylabel, series, task, notes, legend)


def _legend(series: list[Series], line_note: str = "") -> list[tuple[str, str, str]]:
    """One entry per series drawn: its marker (or the line) and its label."""
    out = []
    for s in series:
        if s.marker:
            out.append((s.marker, s.colour, s.label))
        else:
            out.append((LINE, s.colour, f"{s.label} ({line_note})" if line_note else s.label))
    return out


def parity(snap: Snapshot, quantity: str) -> PlotSpec:
    """Predicted against measured at every measured point, the diagonal, and the fit's validation."""
    if snap.model is None or quantity not in PARITY:
        return PlotSpec(
            "measured against predicted",
            "measured",
            "predicted",
            [],
            quantity,
            [no_model_reason(snap) if snap.model is None else f"the cost model does not predict {quantity}"],
        )
    label, scale = names.label(quantity), names.scale(quantity)
    inside = Series("predicted", "fitted on", "cyan", "●")
    held = Series("predicted", "held out", "magenta", "✕")
    for p in snap.predictions:
        est = p.get(quantity)
        if est is None or est.measured is None:
            continue
        s = inside if p.in_fit else held
        s.x.append(est.measured * scale)
        s.y.append(est.value * scale)
        s.low.append(est.low * scale)
        s.high.append(est.high * scale)
    values = inside.x + inside.y + held.x + held.y
    diagonal = Series("diagonal", "measured = predicted", "green")
    if values:
        diagonal.x = diagonal.y = [min(values), max(values)]
    notes = [
        f"validation: {names.plain_validation(fit.held_out())}"
        for fit in snap.model.fits
        if fit.quantity == quantity
    ]
    series = [s for s in (diagonal, inside, held) if s.x]
    notes.insert(0, "bar: 90% interval")
    xlabel = f"measured · y: predicted ({label})"
    legend = _legend(series)
    return PlotSpec(
        "predicted against measured", xlabel, f"predicted {label}", series, quantity, notes, legend
    )
