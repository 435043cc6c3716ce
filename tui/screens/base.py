"""What every view shares: the view bar, the keys, and a message when the terminal is too small."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Container
from textual.screen import Screen
from textual.widgets import Static

from tui.widgets.key_bar import KeyBar
from tui.widgets.view_bar import ViewBar

MIN_WIDTH, MIN_HEIGHT = 80, 24


class ViewScreen(Screen):
    """A view of the app. Subclasses give VIEW (the mode name) and compose_body()."""

    VIEW = ""
    DEFAULT_CSS = """
    ViewScreen {
        #body { height: 1fr; }
        #too-small { display: none; height: 1fr; content-align: center middle; text-style: bold; }
        &.-too-small {
            #body, KeyBar { display: none; }
            #too-small { display: block; }
        }
    }
    """

    def compose(self) -> ComposeResult:
        yield ViewBar(self.VIEW)
        with Container(id="body"):
            yield from self.compose_body()
        yield Static(id="too-small")
        yield KeyBar(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show_status)
        self.watch(self.app, "version", self._data_changed, init=False)
        self.call_after_refresh(lambda: self._data_changed(self.app.version))  # paint first, then fill
        self._fit_terminal()

    def on_resize(self) -> None:
        self._fit_terminal()

    def _fit_terminal(self) -> None:
        width, height = self.app.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"The terminal is {width}x{height}; tradeoff-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n"
                "Enlarge the window, or press ctrl+q to quit."
            )

    def _show_status(self, status: str) -> None:
        self.query_one(ViewBar).status = status

    def _data_changed(self, version: int) -> None:
        """The app's snapshot changed: subclasses redraw from self.app.snap."""
