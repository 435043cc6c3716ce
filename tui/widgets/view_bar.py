"""The top line: the views with their keys, the current one marked, and what the app is doing."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

VIEWS = (
    ("f1", "setup", "Setup"),
    ("f2", "run", "Run"),
    ("f3", "results", "Results"),
    ("f4", "plots", "Plots"),
    ("f5", "recommend", "Recommend"),
)


class ViewBar(Widget):
    """`tradeoff-tui  F1 Setup  F2 Run ...  status`; the current view in reverse."""

    DEFAULT_CSS = """
    ViewBar {
        dock: top;
        height: 1;
        background: $panel;
    }
    """

    status = reactive("")

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> Text:
        text = Text(" tradeoff-tui ", style="bold")
        for key, mode, title in VIEWS:
            style = "reverse bold" if mode == self.current else ""
            text.append(f" {key.upper()} {title} ", style=style)
        if self.status:
            text.append("  " + self.status, style="italic")
        text.truncate(self.size.width, overflow="ellipsis")
        return text
