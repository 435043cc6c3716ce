"""The detail of one Results row, in a modal over the table: escape closes it, m measures it again."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.report import Point
from tui.row_detail import detail


class DetailScreen(ModalScreen[None]):
    """Everything the app knows of one grid point (tui.row_detail), scrollable."""

    DEFAULT_CSS = """
    DetailScreen {
        align: center middle;
        #dialog { width: 95%; height: 90%; border: thick $primary; background: $surface; }
        #scroll { height: 1fr; padding: 0 1; }
        #keys { height: 1; padding: 0 1; color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("escape,q", "close", "Close", tooltip="Back to Results", id="detail.close"),
        Binding(
            "m", "remeasure", "Re-measure", tooltip="Measure this configuration again", id="detail.remeasure"
        ),
    ]

    def __init__(self, point: Point, snap) -> None:
        super().__init__()
        self.point, self.snap = point, snap

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            with VerticalScroll(id="scroll"):
                yield Static(detail(self.point, self.snap), id="detail")
            yield Static("↑↓ PgUp PgDn scroll · m measure it again · escape close", id="keys")

    def on_mount(self) -> None:
        self.query_one("#scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_remeasure(self) -> None:
        key = self.point.row.get("key")
        configs = [c for c in self.snap.configs if c.key() == key]
        self.dismiss(None)
        self.app.remeasure(configs)
