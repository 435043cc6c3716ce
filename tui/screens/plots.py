"""Plots in the terminal (textual-plot): cost against input length, accuracy against energy, parity."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static
from textual_plot import HiResMode

from tui import names, plot_data
from tui.screens.base import ViewScreen
from tui.widgets.plot import Plot

TABS = {  # short enough that all six fit in 80 columns
    "infer_latency": "encoder ms",
    "gen_latency": "generate ms",
    "infer_energy": "encoder J",
    "gen_energy": "generate J",
    "accuracy": "accuracy–J",
    "parity": "parity",
}
CHOICE = {"accuracy": "task", "parity": "quantity"}  # what m cycles through; else a model


DRAW_ORDER = {"diagonal": 0, "front": 0, "curve": 0, "predicted": 1, "measured": 2}  # markers on top


def _limits(values: list[float], floor_at_zero: bool) -> tuple[float, float]:
    """Axis limits around the values with a margin; intervals reaching further are cut at the edge."""
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    return (0.0 if floor_at_zero and lo >= 0 else lo - pad), hi + pad


class PlotsScreen(ViewScreen):
    """One plot at a time: n moves to the next plot, m to the next model, task or quantity."""

    VIEW = "plots"
    DEFAULT_CSS = """
    PlotsScreen {
        #tabs { height: 1; padding: 0 1; }
        #title { height: 1; padding: 0 1; text-style: bold; }
        #legend { height: auto; max-height: 2; padding: 0 1; }
        #plot { height: 1fr; }
        #notes { height: auto; max-height: 4; padding: 0 1; color: $text-muted; }
    }
    """
    BINDINGS = [
        Binding("n", "next_plot(1)", "Next plot", tooltip="Show the next plot", id="plots.next-plot"),
        Binding(
            "p", "next_plot(-1)", "Previous plot", tooltip="Show the previous plot", id="plots.previous-plot"
        ),
        Binding(
            "m",
            "next_choice('model')",
            "Next model",
            tooltip="Show the next model, or all",
            id="plots.next-model",
        ),
        Binding("m", "next_choice('task')", "Next task", tooltip="Show the next task", id="plots.next-task"),
        Binding(
            "m",
            "next_choice('quantity')",
            "Next quantity",
            tooltip="Show the next fitted quantity",
            id="plots.next-quantity",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="tabs")
        yield Static(id="title")
        yield Static(id="legend")
        yield Plot(id="plot")
        yield Static(id="notes")

    def __init__(self) -> None:
        super().__init__()
        self.plot = plot_data.PLOTS[0]
        self.choice: dict[str, str] = {}  # plot -> the model, task or quantity shown

    def on_mount(self) -> None:
        self.query_one("#plot", Plot).margin_top = 1

    def _data_changed(self, version: int) -> None:
        self._draw()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "next_choice":
            return parameters[0] == CHOICE.get(self.plot, "model")
        return True

    def action_next_plot(self, step: int) -> None:
        plots = plot_data.PLOTS
        self.plot = plots[(plots.index(self.plot) + step) % len(plots)]
        self.refresh_bindings()
        self._draw()

    def action_next_choice(self, _what: str) -> None:
        options = plot_data.choices(self.app.snap, self.plot)
        current = self.choice.get(self.plot, options[0])
        self.choice[self.plot] = (
            options[(options.index(current) + 1) % len(options)] if current in options else options[0]
        )
        self._draw()

    def _draw(self) -> None:
        snap = self.app.snap
        options = plot_data.choices(snap, self.plot)
        choice = self.choice.get(self.plot)
        if choice not in options:
            choice = options[0]
        spec = plot_data.build(snap, self.plot, choice)
        tabs = "│".join(f"[reverse] {t} [/]" if p == self.plot else f" {t} " for p, t in TABS.items())
        self.query_one("#tabs", Static).update(tabs)
        what = CHOICE.get(self.plot, "model")
        shown = names.label(spec.choice) if what == "quantity" else spec.choice
        self.query_one("#title", Static).update(f"{spec.title} · {shown} (m: next {what})")
        legend = Text()
        for glyphs, colour, label in spec.legend:
            legend.append(("   " if legend else "") + glyphs, style=colour).append(f" {label}")
        self.query_one("#legend", Static).update(legend)
        plot = self.query_one("#plot", Plot)
        plot.clear()
        plot.set_xlabel(spec.xlabel)
        plot.set_ylabel("")
        xs = [x for s in spec.series for x in s.x]
        ys = [y for s in spec.series for y in s.y]
        if xs:
            plot.set_xlimits(*_limits(xs, floor_at_zero=False))
            plot.set_ylimits(*_limits(ys, floor_at_zero=True))
        for s in sorted(spec.series, key=lambda s: DRAW_ORDER[s.kind]):
            if s.kind == "measured":
                plot.scatter(s.x, s.y, marker=s.marker, marker_style=s.colour)
            elif s.kind == "predicted":
                if s.low:
                    middle = [(lo + hi) / 2 for lo, hi in zip(s.low, s.high, strict=True)]
                    half = [(hi - lo) / 2 for lo, hi in zip(s.low, s.high, strict=True)]
                    plot.errorbar(s.x, middle, yerr=half, marker_style=f"dim {s.colour}")
                plot.scatter(s.x, s.y, marker=s.marker, marker_style=s.colour)
            else:
                plot.plot(s.x, s.y, line_style=s.colour, hires_mode=HiResMode.BRAILLE)
        plot.show_legend(is_visible=False)  # the legend line above names every marker and line
        if not spec.series:
            spec.notes.insert(0, "nothing to draw yet: measure the grid (F2, r) or load stored results")
        self.query_one("#notes", Static).update("\n".join(spec.notes))
