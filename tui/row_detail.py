"""A grid point in full, as Rich renderables: what the Results table's one row cannot hold.

Measured and failed points show their stored record: every phase's figures with their spread
(p10–p90 of the repetitions), the energy source and why the sources before it fell back, the
environment and a failure's whole reason. A predicted point shows each estimate with its 90%
interval, the fit that produced it (form, scope, coefficients, held-out errors) and the measured
configurations nearest to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from engine.record import PhaseResult, Record, is_estimate
from tui.format import fmt
from tui.points import metrics_by_task
from tui.report import ENERGY_SOURCES, PREDICTED, VERSIONS

if TYPE_CHECKING:
    from tui.points import Point
    from tui.workspace import Snapshot

NEIGHBOURS = 3  # measured configurations shown beside a prediction
ENV_KEYS = (
    "hardware",
    "device",
    "cpu",
    "cores",
    "threads",
    "driver",
    "gpu_memory_mb",
    "power_limit_w",
    "platform",
    "git_commit",
    "idle_power_w",
    "fault_s_per_byte",
)  # then the package versions (tui.report.VERSIONS) and the fingerprint


def label(row: dict) -> str:
    """family-size task n=length b=batch (the batch asked where none was resolved yet)."""
    batch = row.get("batch_size") or row.get("batch_request")
    return f"{row.get('family')}-{row.get('size')} {row.get('task')} n={row.get('input_len')} b={batch}"


def record_of(snap: Snapshot, key: object) -> Record | None:
    """The stored record the snapshot shows for a configuration key (latest success, else failure)."""
    for d in snap.records:
        record = Record.from_dict(d)
        if record.config.key() == key:
            return record
    return None


def _table(title: str, *columns: str, left: int = 1, header: bool = True) -> Table:
    """A borderless table whose first `left` columns are text, the rest right-aligned numbers."""
    table = Table(
        title=title, title_justify="left", title_style="bold", box=None, pad_edge=False, show_header=header
    )
    for i, name in enumerate(columns):
        table.add_column(name, justify="left" if i < left else "right", overflow="fold")
    return table


def _spread(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{fmt(low)}–{fmt(high)}"


def _phase_rows(p: PhaseResult) -> list[tuple[str, str, str, str]]:
    """(figure, value, p10–p90, more) for one phase, its repeated timings first."""
    out = [("wall time, s", fmt(p.seconds), "", "")]
    if p.timing:
        t = p.timing
        more = f"std {fmt(t.std_s)}, {t.repetitions} repetitions in {fmt(t.window_s)} s"
        out.append(("per repetition, s", fmt(t.median_s), _spread(t.p10_s, t.p90_s), more))
    figures = dict(p.figures)
    for name in [k[: -len("_median_s")] for k in p.figures if k.endswith("_median_s")]:
        median = figures.pop(f"{name}_median_s")
        low, high = figures.pop(f"{name}_p10_s", None), figures.pop(f"{name}_p90_s", None)
        std, reps = figures.pop(f"{name}_std_s", None), figures.pop(f"{name}_repetitions", None)
        more = ", ".join(
            ([f"std {fmt(std)}"] if std is not None else []) + ([f"{int(reps)} repetitions"] if reps else [])
        )
        out.append((f"{name}, s", fmt(median), _spread(low, high), more))
    if p.energy:
        e = p.energy
        more = (
            f"{fmt(e.above_idle_j)} J above idle; {fmt(e.avg_power_w)} W mean, {fmt(e.idle_power_w)} W idle"
        )
        out.append(("energy, J", fmt(e.joules), "", more))
    for name, value in figures.items():
        out.append((name, fmt(float(value)) if isinstance(value, int | float) else str(value), "", ""))
    if p.peak_memory_mb:
        out.append(("peak memory, MB", fmt(p.peak_memory_mb), "", ""))
    if p.attention_type:
        out.append(("attention", p.attention_type, "", ""))
    return out


def phases(record: Record) -> Table:
    """Every figure of every phase, with the spread of its repetitions where it was timed so."""
    table = _table(
        "Figures per phase (infer: per batch; train and eval: the whole phase)",
        "phase",
        "figure",
        "value",
        "p10–p90",
        "",
        left=2,
    )
    for p in record.phases:
        for i, (name, value, spread, more) in enumerate(_phase_rows(p)):
            table.add_row(p.phase if i == 0 else "", name, value, spread, Text(more, style="dim"))
        table.add_section()
    return table


def accuracy(record: Record) -> Text | None:
    """Every metric; the primary one with its 90% bootstrap interval over the evaluated examples."""
    if not record.metrics:
        return None
    text = Text("Accuracy: ", style="bold")
    text.append(", ".join(f"{k} {fmt(v)}" for k, v in record.metrics.items() if isinstance(v, int | float)))
    if record.example_scores:
        from costmodel.uncertainty import mean_interval

        x = mean_interval(record.example_scores)
        spread = f"90% {fmt(x.low)}–{fmt(x.high)}" if x.bounded else x.method
        text.append(
            f"\nper-example score: mean {fmt(x.value)} over {len(record.example_scores)} examples, {spread}"
        )
    return text


def energy(record: Record) -> Text:
    """Where the energy figures come from, and why each source tried before it did not work."""
    sources = {p.energy.source for p in record.phases if p.energy} or {record.env.get("energy_source", "")}
    text = Text("Energy source: ", style="bold")
    for source in sorted(s for s in sources if s):
        text.append(
            f"{source}: {ENERGY_SOURCES.get(source, 'unknown source')}",
            style="yellow" if is_estimate(source) else "",
        )
    if not any(sources):
        text.append("none (no phase was metered)", style="dim")
    fallbacks = record.env.get("energy_fallbacks")
    if fallbacks:
        text.append("\nfell back because:")
        for reason in fallbacks:
            text.append(f"\n  · {reason}")
    elif fallbacks is not None:
        text.append("\nno fallback: the first source tried worked", style="dim")
    return text


def environment(env: dict) -> Table:
    """The machine and the versions the record was measured with; its fingerprint matches records."""
    table = _table("Environment", "", "", header=False)
    for key in (*ENV_KEYS, *VERSIONS, "fingerprint"):
        if env.get(key) not in (None, ""):
            value = env[key]
            table.add_row(key, fmt(float(value)) if isinstance(value, float) else str(value))
    return table


def failure(record: Record) -> Text:
    f = record.failure
    text = Text(f"Failed in phase {f.phase} ({f.kind}):\n", style="bold red")
    text.append(f.error)
    return text


def _fit_text(model, quantity: str, row: dict) -> Text:
    """The fit's form and scope, its coefficients and its held-out errors; or why there is none."""
    fit = model.fit_for(quantity, row)
    if isinstance(fit, str):
        return Text(fit, style="dim")
    text = Text(f"{type(fit.form).__name__} ({' '.join(str(s) for s in fit.scope if s)}): ")
    text.append(", ".join(f"{k} {v:.3g}" for k, v in fit.coefficients.items()))
    text.append(f"\n{fit.held_out()}", style="dim")
    return text


def _distance(a: dict, b: dict) -> float:
    """Configurations apart: log input length, log parameters, and one for another family."""
    from costmodel.errors import FeatureError
    from costmodel.features import arch_of, param_count

    def params(row: dict) -> float:
        try:
            return float(param_count(arch_of(row)))
        except FeatureError:
            return math.nan

    d = abs(math.log(float(a["input_len"]) / float(b["input_len"])))
    p = abs(math.log(params(a) / params(b)))
    return d + (p if math.isfinite(p) else 1.0) + (a.get("family") != b.get("family"))


def nearest(point: Point, snap: Snapshot, n: int = NEIGHBOURS) -> list[dict]:
    """The measured rows of the point's task nearest to it (distance: log length + log parameters
    + 1 for another family)."""
    row = point.row
    ok = [r for r in snap.rows if r.get("status") == "ok" and r.get("task") == row.get("task")]
    return sorted(ok, key=lambda r: _distance(row, r))[:n]


def prediction(point: Point, snap: Snapshot) -> Table:
    """Each predicted quantity with its 90% interval, beside the nearest measured configurations."""
    from costmodel.quantities import UNITS, measured

    metric = metrics_by_task(list(snap.rows)).get(str(point.row.get("task")))
    near = nearest(point, snap)
    headers = [
        f"{r.get('family')}-{r.get('size')}\nn={r.get('input_len')} b={r.get('batch_size')}\n"
        f"measured, {_distance(point.row, r):.2f} away"
        for r in near
    ]
    table = _table(
        "Predicted by the cost model († extrapolated: beyond what was measured), and the nearest "
        "measured configurations of the task",
        "quantity",
        "predicted",
        "90% interval",
        *headers,
    )
    for quantity, est in point.prediction.estimates.items():
        unit = UNITS.get(quantity)
        measured_values = [
            measured(r, quantity, metric) if quantity != "accuracy" or metric else None for r in near
        ]
        table.add_row(
            f"{quantity}{' †' * est.extrapolated}" + (f", {unit}" if unit else ""),
            Text(fmt(est.value), style=PREDICTED),
            Text(_spread(est.low, est.high), style=PREDICTED),
            *(fmt(v) for v in measured_values),
        )
    return table


def fits(point: Point, snap: Snapshot) -> Table:
    """The fit behind each predicted quantity, and why the model predicts no other."""
    table = _table(
        "The fits that produced them", "quantity", "form (scope): coefficients, held-out errors", left=2
    )
    for quantity in point.prediction.estimates:
        table.add_row(quantity, _fit_text(snap.model, quantity, point.row))
    for note in point.prediction.notes:
        table.add_row("", Text(note, style="dim"))
    return table


def _heading(point: Point) -> Text:
    kind = "failed" if point.status == "failed" else {"planned": "not measured"}.get(point.kind, point.kind)
    text = Text(label(point.row), style="bold")
    text.append(f"\n{kind} · key {point.row.get('key')}", style="dim")
    return text


def detail(point: Point, snap: Snapshot) -> Group:
    """Everything the app knows of one grid point."""
    from tui.workspace import no_model_reason

    parts: list[RenderableType] = [_heading(point)]
    record = record_of(snap, point.row.get("key"))
    if record is not None:
        if record.failure:
            parts.append(failure(record))
        if record.phases:
            parts.append(phases(record))
        found = accuracy(record)
        if found:
            parts.append(found)
        parts += [energy(record), environment(record.env)]
    if point.kind == "predicted":
        parts.append(prediction(point, snap))
        if snap.model is not None:
            parts.append(fits(point, snap))
    elif record is None:
        why = (
            no_model_reason(snap)
            if snap.model is None
            else "; ".join(point.prediction.notes if point.prediction else ())
        )
        parts.append(Text(f"Not measured, and not predicted: {why or 'no fit covers it'}.", style="dim"))
    return Group(*_spaced(parts))


def _spaced(parts: Sequence[RenderableType]) -> list[RenderableType]:
    out: list[RenderableType] = []
    for part in parts:
        out += [part, Text()]
    return out[:-1]
