"""A yes/no question in a small modal: y or enter answers yes, n or escape no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (y, enter) or False (n, escape)."""

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        #dialog { width: 60; height: auto; border: thick $warning; padding: 1 2; background: $surface; }
        #keys { margin-top: 1; color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.question, id="question")
            yield Static("y  yes    n  no", id="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
