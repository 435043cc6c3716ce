"""The Textual app: choose a grid, run it in child processes, compare measured and predicted, export.

`tradeoff-tui` with no preset calls run_app(). The app never measures in its own process: a thread
worker calls the sweep runner (engine.sweep.run), which measures each configuration in a child
process, and only posts messages back. The cost model is fitted in a child process too.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from multiprocessing import resource_tracker
from pathlib import Path

import platformdirs
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.worker import Worker, get_current_worker

from engine import sweep
from engine.config import RunConfig
from engine.preset import Preset, PresetError, load_preset
from engine.store import Store, StoreError, default_db_path
from tui.commands import ActionCommands
from tui.devices import probe_devices, unavailable
from tui.errors import UsageError
from tui.preset_file import last_selection, remember
from tui.screens.run_state import RunState
from tui.workspace import (
    MIN_FIT_CONFIGS,
    ChildFitter,
    Snapshot,
    fit_key,
    fit_rows,
    machine_records,
    opening_preset,
    rough_cost,
    snapshot,
)


class SweepEvent(Message):
    """An Event from the sweep runner's thread."""

    def __init__(self, event: sweep.Event) -> None:
        super().__init__()
        self.event = event


class RunEnded(Message):
    """The sweep returned (outcome) or raised (error, one line)."""

    def __init__(self, outcome: sweep.Outcome | None, error: str = "") -> None:
        super().__init__()
        self.outcome, self.error = outcome, error


class SnapshotReady(Message):
    """A new snapshot of the grid, its records and predictions, from the snapshot worker that built it."""

    def __init__(self, snap: Snapshot, worker: Worker) -> None:
        super().__init__()
        self.snap, self.worker = snap, worker


def _view(name: str) -> Callable[[], object]:
    """A mode's screen, imported when first shown (the plots pull in numpy)."""

    def make():
        from importlib import import_module

        module = import_module(f"tui.screens.{name}")
        return getattr(module, f"{name.title()}Screen")()

    return make


class TradeoffApp(App):
    """Six views (setup, run, results, plots, recommend, findings), an export dialog and a screenshot key."""

    TITLE = "tradeoff-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {ActionCommands}
    MODES = {name: _view(name) for name in ("setup", "run", "results", "plots", "recommend", "findings")}
    BINDINGS = [
        Binding("f1", "view('setup')", "Setup", tooltip="Go to Setup: choose the grid", id="app.view-setup"),
        Binding(
            "f2", "view('run')", "Run", tooltip="Go to Run: progress of the measurement", id="app.view-run"
        ),
        Binding(
            "f3",
            "view('results')",
            "Results",
            tooltip="Go to Results: every grid point",
            id="app.view-results",
        ),
        Binding(
            "f4",
            "view('plots')",
            "Plots",
            tooltip="Go to Plots: latency, energy, accuracy, parity",
            id="app.view-plots",
        ),
        Binding(
            "f5",
            "view('recommend')",
            "Recommend",
            tooltip="Go to Recommend: best within a budget",
            id="app.view-recommend",
        ),
        Binding(
            "f8",
            "view('findings')",
            "Findings",
            tooltip="Go to Findings: the study's questions",
            id="app.view-findings",
        ),
        Binding(
            "f6",
            "export",
            "Export",
            tooltip="Export the report (.html .svg .txt .json .csv)",
            id="app.export",
        ),
        Binding(
            "f7",
            "screenshot",
            "Screenshot",
            tooltip="Save a screenshot of this view as SVG",
            id="app.screenshot",
        ),
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            tooltip="Quit (a run in progress is stopped)",
            priority=True,
            id="app.quit",
        ),
        Binding(
            "escape", "close_help", "Close the keys panel", show=False, priority=True, id="app.close-help"
        ),
    ]

    status = reactive("")  # one line in the view bar: what the app is doing
    version = reactive(0)  # bumped when self.snap changes
    run_version = reactive(0)  # bumped when self.run_state changes
    devices: reactive[tuple[str, ...] | None] = reactive(None)  # usable here; None until probed

    def __init__(
        self,
        store: Store,
        preset: Preset | None = None,
        *,
        runner: Callable[..., sweep.Outcome] = sweep.run,
        fitter: Callable[[list[dict]], object] | None = None,
        device_probe: Callable[[], tuple[str, ...]] = probe_devices,
        export_dir: str | Path | None = None,
        state_dir: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        # Child processes need multiprocessing's resource tracker, which hands it sys.stderr's fd:
        # start it now, before the running app replaces sys.stderr with a capture that has none.
        resource_tracker.ensure_running()
        self.store, self.runner, self.clock = store, runner, clock
        self.fitter = fitter or ChildFitter()
        self.device_probe = device_probe
        self.export_dir = Path(export_dir) if export_dir else Path.cwd()
        self.state_dir = Path(state_dir or platformdirs.user_state_dir("tradeoff-tui"))
        self.preset = preset or last_selection(self.state_dir, store.path) or opening_preset(store)
        self.snap = Snapshot(configs=tuple(self.preset.grid()))
        self.run_state = RunState()
        self.queue: list[RunConfig] = []
        self._stop = threading.Event()
        self.sweep_thread: threading.Thread | None = None  # the last sweep's worker thread
        self._fit_lock = threading.Lock()
        self._model: tuple[tuple, object] | None = None  # ((fingerprint, fit_key), Model) of the latest fit
        self._refit = False  # a refit asked for, kept until a snapshot worker that was not replaced sees it

    # ---- lifecycle -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.switch_mode("setup")
        self.refresh_snapshot(refit=True)
        self._probe_devices()

    @work(thread=True, group="devices", exit_on_error=False)
    def _probe_devices(self) -> None:
        """Ask torch, in a child process, which devices this machine has; unknown if it cannot say."""
        try:
            devices = self.device_probe()
        except Exception:  # noqa: BLE001 - then every device stays offered; a run on one says why not
            return
        self.call_from_thread(setattr, self, "devices", tuple(devices))

    def on_unmount(self) -> None:
        self._stop.set()

    def delay_update(self, delay: float = 0.05) -> None:
        """Switching views masks the transition for 50 ms by default; 10 ms is enough here."""
        super().delay_update(min(delay, 0.01))

    # ---- data ----------------------------------------------------------------------------------

    def set_preset(self, preset: Preset) -> None:
        """Use a new (valid) selection, kept for this database's next start; the model stays."""
        self.preset = preset
        remember(preset, self.state_dir, self.store.path)
        self.refresh_snapshot(refit=False)

    def refresh_snapshot(self, refit: bool) -> None:
        """Reload the records of the grid's machine, predict the grid; refit the model when asked. A
        newer refresh cancels the one in flight, whose snapshot is then never shown."""
        self._refit |= refit
        self._snapshot(self.preset.grid(), self.preset.device)

    @work(thread=True, exclusive=True, group="snapshot")
    def _snapshot(self, configs: list[RunConfig], device: str) -> None:
        worker = get_current_worker()
        records, env, elsewhere = machine_records(self.store, device)
        rows = fit_rows(records)
        key = (env.get("fingerprint"), fit_key(rows))
        # the latest fit, while a newer one is on its way, but only of this machine
        model = self._model[1] if self._model and self._model[0][0] == key[0] else None
        snap = snapshot(configs, records, env, model, elsewhere)
        if worker.is_cancelled:
            return
        self.post_message(SnapshotReady(snap, worker))
        self.call_from_thread(self._refit_if_asked, worker, rows, key)

    def _refit_if_asked(self, worker: Worker, rows: list[dict], key: tuple) -> None:
        """On the event loop: fit when a refit was asked and the latest fit is not of these rows (not while
        a run measures: its end asks again)."""
        if worker.is_cancelled or not self._refit or self.run_state.running:
            return
        self._refit = False
        enough = len({r["key"] for r in rows}) >= MIN_FIT_CONFIGS
        if enough and (self._model is None or self._model[0] != key):
            self._fit(rows, key)

    @work(thread=True, group="fit")
    def _fit(self, rows: list[dict], key: tuple) -> None:
        """Fit in the fitter (a child process), one fit at a time; then show the grid with the new model."""
        with self._fit_lock:
            if self._model is not None and self._model[0] == key:
                return
            self.call_from_thread(setattr, self, "status", f"fitting the cost model on {len(rows)} records")
            try:
                self._model = (key, self.fitter(rows))
            except Exception as exc:  # noqa: BLE001 - shown, and the app goes on without a model
                self.call_from_thread(self.notify, f"cost model: {exc}", severity="error")
                self._model = (key, None)
            self.call_from_thread(self._idle_status)
        self.call_from_thread(self.refresh_snapshot, False)

    @on(SnapshotReady)
    def _apply_snapshot(self, message: SnapshotReady) -> None:
        if message.worker.is_cancelled:  # a newer refresh started after it was posted
            return
        self.snap = message.snap
        self.version += 1

    def _idle_status(self) -> None:
        if not self.run_state.running:
            self.status = ""

    # ---- running -------------------------------------------------------------------------------

    def start_run(self, configs: list[RunConfig], fresh: bool = False) -> bool:
        """Measure configs in a thread worker; those the store holds for this machine are skipped,
        unless `fresh`: then their stored measurements are forgotten and they are measured again.
        Returns whether the run started (else a notification says why not)."""
        if self.run_state.running:
            self.notify("A run is already going; c on the Run view cancels it.", severity="warning")
            return False
        if not configs:
            self.notify("Nothing to run.", severity="warning")
            return False
        missing = sorted({c.device for c in configs if self.devices and c.device not in self.devices})
        if missing:
            self.notify(f"Not run: {unavailable(missing[0])}. Pick cpu on Setup (F1).", severity="error")
            return False
        remember(self.preset, self.state_dir, self.store.path)
        cost = rough_cost(self.snap)
        predicted = cost[0] / cost[2] if cost else None
        self.run_state = RunState(
            requested=len(configs), started=self.clock(), running=True, predicted_s=predicted
        )
        self._stop.clear()
        self.status = f"running 0/{len(configs)}"
        self.run_version += 1
        self.switch_mode("run")
        self._sweep(list(configs), self.preset.timeout_s, fresh)
        return True

    def remeasure(self, configs: list[RunConfig], started: Callable[[], None] | None = None) -> None:
        """Ask, then measure configs again (the headless --fresh): their stored records are replaced."""
        from tui.screens.confirm import ConfirmScreen

        if not configs:
            self.notify("Nothing to re-measure.", severity="warning")
            return
        stored = {r["key"] for r in self.snap.rows}
        held = sum(1 for c in configs if c.key() in stored)
        what = f"{len(configs)} configuration{'s' * (len(configs) != 1)}"
        question = f"Measure {what} again?"
        if held:
            question += f" The {held} stored here {'are' if held != 1 else 'is'} forgotten first."

        def answer(yes: bool | None) -> None:
            if yes and self.start_run(configs, fresh=True) and started:
                started()

        self.push_screen(ConfirmScreen(question), answer)

    @work(thread=True, group="sweep", exit_on_error=False)
    def _sweep(self, configs: list[RunConfig], timeout: float | None, fresh: bool = False) -> None:
        """Measure in child processes, or as Ray tasks when the preset's executor is "ray" (the
        cluster at RAY_ADDRESS, else a Ray started for the run); `timeout` replaces each
        configuration's own (engine.timeouts); `fresh` measures stored configurations again."""
        worker = get_current_worker()
        self.sweep_thread = threading.current_thread()
        with self._fit_lock:  # a fit in progress would skew the measurements: let it finish first
            pass
        from engine.ray_executor import RayExecutor, RayUnavailable

        executor = None
        try:
            if self.preset.executor == "ray":
                self.call_from_thread(setattr, self, "status", "starting Ray")
                executor = RayExecutor(timeout=timeout)
            outcome = self.runner(
                configs,
                self.store,
                fresh=fresh,
                timeout=timeout,
                on_event=lambda event: self.post_message(SweepEvent(event)),
                should_stop=lambda: self._stop.is_set() or worker.is_cancelled,
                **({"executor": executor} if executor else {}),
            )
        except RayUnavailable as exc:
            self.post_message(RunEnded(None, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a probe or store failure ends the run, not the app
            self.post_message(RunEnded(None, f"{type(exc).__name__}: {exc}"))
        else:
            self.post_message(RunEnded(outcome))
        finally:
            if executor is not None:
                executor.close()

    @on(SweepEvent)
    def _sweep_event(self, message: SweepEvent) -> None:
        event = message.event
        self.run_state.apply(event, self.clock())
        self.status = f"running {self.run_state.done}/{self.run_state.total}"
        self.run_version += 1
        if isinstance(event, sweep.Done):
            self.refresh_snapshot(refit=False)

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        run = self.run_state
        run.running, run.current, run.ended_at = False, None, self.clock()
        outcome = message.outcome
        if message.error:
            run.ended = f"stopped by an error: {message.error}"
            self.notify(run.ended, severity="error", timeout=15)
        elif outcome is not None and outcome.interrupted:
            run.ended = f"cancelled: {run.measured + run.failed} finished and kept; r resumes"
        else:
            run.ended = (
                f"finished: {run.measured} measured, {run.failed} failed, {run.skipped} already stored"
            )
        if outcome is not None and outcome.env:
            run.log.append(f"measured on {outcome.env.get('hardware', '?')}")
        self.queue = [c for c in self.queue if c not in {f.config for f in run.finished}]
        self.status = run.ended.split(":")[0]
        self.run_version += 1
        self.notify(f"Run {run.ended}", timeout=8)
        self.refresh_snapshot(refit=True)

    def request_stop(self) -> None:
        """Stop the run: the child in flight is killed and its configuration left unmeasured."""
        self._stop.set()

    # ---- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "close_help":  # escape is the view's own key while no keys panel is shown
            return bool(self.screen.query("HelpPanel"))
        return True

    def action_close_help(self) -> None:
        self.action_hide_help_panel()

    def get_system_commands(self, screen) -> Iterable[SystemCommand]:
        """Textual's palette commands, less those the app's own keys give (quit, screenshot); the keys
        panel is found as help."""
        for command in super().get_system_commands(screen):
            if command.title in ("Quit", "Screenshot"):
                continue
            if command.title == "Keys":
                command = command._replace(title="Help: the keys of this view and what they do")
            yield command

    def action_view(self, mode: str) -> None:
        if self.current_mode != mode:
            self.switch_mode(mode)

    def action_export(self) -> None:
        from tui.screens.export import ExportScreen

        default = self.export_dir / f"tradeoff-{self.preset.name}.html"
        self.push_screen(ExportScreen(str(default), self.preset.name), self._export_to)

    def _export_to(self, paths: list[Path] | None) -> None:
        if paths:
            self._write_report(paths)

    @work(thread=True, group="export")
    def _write_report(self, paths: list[Path]) -> None:
        from tui import publish

        def failed(path: Path, exc: Exception) -> None:
            self.call_from_thread(
                self.notify, f"Export to {path} failed: {exc}", severity="error", timeout=15
            )

        report = publish.build(self.snap, f"preset {self.preset.name}")
        written = publish.write(report, paths, failed=failed)
        if len(written) == 1:
            self.call_from_thread(self.notify, f"Saved the report to {written[0]}", timeout=15)
        elif written:
            names = ", ".join(p.name for p in written)
            self.call_from_thread(
                self.notify, f"Saved the report to {written[0].parent}: {names}", timeout=15
            )

    def action_screenshot(self) -> None:
        path = self.save_screenshot(f"tradeoff-{self.current_mode}.svg", str(self.export_dir))
        self.notify(f"Saved a screenshot to {path}", timeout=15)

    async def action_quit(self) -> None:
        if not self.run_state.running:
            self.exit()
            return
        from tui.screens.confirm import ConfirmScreen

        def answer(yes: bool | None) -> None:
            if yes:
                self.request_stop()
                self.exit()

        self.push_screen(
            ConfirmScreen("A run is going. Quit and stop it? Finished configurations are kept."), answer
        )


def crash_message(db: Path) -> str:
    """What to tell the user when the app stopped on an error of its own (Textual prints the traceback)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("tradeoff-tui")
    except PackageNotFoundError:
        ours = "unknown"
    return (
        "tradeoff-tui stopped on an unexpected error: this is a bug in tradeoff-tui, not in what you did.\n"
        "Please report it with the traceback above, the command you ran, what you pressed last and these "
        f"versions: tradeoff-tui {ours}, textual {version('textual')}, "
        f"Python {sys.version.split()[0]}.\nMeasurements finished so far are kept in {db}."
    )


def exit_status(app: App, db: Path) -> int:
    """0 after a clean exit; after a crash, the message saying what to report, and 1."""
    if not app.return_code:
        return 0
    print(crash_message(db), file=sys.stderr)
    return 1


def run_app(db_path: str | None, preset: str | None, no_color: bool, mouse: bool) -> int:
    """Open the app on a results database (default: the user data directory) and a preset, if given.

    Returns the exit status: 0, or 1 when the app crashed (Textual prints the traceback).
    """
    if no_color:
        os.environ["NO_COLOR"] = "1"
    path = Path(db_path) if db_path else default_db_path()
    try:
        store = Store(path, create=True)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    try:
        chosen = load_preset(preset) if preset else None
    except PresetError as exc:
        store.close()
        raise UsageError(str(exc)) from None
    app = TradeoffApp(store, chosen)
    try:
        app.run(mouse=mouse)
    finally:
        app.request_stop()
        if app.sweep_thread is not None:  # the child in flight is killed within a poll interval
            app.sweep_thread.join(timeout=10)
        app.fitter.close()
        store.close()
    return exit_status(app, path)
