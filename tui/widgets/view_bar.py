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
    ("f8", "findings", "Findings"),
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
        views = Text()
        for key, mode, title in VIEWS:
            views.append(f" {key.upper()} {title} ", style="reverse bold" if mode == self.current else "")
        status = Text(f"  {self.status}", style="italic") if self.status else Text()
        room = self.size.width - views.cell_len - status.cell_len
        title = " tradeoff-tui " if room >= 14 else " tradeoff " if room >= 10 else ""
        text = Text(title, style="bold") + views + status
        text.truncate(self.size.width, overflow="ellipsis")
        return text
