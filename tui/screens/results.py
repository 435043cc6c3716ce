"""Results: every grid point, measured and predicted plainly apart, sortable by any column, filterable."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, Select, Static

from costmodel.quantities import BY_NAME, Quantity
from engine.record import is_estimate
from tui import names, values
from tui.format import fmt
from tui.points import SIZES, Point, batch_label, metrics_by_task
from tui.screens.base import ViewScreen
from tui.workspace import missing_reason, no_model_reason

PREDICTED = "italic"
KINDS = ("measured", "predicted", "failed", "not measured")


def kind(point: Point) -> str:
    """measured, predicted, failed (its figures predicted where the model can) or not measured."""
    if point.status == "failed":
        return "failed"
    return {"planned": "not measured"}.get(point.kind, point.kind)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Figure:
    """A numeric column: a quantity of costmodel.quantities.TABLE, measured from the row, else estimated."""

    quantity: Quantity

    @property
    def header(self) -> str:
        return self.quantity.header

    def value(self, point: Point, metric: str | None) -> tuple[float | None, float | None, float | None]:
        """(value, low, high) in the column's unit; low and high are None where there is no spread."""
        found = values.shown(point, self.quantity, metric)
        return (None, None, None) if found is None else (found.value, found.low, found.high)


SHOWN = (
    "accuracy",
    "infer_latency",
    "gen_latency",
    "train_latency",
    "infer_energy",
    "gen_energy",
    "train_energy",
    "infer_memory",
)
FIGURES = tuple(Figure(BY_NAME[q]) for q in SHOWN)  # headers as the report writes them (two lines each)
TEXT_COLUMNS = ("kind", "family", "size", "task", "n", "batch")
PINNED = len(TEXT_COLUMNS)  # the columns that say which configuration a row is stay in view
COLUMNS = (*TEXT_COLUMNS, *(f.header for f in FIGURES), "energy src", "status")
FILTERS = (("family", "family"), ("size", "size"), ("task", "task"), ("kind", "kind"))


def _sort_value(point: Point, column: str, metric: str | None) -> tuple:
    """Missing values sort last whichever the direction; numbers as numbers."""
    row = point.row
    if column in ("n", "batch"):
        v = _number(row.get("input_len" if column == "n" else "batch_size"))
        return (v is None, v or 0.0)
    if column == "size":
        size = str(row.get("size"))
        return (False, SIZES.index(size) if size in SIZES else len(SIZES))
    figure = next((f for f in FIGURES if f.header == column), None)
    if figure is not None:
        v = figure.value(point, metric)[0]
        return (v is None, v or 0.0)
    return (False, _text(point, column))


def _one_line(header: str) -> str:
    return header.replace("\n", " ")


def _text(point: Point, column: str) -> str:
    row = point.row
    if column == "batch":
        return batch_label(point)
    if column == "kind":
        return kind(point)
    if column == "energy src":
        return str(row.get("energy_source") or ("model" if point.kind == "predicted" else "—"))
    if column == "status":
        return _status(point)
    return str(row.get(column, ""))


def _status(point: Point, full: bool = False) -> str:
    row = point.row
    if point.status == "failed":
        text = f"failed in {row.get('failed_phase') or '?'}: {row.get('failure_kind')}: {row.get('error')}"
        return text if full else text[:60]
    return {"ok": "ok", "planned": "not measured"}.get(point.status, point.status)


def _cells(point: Point, metric: str | None) -> list[Text]:
    k = kind(point)
    predicted = point.kind == "predicted"
    style = PREDICTED if predicted else ""
    label = k + ("†" if predicted and point.prediction.extrapolated else "")
    kind_style = {"measured": "bold", "predicted": "italic", "failed": "bold red"}.get(k, "dim")
    cells = [Text(label, style=kind_style)]
    row = point.row
    for name in ("family", "size", "task", "input_len"):
        cells.append(Text(str(row.get(name, "")), style=style))
    cells.append(Text(batch_label(point), style=style))
    for figure in FIGURES:
        value, low, high = figure.value(point, metric)
        if value is None:
            cells.append(Text("—", style="dim", justify="right"))
        elif predicted:
            cells.append(Text(f"~{fmt(value)} [{fmt(low)}–{fmt(high)}]", style=style, justify="right"))
        elif low is not None:
            cells.append(Text(f"{fmt(value)} ({fmt(low)}–{fmt(high)})", justify="right"))
        else:
            cells.append(Text(fmt(value), justify="right"))
    source = _text(point, "energy src")
    cells.append(Text(source, style="yellow" if is_estimate(source) else style))
    status_style = {"ok": "green", "failed": "red"}.get(point.status, "dim")
    cells.append(Text(_status(point), style=status_style))
    return cells


class ResultsScreen(ViewScreen):
    """One row per grid point; the kind column and the italic style tell predicted rows from measured."""

    VIEW = "results"
    DEFAULT_CSS = """
    ResultsScreen {
        #filters { height: 1; padding: 0 1; }
        #filters Select { width: 1fr; margin-right: 1; }
        #summary { height: auto; padding: 0 1; color: $text-muted; }
        #table { height: 1fr; }
        #more { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    }
    """
    BINDINGS = [
        Binding(
            "s",
            "sort",
            "Sort",
            tooltip="Sort by the column under the cursor (again: reverse)",
            id="results.sort",
        ),
        Binding(
            "f", "filter", "Filter", tooltip="Filter by family, size, task and kind", id="results.filter"
        ),
        Binding(
            "x",
            "clear_filters",
            "Clear filters",
            tooltip="Show every grid point again",
            id="results.clear-filters",
        ),
        Binding(
            "space",
            "mark",
            "Mark",
            tooltip="Mark this row for re-measuring (again: unmark)",
            id="results.mark",
        ),
        Binding(
            "m",
            "remeasure",
            "Re-measure",
            tooltip="Measure the marked rows (else this row) again",
            id="results.remeasure",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="filters"):
            for field, name in FILTERS:
                yield Select([], prompt=f"{name}: all", compact=True, id=f"filter-{field}")
        yield Static(id="summary")
        yield DataTable(
            id="table", cursor_type="cell", zebra_stripes=True, fixed_columns=PINNED, header_height=2
        )
        yield Static(id="more")

    def __init__(self) -> None:
        super().__init__()
        self.sort_by: tuple[str, bool] | None = None  # (column, reverse)
        self.marked: set[str] = set()  # configuration keys marked for re-measuring

    def on_mount(self) -> None:
        table = self.query_one("#table", DataTable)
        for column in COLUMNS:
            table.add_column(column, key=column)
        table.focus()
        self.watch(table, "scroll_x", lambda _: self._show_more())
        self.watch(table, "virtual_size", lambda _: self._show_more())

    def on_resize(self) -> None:
        super().on_resize()
        self.call_after_refresh(self._show_more)

    def _show_more(self) -> None:
        """Name the columns off the screen, left and right of the scrolled ones."""
        table = self.query_one("#table", DataTable)
        columns = table.ordered_columns
        widths = [c.get_render_width(table) for c in columns]
        pinned = sum(widths[:PINNED])
        start, end = table.scroll_x, table.scroll_x + table.scrollable_content_region.width - pinned
        left, right, x = [], [], 0
        for column, width in zip(columns[PINNED:], widths[PINNED:], strict=True):
            name = _one_line(str(column.label))
            if x < start:
                left.append(name)
            elif x + width > end:
                right.append(name)
            x += width
        parts = [f"← {len(left)} columns left"] if left else []
        if right:
            parts.append(f"{len(right)} more columns → {', '.join(right)}")
        self.query_one("#more", Static).update(" · ".join(parts))

    def _data_changed(self, version: int) -> None:
        snap = self.app.snap
        values: dict[str, list[str]] = {
            "family": sorted({str(p.row.get("family")) for p in snap.points}),
            "size": [s for s in SIZES if any(p.row.get("size") == s for p in snap.points)],
            "task": sorted({str(p.row.get("task")) for p in snap.points}),
            "kind": [k for k in KINDS if any(kind(p) == k for p in snap.points)],
        }
        for field, options in values.items():
            name = dict(FILTERS)[field]
            select = self.query_one(f"#filter-{field}", Select)
            current = select.value
            with self.prevent(Select.Changed):
                select.set_options([(f"{name}: {v}", v) for v in options])
                if current in options:
                    select.value = current
        self._fill()

    def _filter_values(self) -> dict[str, str]:
        out = {}
        for field, _ in FILTERS:
            value = self.query_one(f"#filter-{field}", Select).value
            if value is not Select.NULL:
                out[field] = str(value)
        return out

    def _shown(self) -> list[Point]:
        filters = self._filter_values()
        points = [
            p
            for p in self.app.snap.points
            if all((kind(p) if f == "kind" else str(p.row.get(f))) == v for f, v in filters.items())
        ]
        if self.sort_by:
            column, reverse = self.sort_by
            metrics = self._metrics()
            present = [p for p in points if not _sort_value(p, column, metrics.get(p.row.get("task")))[0]]
            missing = [p for p in points if p not in present]
            present.sort(
                key=lambda p: _sort_value(p, column, metrics.get(p.row.get("task"))), reverse=reverse
            )
            points = present + missing
        return points

    def _metrics(self) -> dict[str, str]:
        return metrics_by_task(list(self.app.snap.rows))

    def _fill(self) -> None:
        table = self.query_one("#table", DataTable)
        cursor = table.cursor_coordinate
        metrics = self._metrics()
        points = self._shown()
        with self.app.batch_update():
            table.clear()
            for p in points:
                mark = "●" if p.row.get("key") in self.marked else None
                table.add_row(*_cells(p, metrics.get(str(p.row.get("task")))), label=mark)
            if points:
                table.cursor_coordinate = table.validate_cursor_coordinate(cursor)
        self.query_one("#summary", Static).update(self._summary(points))
        self.call_after_refresh(self._show_more)

    def _summary(self, shown: list[Point]) -> Text:
        snap = self.app.snap
        counts = {k: sum(1 for p in snap.points if kind(p) == k) for k in KINDS}
        parts = [f"{len(snap.points)} grid points: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n)]
        if len(shown) != len(snap.points):
            parts.append(f"{len(shown)} shown")
        if self.marked:
            parts.append(f"{len(self.marked)} marked: m measures them again")
        if self.sort_by:
            parts.append(f"sorted by {_one_line(self.sort_by[0])} {'↓' if self.sort_by[1] else '↑'}")
        if snap.model is None:
            parts.append(no_model_reason(snap) + ": unmeasured points have no prediction")
        else:
            parts += self._empty_columns(snap)
        if any(is_estimate(str(r.get("energy_source") or "")) for r in snap.rows):
            parts.append("energy: estimate (CPU TDP × utilisation)")
        legend = "~predicted [90% interval] in italics · measured (p10–p90) · † extrapolated"
        return Text(" · ".join(parts) + "\n" + legend)

    @staticmethod
    def _empty_columns(snap) -> list[str]:
        """Why a figure column holds no prediction at all: the reason its fit gave."""
        predicted = [p for p in snap.points if p.kind == "predicted"]
        metrics = metrics_by_task(list(snap.rows))
        out = []
        for figure in FIGURES:
            tasks = {str(p.row.get("task")) for p in predicted}
            if predicted and all(
                figure.value(p, metrics.get(p.row.get("task")))[0] is None for p in predicted
            ):
                task = next(iter(tasks)) if len(tasks) == 1 else ""
                header = _one_line(figure.header)
                out.append(
                    f"{header} not predicted: {names.plain(missing_reason(snap, figure.quantity.name, task))}"
                )
        return out

    @on(DataTable.CellSelected)
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        """Enter on a row: its configuration and full status below, and its detail in a modal."""
        from tui.screens.detail import DetailScreen

        points = self._shown()
        if 0 <= event.coordinate.row < len(points):
            point = points[event.coordinate.row]
            row = point.row
            self.query_one("#more", Static).update(
                f"{row.get('family')}-{row.get('size')} {row.get('task')} n={row.get('input_len')} "
                f"b={batch_label(point)} · {kind(point)} · {_status(point, full=True)}"
            )
            self.app.push_screen(DetailScreen(point, self.app.snap))

    def _cursor_point(self) -> Point | None:
        points, row = self._shown(), self.query_one("#table", DataTable).cursor_row
        return points[row] if 0 <= row < len(points) else None

    def action_mark(self) -> None:
        point = self._cursor_point()
        if point is not None:
            self.marked ^= {str(point.row.get("key"))}
            self._fill()

    def action_remeasure(self) -> None:
        """Measure the marked configurations (else the one under the cursor) again, as --fresh does."""
        point = self._cursor_point()
        keys = self.marked or ({str(point.row.get("key"))} if point else set())
        self.app.remeasure([c for c in self.app.snap.configs if c.key() in keys], self._remeasured)

    def _remeasured(self) -> None:
        self.marked.clear()
        self._fill()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        self._fill()

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        self._sort(str(event.column_key.value))

    def _sort(self, column: str) -> None:
        reverse = self.sort_by is not None and self.sort_by == (column, False)
        self.sort_by = (column, reverse)
        self._fill()

    def action_sort(self) -> None:
        table = self.query_one("#table", DataTable)
        self._sort(COLUMNS[table.cursor_column])

    def action_filter(self) -> None:
        self.query_one("#filter-family", Select).focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed):
            for field, _ in FILTERS:
                self.query_one(f"#filter-{field}", Select).clear()
        self._fill()
        self.query_one("#table", DataTable).focus()
