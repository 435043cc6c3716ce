"""Run: overall progress with ETA, the configuration and phase in flight, finished ones as they land."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import DataTable, ProgressBar, RichLog, Static

from costmodel.quantities import BY_NAME
from engine.record import is_estimate
from tui import values
from tui.format import fmt
from tui.points import metrics_by_task
from tui.screens.base import ViewScreen
from tui.screens.run_state import Finished, duration

SHOWN = ("infer_latency", "gen_latency", "train_latency", "infer_energy", "accuracy")
COLUMNS = (  # figures headed as on Results and in the report
    "status",
    "configuration",
    *(BY_NAME[q].header for q in SHOWN),
    "energy\nsource",
    "took",
    "",
)


def _label(finished: Finished) -> str:
    return finished.config.label() + (f" ({finished.note})" if finished.note else "")


def _figures(finished: Finished) -> list[Text | str]:
    """The finished list's cells: key figures, or the reason it failed (last, so figures stay aligned)."""
    record = finished.record
    took = duration(finished.seconds)
    if record is None or record.failure:
        reason = (
            f"{record.failure.phase} {record.failure.kind}: {record.failure.error}" if record else "no record"
        )
        blank = ["—"] * (len(SHOWN) + 1)
        return [
            Text("failed", style="bold red"),
            _label(finished),
            *blank,
            took,
            Text(reason, "red"),
        ]
    row = record.flat()
    metric = metrics_by_task([row]).get(row["task"])

    def get(quantity: str) -> str:
        found = values.measured(row, BY_NAME[quantity], metric)
        return "—" if found is None else fmt(found.value)

    source = str(row.get("energy_source") or "—")
    return [
        Text("ok", style="bold green"),
        _label(finished),
        *(get(q) for q in SHOWN),
        Text(source, style="yellow" if is_estimate(source) else ""),
        took,
        "",
    ]


class RunScreen(ViewScreen):
    """Keys stay live while a sweep runs in its thread worker: the screen only reads the app's RunState."""

    VIEW = "run"
    DEFAULT_CSS = """
    RunScreen {
        #state { height: auto; padding: 0 1; text-style: bold; }
        #progress-line { height: 1; padding: 0 1; }
        #progress { width: auto; }
        #timing { width: 1fr; padding-left: 2; }
        #now { height: 1; padding: 0 1; color: $accent; }
        #finished { height: 1fr; }
        #log { height: 5; border-top: solid $primary; padding: 0 1; }
    }
    """
    BINDINGS = [
        Binding(
            "r",
            "run",
            "Run/resume",
            tooltip="Measure the queued configurations, else the grid's unmeasured",
            id="run.run",
        ),
        Binding(
            "c",
            "cancel",
            "Cancel run",
            tooltip="Stop the run after confirming (finished ones are kept)",
            id="run.cancel",
        ),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static(id="state")
        with Horizontal(id="progress-line"):
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static(id="timing")
        yield Static(id="now")
        table = DataTable(id="finished", cursor_type="row", zebra_stripes=True, header_height=2)
        table.add_columns(*COLUMNS)
        yield table
        yield RichLog(id="log", wrap=True, markup=False, max_lines=500)

    def __init__(self) -> None:
        super().__init__()
        self._shown = None  # the RunState shown
        self._rows = self._lines = 0

    def on_mount(self) -> None:
        self.watch(self.app, "run_version", self._sync)
        self.set_interval(1.0, self._tick)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        running = self.app.run_state.running
        if action == "run":
            return None if running else True
        if action == "cancel":
            return True if running else None
        return True

    def _sync(self, _version: int = 0) -> None:
        """Show what arrived since the last call: new finished rows and log lines, progress, state."""
        run = self.app.run_state
        table = self.query_one("#finished", DataTable)
        if run is not self._shown:
            self._shown = run
            table.clear()
            self.query_one("#log", RichLog).clear()
            self._rows = self._lines = 0
        for finished in run.finished[self._rows :]:
            table.add_row(*_figures(finished))
        if run.done > self._rows:
            table.move_cursor(row=run.done - 1)
        self._rows = run.done
        log = self.query_one("#log", RichLog)
        for line in run.log[self._lines :]:
            log.write(line)
        self._lines = len(run.log)
        self.query_one("#progress-line").display = bool(run.requested)
        self.query_one("#progress", ProgressBar).update(total=run.total or None, progress=run.done)
        self.refresh_bindings()
        self._tick()

    def _tick(self) -> None:
        run, now = self.app.run_state, self.app.clock()
        self.query_one("#state", Static).update(self._state())
        if run.running or run.ended:
            timing = f"{run.done}/{run.total}"
            if run.failed:
                timing += f" · {run.failed} failed"
            timing += f" · {'elapsed' if run.running else 'took'} {duration(run.elapsed(now))}"
            if run.running:
                timing += f" · ETA {duration(run.eta(now))}"
            self.query_one("#timing", Static).update(timing)
        if run.current is not None:
            self.query_one("#now", Static).update(
                f"now: {run.current.label()}{f' on {run.node}' if run.node else ''}"
                f"{f' · {run.note}' if run.note else ''} · {run.phase} "
                f"({duration(now - run.phase_started)})"
            )
        else:
            self.query_one("#now", Static).update("")

    def _state(self) -> str:
        run, app = self.app.run_state, self.app
        if run.running:
            return f"Measuring {run.requested} configurations of {app.preset.name} (c cancels)"
        prefix = f"Last run {run.ended}. " if run.ended else ""
        if app.queue:
            return prefix + f"{len(app.queue)} configurations queued from Recommend: r measures them."
        todo = len(app.snap.todo())
        if not todo:
            return (
                prefix
                + f"All {len(app.snap.configs)} configurations of {app.preset.name} are stored (F3: results)."
            )
        stored = app.snap.measured
        resume = f"{stored} stored, " if stored else ""
        return (
            prefix + f"Grid {app.preset.name}: {resume}{todo} to measure — r runs them, in child processes."
        )

    def _data_changed(self, version: int) -> None:
        self._tick()

    def action_run(self) -> None:
        app = self.app
        app.start_run(list(app.queue) if app.queue else app.preset.grid())

    def action_cancel(self) -> None:
        from tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes and self.app.run_state.running:
                self.app.request_stop()
                self.notify("Stopping: the configuration in flight is dropped.")

        self.app.push_screen(
            ConfirmScreen("Cancel the run? The configuration in flight is dropped; finished ones are kept."),
            answer,
        )
