"""Figures for exports, drawn with matplotlib (the optional extra `figures`), returned as SVG text.

matplotlib is imported inside the functions only, so that `tradeoff-tui --help` and the app's start
load none of it; figures are drawn on a bare Figure (no pyplot, no GUI backend) and saved with the
SVG or Agg backend. Every drawn point carries an id, `point-<key>` with the row's RunConfig key
(matplotlib's `set_gid`, written by the SVG backend as an `id` attribute), so that a check can match
a figure's points to the records. Other artists carry ids too: `interval-<key>`, `front`,
`fit-b<batch>` and `band-b<batch>` (a fitted curve of one batch), `extrapolated`, `size-<key>` and
`length-<key>` (the arrows from the configuration `key`).

    svg = accuracy_energy(points)                                  # costmodel.findings.Point list
    svg = cost_against_length(rows, model, family="led", size="tiny", quantity="gen_latency")
    svg = parity(predictions, "infer_energy", model=model)
    svg = size_or_length_arrows(task_findings.size_or_length)

Each function also writes the figure to `path` when given (.svg, or .png through Agg).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from costmodel.quantities import TABLE, UNITS, measured
from costmodel.validate import HeldPoint

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from costmodel.findings import Finding, Point
    from costmodel.predict import Model, Prediction

MARKERS = {"led": "o", "bigbird-pegasus": "s"}
SPREAD = {q.name: (q.low, q.high) for q in TABLE if q.low}  # the p10 and p90 columns of a latency
SIZE_POINTS = (5.0, 14.0)  # marker size of the smallest and the largest model, points
PNG_DPI = 150
SVG_SALT = "tradeoff-tui"  # fixed, so that the same figure gives the same SVG


def point_id(key: str) -> str:
    """The SVG id of a drawn point: `point-` and the row's RunConfig key."""
    return f"point-{key}"


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG for embedding in HTML beside others: no XML prolog, every id (and reference) prefixed.

    Figures share ids (a point's `point-<key>`, matplotlib's marker and clip ids), so each figure
    of a page gets its own prefix: `point-<key>` becomes `<prefix>-point-<key>`.
    """
    body = svg[svg.index("<svg") :]
    body = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', body)
    body = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', body)
    return re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", body)


def _figure() -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    return fig, fig.add_subplot()


def _save(fig: Figure, path: str | Path | None) -> str:
    """The figure as SVG text; also written to `path` (.svg or .png) when given."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": SVG_SALT, "svg.fonttype": "none"}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
        svg = buf.getvalue()
        if path is not None:
            path = Path(path)
            if path.suffix == ".png":
                fig.savefig(path, format="png", dpi=PNG_DPI)
            else:
                path.write_text(svg)
    return svg


def _empty(ax: Axes, why: str) -> None:
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _log_if_wide(ax: Axes, values: Sequence[float], axis: str = "x") -> None:
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 20:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _styles(ps: Sequence[Point]) -> dict[str, dict]:
    """Marker, size and colour of each point: family by marker, size by marker size, length by colour."""
    from matplotlib import colormaps

    lengths = sorted({p.input_len for p in ps})
    params = sorted({p.params for p in ps if not math.isnan(p.params)})
    cmap = colormaps["viridis"]
    small, large = SIZE_POINTS

    def size_of(p: Point) -> float:
        if len(params) < 2 or math.isnan(p.params):
            return (small + large) / 2
        return small + (large - small) * params.index(p.params) / (len(params) - 1)

    return {
        p.key: {
            "marker": MARKERS.get(p.family, "^"),
            "markersize": size_of(p),
            "color": cmap(lengths.index(p.input_len) / max(1, len(lengths) - 1) * 0.9),
            "fillstyle": "full" if p.kind == "measured" else "none",
        }
        for p in ps
    }


def _legend(ax: Axes, ps: Sequence[Point], styles: dict[str, dict]) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], ls="", marker=MARKERS.get(f, "^"), color="0.3", label=f)
        for f in dict.fromkeys(p.family for p in ps)
    ]
    for size in dict.fromkeys(p.size for p in sorted(ps, key=lambda p: p.params)):
        markersize = next(styles[p.key]["markersize"] for p in ps if p.size == size)
        handles.append(Line2D([], [], ls="", marker="o", markersize=markersize, color="0.6", label=size))
    for n in sorted({p.input_len for p in ps}):
        colour = next(styles[p.key]["color"] for p in ps if p.input_len == n)
        handles.append(Line2D([], [], ls="", marker="o", color=colour, label=f"n={n}"))
    handles.append(Line2D([], [], ls="", marker="o", fillstyle="none", color="0.3", label="predicted"))
    ax.legend(handles=handles, fontsize="small", loc="best")


def _draw_points(ax: Axes, ps: Sequence[Point], xs: dict[str, float], styles: dict[str, dict]) -> None:
    """Each point as its own artist with its id, and its accuracy interval as a bar where bounded."""
    for p in ps:
        x, acc = xs[p.key], p.accuracy
        if acc is not None and acc.bounded and acc.high > acc.low:
            bar = ax.vlines(x, acc.low, acc.high, color=styles[p.key]["color"], lw=1, alpha=0.7)
            bar.set_gid(f"interval-{p.key}")
        (line,) = ax.plot([x], [acc.value], ls="", **styles[p.key])
        line.set_gid(point_id(p.key))


def _energy_of(p: Point, energy: str):
    return {"total": p.energy, "train": p.train_energy, "infer": p.infer_energy}[energy]


def front(ps: Sequence[Point], energy: str = "total") -> list[Point]:
    """Points no other beats on both lower energy and higher accuracy, by energy (the Pareto rule)."""
    from costmodel.pareto import front as pareto_front

    def cost(p: Point) -> float | None:
        e = _energy_of(p, energy)
        return None if e is None else e.value

    return pareto_front(ps, cost, lambda p: None if p.accuracy is None else p.accuracy.value)


ENERGY_LABELS = {
    "total": "energy: fine-tuning + inference over the evaluated examples (J)",
    "train": "fine-tuning energy (J)",
    "infer": "inference energy over the evaluated examples (J)",
}


def accuracy_energy(
    ps: Sequence[Point], *, metric: str = "accuracy", energy: str = "total", title: str = "", path=None
) -> str:
    """Accuracy against energy for one task's points (costmodel.findings.points), with the Pareto front.

    Family by marker, size by marker size, input length by colour, predicted points hollow, accuracy
    intervals as bars (none where the interval is unbounded: no per-example scores). `energy` is
    "total", "train" or "infer". Points without accuracy or that energy are left out.
    """
    if energy not in ENERGY_LABELS:
        raise ValueError(f"energy {energy!r} unknown; allowed: {', '.join(ENERGY_LABELS)}")
    fig, ax = _figure()
    placed = [p for p in ps if p.accuracy is not None and _energy_of(p, energy) is not None]
    if not placed:
        _empty(ax, "no point has both accuracy and energy")
        return _save(fig, path)
    xs = {p.key: _energy_of(p, energy).value for p in placed}
    styles = _styles(placed)
    best = front(placed, energy)
    (line,) = ax.step(
        [xs[p.key] for p in best], [p.accuracy.value for p in best], where="post", color="0.5", lw=1, zorder=0
    )
    line.set_gid("front")
    _draw_points(ax, placed, xs, styles)
    _log_if_wide(ax, list(xs.values()))
    ax.set_xlabel(ENERGY_LABELS[energy])
    ax.set_ylabel(metric)
    ax.set_title(title or "accuracy against energy; the line is the Pareto front", fontsize="medium")
    _legend(ax, placed, styles)
    return _save(fig, path)


def _curve_rows(base: dict, lengths: Sequence[int]) -> list[dict]:
    """A measured row at other lengths: what its encoder ran there follows the shared rule, not its record."""
    return [{**base, "input_len": int(n), "attention": ""} for n in lengths]


def _fitted_curve(model: Model | None, quantity: str, row: dict, lengths: Sequence[int]) -> list:
    """(length, Estimate) of the model's fit for `row`'s configuration at each length it can take."""
    from costmodel.errors import FeatureError

    fit = model.fit_for(quantity, row) if model is not None else None
    if fit is None or isinstance(fit, str):
        return []
    curve = []
    for n in sorted({int(n) for n in lengths}):
        try:
            curve.append((n, fit.estimate(_curve_rows(row, [n]))[0]))
        except FeatureError:
            continue  # a length the model cannot take
    return curve


def cost_against_length(
    rows: Sequence[dict],
    model: Model | None,
    *,
    family: str,
    size: str,
    quantity: str,
    lengths: Sequence[int] | None = None,
    path=None,
) -> str:
    """A cost quantity against input length for one model: per batch it ran, the measured points, the
    fit and its band.

    `rows` are flat rows (the successful ones of this family and size are drawn, each with its p10-p90
    bar where the quantity has one). Under batch "auto" each length has a batch of its own, so each
    batch is a curve of its own colour. `model` (costmodel Model) draws each fitted curve over
    `lengths` (default: the measured range to twice its top) with its 90% band; lengths beyond those
    measured are shaded.
    """
    fig, ax = _figure()
    mine = [
        r
        for r in rows
        if r.get("status", "ok") == "ok"
        and r.get("family") == family
        and r.get("size") == size
        and measured(r, quantity) is not None
    ]
    unit = UNITS.get(quantity, "")
    ax.set_title(f"{family}-{size}: {quantity}", fontsize="medium")
    ax.set_xlabel("input length (tokens)")
    ax.set_ylabel(f"{quantity} ({unit})" if unit else quantity)
    if not mine:
        _empty(ax, "no successful measurement of this model")
        return _save(fig, path)
    measured_lengths = sorted({int(r["input_len"]) for r in mine})
    if lengths is None:
        top = measured_lengths[-1]
        lengths = sorted({*measured_lengths, *(int(top * f) for f in (1.25, 1.5, 1.75, 2.0))})
    if max(lengths) > measured_lengths[-1]:
        shade = ax.axvspan(
            measured_lengths[-1], max(lengths), color="0.85", zorder=0, label="beyond the measured lengths"
        )
        shade.set_gid("extrapolated")
    low_col, high_col = SPREAD.get(quantity, (None, None))
    marker = MARKERS.get(family, "^")
    for number, batch in enumerate(sorted({r.get("batch_size") for r in mine})):
        colour = f"C{number}"
        style = {"ls": "", "marker": marker, "color": colour, "mec": "black", "mew": 0.5}
        these = [r for r in mine if r.get("batch_size") == batch]
        curve = _fitted_curve(model, quantity, these[0], lengths)
        if curve:
            xs = [n for n, _ in curve]
            lows, highs = [e.low for _, e in curve], [e.high for _, e in curve]
            ax.fill_between(xs, lows, highs, color=colour, alpha=0.15, lw=0).set_gid(f"band-b{batch}")
            values = [e.value for _, e in curve]
            (line,) = ax.plot(xs, values, color=colour, lw=1.2, label=f"b={batch}: fit, 90% band")
            line.set_gid(f"fit-b{batch}")
        for r in these:
            x, y = int(r["input_len"]), measured(r, quantity)
            lo, hi = r.get(low_col) if low_col else None, r.get(high_col) if high_col else None
            if lo is not None and hi is not None:
                ax.vlines(x, lo, hi, color=colour, lw=1).set_gid(f"interval-{r['key']}")
            (point,) = ax.plot([x], [y], **style)
            point.set_gid(point_id(str(r["key"])))
        ax.plot([], [], **style, label=f"b={batch}: measured, p10-p90")
    ax.legend(fontsize="small", loc="best")
    return _save(fig, path)


def parity(predictions: Sequence[Prediction], quantity: str, *, model: Model | None = None, path=None) -> str:
    """Predicted against measured at held-out points, with the line y = x: the measured points the
    model was not fitted on, else (every measured point fitted on) each fitted row as a refit without
    its configuration predicts it (the fits' leave-one-configuration-out points, one per key).

    Each point carries its 90% interval as a bar where one was made; the validation figures of the
    quantity's fits in `model` (leave-one-configuration-out and leave-one-size-out) are written under
    the axes.
    """
    fig, ax = _figure()
    fits = [f for f in (model.fits if model else ()) if f.quantity == quantity]
    held = [
        HeldPoint(str(p.row.get("key", "")), est.measured, est.value, est.low, est.high)
        for p in predictions
        if not p.in_fit and (est := p.get(quantity)) is not None and est.measured is not None
    ]
    refits = not held
    if refits:
        first: dict[str, HeldPoint] = {}  # a row's key once, as the first fit holds it
        for f in fits:
            for h in f.validation.loco.by_row if f.validation.loco else ():
                first.setdefault(h.key, h)
        held = list(first.values())
    family = {str(p.row.get("key", "")): str(p.row.get("family")) for p in predictions}
    unit = UNITS.get(quantity, "")
    name = f"{quantity} ({unit})" if unit else quantity
    ax.set_xlabel(f"measured {name}")
    ax.set_ylabel(f"predicted {name}" + (" by a refit without its configuration" if refits else ""))
    lines = [f"{f.quantity} {'/'.join(f.scope)}: {f.held_out()}" for f in fits]
    if lines:
        ax.text(0.01, 0.99, "\n".join(lines), transform=ax.transAxes, fontsize="x-small", va="top", wrap=True)
    if not held:
        _empty(ax, "no held-out point: no measured point was left out of a fit")
        return _save(fig, path)
    values = [
        v
        for h in held
        for v in (h.measured, h.predicted, h.low, h.high)
        if v is not None and math.isfinite(v)
    ]
    lo, hi = min(values), max(values)
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=1, zorder=0)
    if hi > lo:  # the same range on both axes, so that y = x is the diagonal
        pad = 0.05 * (hi - lo)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
    for h in held:
        if h.low is not None and h.high is not None:
            ax.vlines(h.measured, h.low, h.high, color="C0", lw=1, alpha=0.7).set_gid(f"interval-{h.key}")
        marker = MARKERS.get(family.get(h.key, ""), "^")
        (point,) = ax.plot([h.measured], [h.predicted], ls="", marker=marker, color="C0")
        point.set_gid(point_id(h.key))
    if quantity != "accuracy" and lo > 0 and hi / lo > 20:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(lo / 1.1, hi * 1.1)
        ax.set_ylim(lo / 1.1, hi * 1.1)
    banded = [h for h in held if h.low is not None and h.high is not None]
    inside = sum(h.low <= h.measured <= h.high for h in banded)
    ax.set_title(
        f"{quantity}: {inside} of {len(banded)} held-out points inside their 90% interval", fontsize="medium"
    )
    return _save(fig, path)


def size_or_length_arrows(finding: Finding, *, path=None) -> str:
    """The size-or-length finding on accuracy against energy: from each configuration, an arrow to one
    size up (solid) and one to a longer input (dashed)."""
    from matplotlib.patches import FancyArrowPatch

    fig, ax = _figure()
    ps = [p for p in finding.points if p.accuracy is not None and p.energy is not None]
    ax.set_xlabel(ENERGY_LABELS["total"])
    ax.set_ylabel(finding.metric)
    ax.set_title(f"{finding.task}: size step (solid) against length step (dashed)", fontsize="medium")
    if not ps:
        _empty(ax, "no configuration has a larger size or a longer input beside it")
        return _save(fig, path)
    styles = _styles(ps)
    xs = {p.key: p.energy.value for p in ps}
    placed = set(xs)
    for step in finding.comparisons:
        for name, target, style in (("size", step.size_up, "-"), ("length", step.length_up, "--")):
            if target is None or step.start.key not in placed or target.key not in placed:
                continue
            arrow = FancyArrowPatch(
                (xs[step.start.key], step.start.accuracy.value),
                (xs[target.key], target.accuracy.value),
                arrowstyle="-|>",
                mutation_scale=10,
                linestyle=style,
                color="C3" if name == "size" else "C0",
                lw=1,
                zorder=1,
            )
            arrow.set_gid(f"{name}-{step.start.key}")
            ax.add_patch(arrow)
    _draw_points(ax, ps, xs, styles)
    _log_if_wide(ax, list(xs.values()))
    ax.autoscale_view()
    _legend(ax, ps, styles)
    return _save(fig, path)


def report_figures(
    rows: Sequence[dict],
    predictions: Sequence[Prediction],
    model: Model | None,
    task_findings: Sequence,
    *,
    scores=None,
) -> dict[str, str]:
    """Every figure of a report as SVG text, by a name fit for a file (add .svg or .png).

    Per task (costmodel.findings.TaskFindings): `accuracy-energy-TASK` and `size-or-length-TASK`.
    Per measured model: `gen_latency-FAMILY-SIZE` and `gen_energy-FAMILY-SIZE` against input length.
    Per quantity of `model` with held-out points (parity): `parity-QUANTITY`. `scores` as costmodel.findings.
    """
    from costmodel.findings import points

    out: dict[str, str] = {}
    for tf in task_findings:
        task_rows = [r for r in rows if str(r.get("task", "")) == tf.task]
        task_preds = [p for p in predictions if str(p.row.get("task", "")) == tf.task]
        ps = points(task_rows, task_preds, metric=tf.metric, scores=scores)
        title = f"{tf.task}: accuracy against energy; the line is the Pareto front"
        out[f"accuracy-energy-{tf.task}"] = accuracy_energy(ps, metric=tf.metric, title=title)
        out[f"size-or-length-{tf.task}"] = size_or_length_arrows(tf.size_or_length)
    ok = [r for r in rows if r.get("status", "ok") == "ok"]
    for family, size in dict.fromkeys((r.get("family"), r.get("size")) for r in ok):
        for quantity in ("gen_latency", "gen_energy"):
            if any(r.get("family") == family and r.get("size") == size and measured(r, quantity) for r in ok):
                out[f"{quantity}-{family}-{size}"] = cost_against_length(
                    rows, model, family=str(family), size=str(size), quantity=quantity
                )
    for quantity in model.quantities if model is not None else ():
        if any(
            not p.in_fit and (e := p.get(quantity)) is not None and e.measured is not None
            for p in predictions
        ) or any(
            f.quantity == quantity and f.validation.loco and f.validation.loco.by_row for f in model.fits
        ):
            out[f"parity-{quantity}"] = parity(predictions, quantity, model=model)
    return out
