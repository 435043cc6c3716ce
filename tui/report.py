"""The Rich report of a sweep: a header, the results per grid point, validation and the Pareto frontier.

Imports rich, the standard library and costmodel.quantities (itself standard library only: a grid
point's identity and the preferred accuracy metric are the cost model's). It receives flat rows
(engine Record.flat()) and, when there is a cost model, its Predictions and Model, read by attribute.
It prints nothing: the headless run prints the renderables it returns, the app shows them and
tui.export writes them to files.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from costmodel.pareto import cheapest_tied, front
from costmodel.quantities import BY_NAME, TABLE
from tui import values
from tui.format import NONE, fmt, one_line
from tui.points import (
    Point,
    batch_label,
    grid_points,
    held_out_checks,
    metrics_by_task,
    row_label,
    scores_shown,
)
from tui.values import Shown
from tui.values import number as _num

if TYPE_CHECKING:
    from costmodel.fit import Fit
    from costmodel.predict import Model, Prediction
    from costmodel.validate import HeldOut

VERSIONS = ("python", "torch", "transformers", "tokenizers", "datasets", "evaluate", "numpy", "nvidia-ml-py")
ENERGY_SOURCES = {
    "nvml-counter": "measured by the GPU energy counter (NVML)",
    "nvml-power": "measured from GPU power samples (NVML), integrated",
    "rapl": "measured by the CPU package and DRAM counters (RAPL)",
    "estimate": "an ESTIMATE, not a measurement: CPU TDP x utilisation, plus memory",
    "rapl-cpu-only": "measured by the CPU's RAPL counters only: the GPU's energy is MISSING",
    "estimate-cpu-only": "an ESTIMATE of the CPU only (TDP x utilisation): the GPU's energy is MISSING",
}
PREDICTED = "dim italic"
EXTRAPOLATED = "†"
LOW_CONFIDENCE = "*"
MACHINE_RATE = "‡"  # a term charged at a rate measured on the machine, not fitted


# ----------------------------------------------------------------------------------------- values


PEAK = "peak"  # the largest peak memory of any phase, measured or predicted
COLUMNS = ("infer_latency", "gen_latency", "train_latency", "train_energy", "infer_energy", PEAK)
HEADERS = {PEAK: "peak MB\nany phase"} | {q.name: q.header for q in TABLE if q.header}


def _peak_memory(row: dict) -> float | None:
    values = [v for k, x in row.items() if k.endswith("_peak_memory_mb") and (v := _num(x)) is not None]
    return max(values) if values else None


def _predicted_memory(point: Point) -> Shown | None:
    p = point.prediction
    ests = [e for q in ("infer_memory", "train_memory") if p and (e := p.get(q))]
    est = max(ests, key=lambda e: e.value) if ests else None
    return None if est is None else Shown(est.value, est.low, est.high, est)


def _measured_cell(point: Point, name: str, metric: str | None) -> tuple[str, str]:
    """A measured figure and the line below it: p10–p90, the part above idle or the 90% interval."""
    row = point.row
    if name == PEAK:
        value = _peak_memory(row)
        return fmt(value), ""
    q = BY_NAME[name]
    found = values.measured(row, q, metric)
    if found is None:
        return NONE, ""
    if name == "accuracy":
        detail = _accuracy_interval(point)
    elif found.low is not None:
        detail = f"{fmt(found.low)}–{fmt(found.high)}"
    elif q.above_idle and (idle := _num(row.get(q.above_idle))) is not None:
        detail = f"{fmt(idle)} >idle"
    else:
        detail = ""
    return fmt(found.value), detail


def _estimate(point: Point, name: str) -> Shown | None:
    return _predicted_memory(point) if name == PEAK else values.predicted(point, BY_NAME[name])


def _predicted(found: Shown | None) -> tuple[str, str]:
    if found is None:
        return NONE, ""
    mark = EXTRAPOLATED if found.estimate is not None and found.estimate.extrapolated else ""
    return f"~{fmt(found.value)}{mark}", f"{fmt(found.low)}–{fmt(found.high)}"


def _figures(point: Point, metric: str | None) -> list[tuple[str, str, str]]:
    """(column header, value, the line below it) for accuracy and every quantity of a point."""
    names = ("accuracy", *COLUMNS)
    if point.kind == "predicted":
        cells = [_predicted(_estimate(point, n)) for n in names]
    else:
        cells = [_measured_cell(point, n, metric) for n in names]
    return [(HEADERS[n], v, d) for n, (v, d) in zip(names, cells, strict=True)]


def _accuracy_interval(point: Point) -> str:
    """The measured accuracy's 90% bootstrap interval over its examples, or "" without scores."""
    if not point.scores:
        return ""
    from costmodel.uncertainty import mean_interval

    x = mean_interval(point.scores)
    if x.method == "no-spread":
        return f"every example {fmt(x.value)}"
    return f"90% {fmt(x.low)}–{fmt(x.high)}" if x.bounded else f"{x.method}: no interval"


def _value(point: Point, name: str, metric: str | None = None) -> float | None:
    """The figure a point shows: measured where measured, else the model's; None when neither."""
    if point.kind != "measured":
        found = _estimate(point, name)
    elif name == PEAK:
        return _peak_memory(point.row)
    else:
        found = values.measured(point.row, BY_NAME[name], metric)
    return None if found is None else found.value


# ----------------------------------------------------------------------------------------- sections


def _sources(rows: Sequence[dict]) -> dict[str, bool]:
    """The energy sources of the successful rows, each with whether it estimates (Record.flat)."""
    ok = [r for r in rows if r.get("status") == "ok" and r.get("energy_source")]
    return {str(r["energy_source"]): bool(r.get("energy_estimated")) for r in sorted(ok, key=_source)}


def _source(row: dict) -> str:
    return str(row["energy_source"])


def _header(
    title: str,
    points: list[Point],
    rows: Sequence[dict],
    env: dict,
    notes: Sequence[str],
    sources: dict[str, bool],
) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()

    def seen(name: str) -> str:
        return str(env.get(name) or ", ".join(sorted({str(r[name]) for r in rows if r.get(name)})) or NONE)

    grid.add_row("hardware", seen("hardware"))
    device = seen("device")
    if env.get("threads"):
        threads = int(env["threads"])
        device += f" ({threads} thread{'s' * (threads != 1)} of {env.get('cores') or '?'} cores)"
    grid.add_row("device", device)
    energy = Text()
    for i, s in enumerate(sources):
        energy.append("; " if i else "")
        warn = sources[s] or s.endswith("cpu-only")
        energy.append(f"{s}: {ENERGY_SOURCES.get(s, 'unknown source')}", style="bold yellow" if warn else "")
    fallbacks = env.get("energy_fallbacks") or []
    if fallbacks:
        energy.append(f"\nnot used: {'; '.join(fallbacks)}", style="dim")
    grid.add_row("energy source", energy if sources else Text("none recorded", style="yellow"))
    idle = _num(env.get("idle_power_w"))
    grid.add_row(
        "idle power",
        f"{fmt(idle)} W (energy figures are totals; '>idle' lines are above idle)"
        if idle is not None
        else NONE,
    )
    grid.add_row("configurations", _counts(points))
    passes = _passes(rows)
    if passes:
        grid.add_row("passes", passes)
    versions = [f"{k} {env[k]}" for k in VERSIONS if env.get(k)]
    if versions:
        grid.add_row("versions", " · ".join(versions))
    for key, label in (("fingerprint", "fingerprint"), ("git_commit", "commit")):
        if env.get(key):
            grid.add_row(label, str(env[key]))
    for note in notes:
        grid.add_row("note", one_line(note, 300))
    return Panel(grid, title=f"[bold]{title}[/]", title_align="left")


def _passes(rows: Sequence[dict]) -> str:
    """How many interleaved passes the records hold and how far they disagreed ("" for one pass)."""
    for phase in ("infer", "train", "eval"):
        held = [r for r in rows if r.get("status") == "ok" and (r.get(f"{phase}_passes") or 1) > 1]
        if held:
            counts = sorted({int(r[f"{phase}_passes"]) for r in held})
            spreads = [100 * float(r[f"{phase}_pass_spread"]) for r in held]
            return (
                f"{'/'.join(map(str, counts))} interleaved passes per configuration, median kept; "
                f"{phase} time differed between passes by a median {statistics.median(spreads):.0f}% "
                f"(worst {max(spreads):.0f}%)"
            )
    return ""


def _counts(points: list[Point]) -> str:
    kinds = Counter(p.kind for p in points)
    parts = [f"{kinds['measured']} measured"] + [
        f"{kinds[k]} {label}"
        for k, label in (("predicted", "predicted"), ("planned", "not measured"))
        if kinds[k]
    ]
    failed = sum(p.status == "failed" for p in points)
    return (
        f"{len(points)} points: " + ", ".join(parts) + (f"; {failed} failed when measured" if failed else "")
    )


def _config_cell(point: Point) -> Text:
    row, batch = point.row, batch_label(point)
    return Text(
        f"{row.get('family')}\n{row.get('size')} n={row.get('input_len')} b={batch}\n{row.get('task')}"
    )


def _kind_marks(point: Point) -> list[str]:
    if point.kind != "predicted":
        return [point.kind]
    p = point.prediction
    return (
        ["predicted"] + (["extrap."] if p.extrapolated else []) + (["low conf."] if p.low_confidence else [])
    )


def _kind_cell(point: Point, sep: str = "\n") -> Text:
    style = {"measured": "bold", "failed": "red", "planned": "dim"}.get(point.kind, "")
    return Text(sep.join(_kind_marks(point)), style=style)


def _status_cell(point: Point, failures: dict[int, int]) -> Text:
    r = point.row
    if point.status == "ok":
        return Text("ok", style="green")
    if point.status == "failed":
        text = Text(f"failed [{failures[id(point)]}]", style="red")
        text.append(f"\n{r.get('failed_phase') or '?'} {r.get('failure_kind') or ''}".rstrip(), style="red")
        return text
    return Text("not measured", style="dim")


def _failures(points: list[Point]) -> Text:
    """The failed points' reasons, numbered as in the status column."""
    lines = []
    for n, p in enumerate(points, 1):
        r = p.row
        reason = ": ".join(
            str(x) for x in (r.get("failed_phase"), r.get("failure_kind"), r.get("error")) if x
        )
        lines.append(f"[{n}] {row_label(r)}: {one_line(reason)}")
    return Text("\n".join(lines), style="red")


def _source_cell(point: Point, sources: dict[str, bool]) -> Text:
    """Where a point's energy figures come from: a measurement's source, or the model fitted on them."""
    if point.kind == "predicted":
        text = Text("model")
        if sources:
            text.append("\nof " + ", ".join(sources), style="yellow" if any(sources.values()) else "")
        return text
    s = str(point.row.get("energy_source") or NONE)
    return Text(s, style="bold yellow" if point.row.get("energy_estimated") else "")


class _Results:
    """The results table where it fits the width; one block per point where it does not."""

    def __init__(self, table: Table, blocks: Group, caption: Text) -> None:
        self.table, self.blocks, self.caption = table, blocks, caption

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        natural = Measurement.get(console, options.update_width(10_000), self.table).maximum
        yield self.table if natural <= options.max_width else self.blocks
        yield self.caption


def _caption(metrics: dict[str, str], predicted: bool) -> Text:
    lines = ["n: input length, b: batch", "measured: median, below it p10–p90"]
    if predicted:
        lines.append(
            f"~predicted: model value ({EXTRAPOLATED} extrapolated beyond the measured range), "
            "below it the 90% interval"
        )
    lines.append("energy: total per batch or per training run, below it the part above idle")
    if metrics:
        lines.append("accuracy: " + ", ".join(f"{m} ({t})" for t, m in metrics.items()))
    return Text("\n".join(lines), style="dim")


def _cell(value: str, detail: str) -> Text:
    text = Text(value)
    if detail:
        text.append("\n" + detail, style="dim")
    return text


def _table(
    points: list[Point], metrics: dict[str, str], sources: dict[str, bool], failures: dict[int, int]
) -> Table:
    table = Table(title="Results", header_style="bold", box=box.SIMPLE_HEAD, padding=(0, 0))
    table.add_column("configuration", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    for header in (HEADERS[n] for n in ("accuracy", *COLUMNS)):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("source", min_width=8)
    table.add_column("status", min_width=8)
    for point in points:
        figures = _figures(point, metrics.get(str(point.row.get("task", ""))))
        table.add_row(
            _config_cell(point),
            _kind_cell(point),
            *(_cell(v, d) for _, v, d in figures),
            _source_cell(point, sources),
            _status_cell(point, failures),
            style=PREDICTED if point.kind == "predicted" else None,
            end_section=True,
        )
    return table


def _block(point: Point, metric: str | None, sources: dict[str, bool], failures: dict[int, int]) -> Group:
    """One point for a narrow console: a heading line, then its figures in two columns."""
    r = point.row
    head = Text(
        f"{r.get('family')} {r.get('size')} n={r.get('input_len')} b={batch_label(point)} {r.get('task')}",
        style="bold",
    )
    for label, part in (
        ("", _kind_cell(point, ", ")),
        ("", _status_cell(point, failures)),
        ("energy: ", _source_cell(point, sources)),
    ):
        head.append(f" · {label}")
        head.append(" ".join(part.plain.split()), style=part.style)
    figures = [(h.replace("\n", " "), v, d) for h, v, d in _figures(point, metric)]
    half = (len(figures) + 1) // 2
    grid = Table.grid(padding=(0, 1))
    for justify in ("left", "right", "left", "left", "left", "right", "left"):
        grid.add_column(justify=justify)
    for left, right in zip(
        figures[:half], figures[half:] + [("", "", "")] * (2 * half - len(figures)), strict=True
    ):
        name, value, detail = (Text(x, style=st) for x, st in zip(left, ("dim", "", "dim"), strict=True))
        name2, value2, detail2 = (Text(x, style=st) for x, st in zip(right, ("dim", "", "dim"), strict=True))
        grid.add_row(name, value, detail, "", name2, value2, detail2)
    style = PREDICTED if point.kind == "predicted" else ""
    return Group(head, Padding(grid, (0, 0, 1, 2), style=style))


def _results(
    points: list[Point], metrics: dict[str, str], sources: dict[str, bool], failures: dict[int, int]
) -> _Results:
    blocks = [_block(p, metrics.get(str(p.row.get("task", ""))), sources, failures) for p in points]
    return _Results(
        _table(points, metrics, sources, failures),
        Group(Text("Results", style="bold"), *blocks),
        _caption(metrics, any(p.kind == "predicted" for p in points)),
    )


def _error(value: float, unit: str) -> str:
    return fmt(value) + ("%" if unit == "%" else "")


def _held_cells(held: HeldOut | None, unit: str) -> tuple[str, str, str]:
    """Median error, worst error and the share inside the 90% interval."""
    if held is None:
        return NONE, NONE, NONE
    cover = NONE if held.coverage is None else f"{100 * held.coverage:.0f}%"
    return _error(held.median, unit), _error(held.worst, unit), cover


def _compact(title: str, caption: str = "") -> Table:
    """A table that fits narrow consoles: no vertical rules, one space between columns."""
    return Table(
        title=title,
        caption=caption or None,
        caption_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        padding=(0, 0),
    )


def _validation(fits: Sequence[Fit]) -> Table:
    rates = sorted({value for fit in fits for term, value in fit.machine_rates if term == "fresh_bytes"})
    measured_rate = (
        f" · {MACHINE_RATE} blocks of 32 MiB or more, which too few fitted rows reach, charged at the "
        f"rate measured on the machine ({', '.join(f'{1e9 * r:.2g}' for r in rates)} ns/B)"
        if rates
        else ""
    )
    table = _compact(
        "Cost model validation (errors on held-out points)",
        "config out: each configuration left out in turn, refitted and predicted; size out: each model "
        "size likewise · errors: absolute % for cost, absolute in the metric's units for accuracy · "
        f"in 90%: share of held-out points inside their 90% interval · {LOW_CONFIDENCE} low confidence: "
        "few points support the fit" + measured_rate,
    )
    table.add_column("quantity", no_wrap=True)
    table.add_column("scope")
    table.add_column("rows\n(configs)", justify="right")
    for name in ("config\nout\nmedian", "config\nout\nworst", "config\nout\nin 90%"):
        table.add_column(name, justify="right", no_wrap=True)
    for name in ("size\nout\nmedian", "size\nout\nworst", "size\nout\nin 90%"):
        table.add_column(name, justify="right", no_wrap=True)
    fingerprints = {f.scope[0] for f in fits if f.quantity != "accuracy"}
    accuracy_tasks = [f.scope[0] for f in fits if f.quantity == "accuracy"]
    for fit in fits:
        v = fit.validation
        scope = fit.scope if len(fingerprints) > 1 else fit.scope[1:]
        if fit.quantity == "accuracy":  # its training setup, where a task has several
            scope = fit.scope if accuracy_tasks.count(fit.scope[0]) > 1 else fit.scope[:2]
        table.add_row(
            fit.quantity + LOW_CONFIDENCE * fit.low_confidence + MACHINE_RATE * bool(fit.machine_rates),
            " ".join(str(s) for s in scope if s),
            f"{fit.rows} ({fit.configs})",
            *_held_cells(v.loco, v.unit),
            *_held_cells(v.loso, v.unit),
        )
    return table


def _checked(checks: Mapping[str, HeldOut]) -> Table | None:
    """Predictions at measured points the model was not fitted on, against their measurements."""
    if not checks:
        return None
    table = Table(
        title="Predictions checked against measurements the model was not fitted on", header_style="bold"
    )
    for name, justify in (("quantity", "left"), ("points", "right"), ("median error", "right")):
        table.add_column(name, justify=justify)
    table.add_column("worst error", justify="right")
    table.add_column("in interval", justify="right")
    for q, held in checks.items():
        unit = "" if q == "accuracy" else "%"
        inside = NONE if held.coverage is None else f"{100 * held.coverage:.0f}%"
        table.add_row(q, str(held.points), _error(held.median, unit), _error(held.worst, unit), inside)
    return table


def _problems(model: Model | None, points: list[Point]) -> Text | None:
    lines = [f"could not fit: {one_line(p, 300)}" for p in (model.problems if model else ())]
    reasons = Counter(
        n
        for p in points
        if p.kind == "predicted"
        for n in p.prediction.notes
        if not str(n).startswith("measured: failed")
    )
    lines += [f"not predicted ({count} points): {one_line(n, 300)}" for n, count in reasons.items()]
    return Text("\n".join(lines), style="yellow") if lines else None


def _pareto(points: list[Point], metrics: dict[str, str]) -> Table | None:
    """Per task, the points no other beats on both accuracy and inference cost per sample."""
    table = _compact(
        "Pareto frontier: accuracy against infer energy and encoder latency, per sample",
        "measured values where measured, else the model's · cheapest first",
    )
    for name in ("configuration", "kind"):
        table.add_column(name)
    table.add_column("accuracy", justify="right")
    table.add_column("cost", justify="right", no_wrap=True)
    for task, metric in metrics.items():
        for unit, q in (("J/sample", "infer_energy"), ("ms/sample", "infer_latency")):
            found = []
            for p in points:
                batch = _num(p.row.get("batch_size")) or (p.prediction and p.prediction.batch_size)
                acc, cost = _value(p, "accuracy", metric), _value(p, q)
                if str(p.row.get("task", "")) == task and acc is not None and cost is not None and batch:
                    found.append((cost / batch, acc, p))
            table.add_section()
            for cost, acc, p in front(found, lambda t: t[0], lambda t: t[1]):
                style = PREDICTED if p.kind == "predicted" else None
                table.add_row(row_label(p.row), p.kind, fmt(acc), f"{fmt(cost)} {unit}", style=style)
            top = max(found, key=lambda t: (t[1], -t[0]), default=None)
            tie = top and cheapest_tied(top, found, lambda t: t[0], lambda t: t[2].scores)
            if tie is not None:
                cost, acc, p = tie
                table.add_row(row_label(p.row), "tied within noise", fmt(acc), f"{fmt(cost)} {unit}")
    return table if table.row_count else None


def build_report(
    *,
    title: str,
    rows: Sequence[dict],
    predictions: Sequence[Prediction] | None = None,
    model: Model | None = None,
    env: dict | None = None,
    notes: Sequence[str] = (),
    scores: Mapping[str, Mapping[str, float]] | None = None,
    task_findings: Sequence | None = None,
    checks: Mapping[str, HeldOut] | None = None,
    fitted: Sequence[dict] = (),
) -> list[RenderableType]:
    """The report's renderables, to print, show or export.

    rows: flat rows of the measured configurations (status ok or failed). predictions: the cost
    model's Prediction per grid point; measured points keep their measured figures, the others
    show the model's value with its 90% interval. model: the costmodel Model, for the validation
    table and the fits that could not be made. env: the sweep's environment (hardware, device,
    idle_power_w, package versions). notes: extra lines for the header; lines repeating a model
    problem are shown once, with the model's problems. scores: per-example accuracy by row key
    (Record.example_scores), for the 90% intervals. task_findings: costmodel.findings.findings(...),
    for the Findings section (Snapshot.findings). checks: the held-out checks by quantity
    (Snapshot.checks); by default those of the predictions. fitted: the rows the model was fitted
    on (Snapshot.fit_rows), whose energy sources the predicted figures come from.
    """
    from tui.findings_view import findings_table

    env = env or {}
    metrics = metrics_by_task(rows)
    shown = scores_shown(rows, scores, metrics)
    points = [
        dataclasses.replace(p, scores=shown.get(str(p.row.get("key", ""))) if p.status == "ok" else None)
        for p in grid_points(rows, predictions)
    ]
    problems = set(model.problems) if model else set()
    failed = [p for p in points if p.status == "failed"]
    sources = _sources([*rows, *fitted])
    out: list[RenderableType] = [
        _header(title, points, rows, env, [n for n in notes if n not in problems], sources),
        _results(points, metrics, sources, {id(p): n for n, p in enumerate(failed, 1)}),
    ]
    if failed:
        out.append(_failures(failed))
    if model is not None and model.fits:
        out.append(_validation(model.fits))
    checks = held_out_checks(predictions or ()) if checks is None else checks
    extra = [_checked(checks), _problems(model, points), _pareto(points, metrics)]
    extra.append(findings_table(task_findings or ()))
    out += [r for r in extra if r is not None]
    return out
