"""The plot widget: textual-plot's PlotWidget, drawable under NO_COLOR."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid
from textual.strip import Strip
from textual_hires_canvas import Canvas
from textual_plot import PlotWidget
from textual_plot.plot_widget import Legend


class _Canvas(Canvas):
    """A canvas whose lines always carry a style.

    textual-hires-canvas draws a line outside its (not yet sized) buffer as a blank strip with no
    style, and Textual's monochrome filter (NO_COLOR) reads every segment's style: it crashed.
    """

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        return strip if strip.cell_length else Strip.blank(0, self.rich_style)


class Plot(PlotWidget):
    """PlotWidget with canvases that NO_COLOR can draw; the view's keys stay the view's."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id, allow_pan_and_zoom=False)
        self.can_focus = False  # its pan and zoom keys would take the view's keys

    def compose(self) -> ComposeResult:
        with Grid():
            for name in ("margin-top", "margin-left", "plot", "margin-bottom"):
                yield _Canvas(1, 1, id=name)
        yield Legend(id="legend")
