"""The export dialog: a file name whose extension picks the format; the path is checked as it is typed."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.export import FORMATS, check_export_path


class ExportScreen(ModalScreen[str | None]):
    """Dismisses with the path to write (enter), or None (escape)."""

    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
        #dialog { width: 76; height: auto; border: thick $accent; padding: 0 1; background: $surface; }
        #path { margin: 1 0 0 0; }
        #problem { color: $error; height: auto; }
        #help { color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("enter", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("[b]Export the report[/b]   (F7 on any view saves a screenshot instead)")
            yield Input(self.path, id="path", compact=True)
            yield Static("", id="problem")
            yield Static(
                f"The extension picks the format: {' '.join(FORMATS)}.  enter saves · escape cancels",
                id="help",
            )

    @on(Input.Changed, "#path")
    def _check(self, event: Input.Changed) -> None:
        self.query_one("#problem", Static).update(self._problem(event.value))

    @staticmethod
    def _problem(path: str) -> str:
        try:
            check_export_path(path.strip())
        except ValueError as exc:
            return str(exc)
        return ""

    def action_save(self) -> None:
        path = self.query_one("#path", Input).value.strip()
        problem = self._problem(path)
        if problem:
            self.query_one("#problem", Static).update(problem)
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
