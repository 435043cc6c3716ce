"""The export dialog: a file (its extension picks the format) or a directory (every format)."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.export import FORMATS, check_export_path, export_targets


class ExportScreen(ModalScreen[list[Path] | None]):
    """Dismisses with the files to write (enter; existing ones once replacing them is confirmed), or None."""

    DEFAULT_CSS = """
    ExportScreen {
        align: center middle;
        #dialog { width: 76; height: auto; border: thick $accent; padding: 0 1; background: $surface; }
        #path { margin: 1 0 0 0; }
        #target { color: $text-muted; height: auto; }
        #problem { color: $error; height: auto; }
        #help { color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("enter", "save", "Save", priority=True, id="export.save"),
        Binding("escape", "cancel", "Cancel", id="export.cancel"),
    ]

    def __init__(self, path: str, name: str) -> None:
        super().__init__()
        self.path, self.preset_name = path, name

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("[b]Export the report[/b]   (F7 on any view saves a screenshot instead)")
            yield Input(self.path, id="path", compact=True)
            yield Static("", id="target")
            yield Static("", id="problem")
            yield Static(
                f"The extension picks the format: {' '.join(FORMATS)}; a directory gets them all.\n"
                "enter saves · escape cancels",
                id="help",
            )

    def on_mount(self) -> None:
        self._check(self.path)

    @on(Input.Changed, "#path")
    def _changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    def _targets(self, path: str) -> list[Path]:
        return [t.absolute() for t in export_targets(path.strip(), self.preset_name)] if path.strip() else []

    def _check(self, path: str) -> str:
        """Show where the report goes and what is wrong; return the problem ('' if none)."""
        targets = self._targets(path)
        problem = "" if targets else "give a file name or a directory"
        for target in targets:
            try:
                check_export_path(target)
            except ValueError as exc:
                problem = str(exc)
                break
        if len(targets) == 1:
            where = f"writes {targets[0]}"
        elif targets:
            where = f"writes {len(targets)} files into {targets[0].parent}: tradeoff-{self.preset_name}.*"
        else:
            where = ""
        existing = [t for t in targets if t.exists()]
        if existing and not problem:
            where += f" (replaces {'it' if len(targets) == 1 else f'{len(existing)} of them'})"
        self.query_one("#target", Static).update(where)
        self.query_one("#problem", Static).update(problem)
        return problem

    def action_save(self) -> None:
        path = self.query_one("#path", Input).value
        if self._check(path):
            return
        targets = self._targets(path)
        existing = [t for t in targets if t.exists()]
        if not existing:
            self.dismiss(targets)
            return
        from tui.screens.confirm import ConfirmScreen

        names = ", ".join(t.name for t in existing)
        self.app.push_screen(
            ConfirmScreen(f"Replace {names} in {existing[0].parent}?"),
            lambda yes: self.dismiss(targets) if yes else None,
        )

    def action_cancel(self) -> None:
        self.dismiss(None)
