"""Setup: choose or load a preset, edit its axes, see the grid's size and rough cost, save it, run it."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, Static

from costmodel.cost import STARTUP_S
from engine import archs
from engine.config import BUDGET_KINDS, DEVICES, DTYPES, PHASES, WEIGHTS, Budget
from engine.preset import (
    PRESETS_DIR,
    SIZES,
    TASKS,
    Preset,
    PresetError,
    builtin_presets,
    check_key,
    load_preset,
)
from engine.preset_file import save_preset
from engine.timeouts import timeout_s
from tui.devices import unavailable
from tui.preset_file import is_last_selection
from tui.screens.base import ViewScreen
from tui.widgets.axis_row import AxisRow
from tui.workspace import MIN_FIT_CONFIGS, no_model_reason, rough_cost

# axis -> (label, choices, several allowed)
AXES = {
    "families": ("families", archs.FAMILIES, True),
    "sizes": ("sizes", SIZES, True),
    "weights": ("weights", WEIGHTS, True),
    "tasks": ("tasks", TASKS, True),
    "phases": ("phases", PHASES, True),
    "device": ("device", DEVICES, False),
    "dtype": ("dtype", DTYPES, False),
}


class SetupError(ValueError):
    """A choice that cannot be used: the field it belongs to and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field


class SetupErrors(ValueError):
    """Every problem of the form at once."""

    def __init__(self, errors: list[SetupError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _token(text: str) -> object:
    """A typed word as the TOML value it stands for: auto (in any case), an integer, a number, or text."""
    if text.lower() == "auto":
        return "auto"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _checked(field: str, value: object, hint: str = "") -> object:
    """The value as a preset file's check takes it (engine.preset.check_key), else its problem."""
    try:
        return check_key(field, value)
    except ValueError as exc:
        raise SetupError(field, f"{exc}{hint}") from None


def _numbers(field: str, text: str, examples: str) -> tuple:
    """A grid axis typed as values separated by commas or spaces, each checked as in a preset file."""
    tokens = [t for t in re.split(r"[,\s]+", text) if t]
    for token in tokens:
        try:
            check_key(field, _token(token))
        except ValueError as exc:
            raise SetupError(field, f"{token!r} is not allowed: {exc}; e.g. {examples}") from None
    return _checked(field, [_token(t) for t in tokens], f"; e.g. {examples}")


def _timeout(text: str) -> float | None:
    """A per-configuration timeout in seconds, or None (blank or auto: each from its own budget)."""
    text = text.strip()
    if text.lower() in ("", "auto"):
        return None
    return _checked("timeout_s", _token(text), "; or auto (from the budget)")


def _budget(kind: str, text: str) -> Budget:
    return _checked("budget", {kind: _token(text.strip())})


def _settings(preset: Preset) -> Preset:
    """What a preset measures, without its name, description and file."""
    return replace(preset, name="", description="", path=None)


def _describe(preset: Preset) -> str:
    """`led, bigbird-pegasus · tiny · 128, 256 tokens · batch 4 · synthetic · cpu`."""
    parts = [
        ", ".join(preset.families),
        ", ".join(preset.sizes),
        ", ".join(map(str, preset.input_lens)) + " tokens",
        "batch " + ", ".join(map(str, preset.batch_sizes)),
        ", ".join(preset.tasks),
        preset.device,
    ]
    return " · ".join(parts)


def _about(seconds: float) -> str:
    """A rough time: 40 s, 12 min, 3.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class SetupScreen(ViewScreen):
    """Every axis on one line; problems are shown under the line that causes them."""

    VIEW = "setup"
    DEFAULT_CSS = """
    SetupScreen {
        #form { height: 1fr; }
        .line { height: 1; padding: 0 1; }
        .line Label { width: 13; text-style: bold; }
        .line Input { width: 1fr; }
        #preset { width: 24; }
        #source {
            width: 1fr; padding-left: 2; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
        }
        #budget-value { width: 12; }
        #budget { width: auto; padding: 0 2 0 0; }
        .problem { color: $error; height: auto; padding: 0 1 0 15; display: none; }
        .problem.-shown { display: block; }
        #summary { height: auto; padding: 0 1; margin-top: 1; border-top: solid $primary; }
        #file-status { color: $success; height: auto; padding: 0 1 0 15; display: none; }
        #file-status.-shown { display: block; }
    }
    """
    BINDINGS = [
        Binding(
            "ctrl+r",
            "run",
            "Run grid",
            tooltip="Measure the grid (stored configurations are skipped)",
            id="setup.run",
        ),
        Binding(
            "ctrl+o",
            "load",
            "Load file",
            tooltip="Load the preset file named in the file line",
            id="setup.load",
        ),
        Binding(
            "ctrl+s",
            "save",
            "Save preset",
            tooltip="Save the selection to the preset file named in the file line",
            id="setup.save",
        ),
        Binding("up", "app.focus_previous", "Previous line", show=False, id="setup.previous-line"),
        Binding("down", "app.focus_next", "Next line", show=False, id="setup.next-line"),
    ]

    def compose_body(self) -> ComposeResult:
        preset = self.origin = self.app.preset  # origin: the preset last loaded or picked
        names = [name for name, _ in builtin_presets()]
        with VerticalScroll(id="form"):
            with Horizontal(classes="line"):
                yield Label("preset")
                yield Select(
                    [(n, n) for n in names],
                    value=preset.name if preset.name in names else Select.NULL,
                    prompt="built-in…",
                    allow_blank=True,
                    compact=True,
                    id="preset",
                )
                yield Static(self._source(preset), id="source")
            with Horizontal(classes="line"):
                yield Label("file")
                yield Input(self._file_name(preset), id="file", compact=True)
            yield Static("", id="file-status")
            yield Static("", id="file-problem", classes="problem")
            for axis, (label, choices, multiple) in AXES.items():
                yield AxisRow(label, choices, self._axis(preset, axis), multiple=multiple, id=axis)
                yield Static("", id=f"{axis}-problem", classes="problem")
            with Horizontal(classes="line"):
                yield Label("input lens")
                yield Input(", ".join(map(str, preset.input_lens)), id="input_lens", compact=True)
            yield Static("", id="input_lens-problem", classes="problem")
            with Horizontal(classes="line"):
                yield Label("batch sizes")
                yield Input(", ".join(map(str, preset.batch_sizes)), id="batch_sizes", compact=True)
            yield Static("", id="batch_sizes-problem", classes="problem")
            with Horizontal(classes="line"):
                yield AxisRow("budget", BUDGET_KINDS, (preset.budget.kind,), multiple=False, id="budget")
                yield Input(self._budget_text(preset), id="budget-value", compact=True)
            yield Static("", id="budget-problem", classes="problem")
            with Horizontal(classes="line"):
                yield Label("timeout s")
                yield Input(self._timeout_text(preset), placeholder="auto", id="timeout_s", compact=True)
            yield Static("", id="timeout_s-problem", classes="problem")
            yield Static("", id="grid-problem", classes="problem")
            yield Static("", id="summary")

    @staticmethod
    def _axis(preset: Preset, axis: str) -> tuple[str, ...]:
        value = getattr(preset, axis)
        return (value,) if isinstance(value, str) else value

    @staticmethod
    def _budget_text(preset: Preset) -> str:
        value = preset.budget.value
        return str(int(value)) if preset.budget.kind == "steps" else f"{value:g}"

    @staticmethod
    def _timeout_text(preset: Preset) -> str:
        return "auto" if preset.timeout_s is None else f"{preset.timeout_s:g}"

    @staticmethod
    def _user_file(preset: Preset) -> bool:
        return preset.path is not None and preset.path.parent.resolve() != PRESETS_DIR.resolve()

    def _file_name(self, preset: Preset) -> str:
        """Where ctrl+s saves: the file a preset came from, else a new file named after it."""
        if self._user_file(preset) and not is_last_selection(preset):
            return str(preset.path)
        return f"tradeoff-{preset.name}.toml"

    def _source(self, preset: Preset) -> str:
        if not self._user_file(preset):
            return preset.description
        origin = "last session" if is_last_selection(preset) else preset.path.name
        return f"from {origin}: {preset.description}"

    def on_mount(self) -> None:
        self.query_one("#families").focus()
        self.watch(self.app, "devices", self._devices_known)

    def _devices_known(self, devices: tuple[str, ...] | None) -> None:
        """Mark the devices this machine lacks, once the app knows which it has."""
        self.query_one("#device", AxisRow).set_unavailable(frozenset(DEVICES) - set(devices or DEVICES))
        self._validate()

    # ---- reading the form --------------------------------------------------------------------------

    def _axis_value(self, axis: str) -> object:
        chosen = self.query_one(f"#{axis}", AxisRow).selected
        if not chosen:
            raise SetupError(axis, "pick at least one (space toggles the choice under the cursor)")
        if axis == "device" and chosen[0] in self.query_one("#device", AxisRow).unavailable:
            raise SetupError("device", f"{unavailable(chosen[0])}; pick cpu to run this grid here")
        return chosen if AXES[axis][2] else chosen[0]

    def selection(self) -> Preset:
        """The preset the form describes (SetupErrors, every line's problem, or PresetError)."""
        readers = {axis: (lambda a=axis: self._axis_value(a)) for axis in AXES}
        readers["input_lens"] = lambda: _numbers(
            "input_lens", self.query_one("#input_lens", Input).value, "256, 512"
        )
        readers["batch_sizes"] = lambda: _numbers(
            "batch_sizes", self.query_one("#batch_sizes", Input).value, "4, 8, auto"
        )
        readers["budget"] = lambda: _budget(
            self.query_one("#budget", AxisRow).selected[0], self.query_one("#budget-value", Input).value
        )
        readers["timeout_s"] = lambda: _timeout(self.query_one("#timeout_s", Input).value)
        values, errors = {}, []
        for field, read in readers.items():
            try:
                values[field] = read()
            except SetupError as exc:
                errors.append(exc)
        if errors:
            raise SetupErrors(errors)
        preset = replace(self.app.preset, **values)
        preset.grid()
        return preset

    def _validate(self) -> Preset | None:
        for problem in self.query(".problem"):
            if problem.id != "file-problem":
                problem.set_class(False, "-shown")
        try:
            preset = self.selection()
        except SetupErrors as exc:
            for error in exc.errors:
                self._problem(error.field, str(error), len(exc.errors))
            return None
        except PresetError as exc:
            field = (exc.field or "").removeprefix("grid.")
            self._problem(field if self.query(f"#{field}-problem") else "grid", exc.problem)
            return None
        return preset

    def _problem(self, field: str, text: str, count: int = 1) -> None:
        widget = self.query_one(f"#{field}-problem", Static)
        widget.update(text)
        widget.set_class(True, "-shown")
        marked = "the line marked above is" if count == 1 else f"the {count} lines marked above are"
        self.query_one("#summary", Static).update(f"The grid cannot be run until {marked} fixed.")

    def _changed(self) -> None:
        preset = self._validate()
        if preset is not None and preset != self.app.preset:
            self.app.set_preset(preset)
        elif preset is not None:
            self._data_changed(self.app.version)

    @on(AxisRow.Changed)
    def _axis_changed(self) -> None:
        self._changed()

    @on(Input.Changed, "#input_lens, #batch_sizes, #budget-value, #timeout_s")
    def _input_changed(self) -> None:
        self._changed()

    @on(Select.Changed, "#preset")
    def _preset_chosen(self, event: Select.Changed) -> None:
        if event.value is not Select.NULL and event.value != self.app.preset.name:
            self._fill(load_preset(str(event.value)))

    # ---- filling the form --------------------------------------------------------------------------

    def _fill(self, preset: Preset) -> None:
        """Show a loaded preset in the form and use it."""
        self.origin = preset
        with self.app.batch_update():
            for axis in AXES:
                self.query_one(f"#{axis}", AxisRow).select(self._axis(preset, axis))
            self.query_one("#budget", AxisRow).select((preset.budget.kind,))
            with self.prevent(Input.Changed):
                self.query_one("#input_lens", Input).value = ", ".join(map(str, preset.input_lens))
                self.query_one("#batch_sizes", Input).value = ", ".join(map(str, preset.batch_sizes))
                self.query_one("#budget-value", Input).value = self._budget_text(preset)
                self.query_one("#timeout_s", Input).value = self._timeout_text(preset)
                self.query_one("#file", Input).value = self._file_name(preset)
            self.query_one("#source", Static).update(self._source(preset))
        self.app.set_preset(preset)
        self._validate()

    # ---- the summary -------------------------------------------------------------------------------

    def _data_changed(self, version: int) -> None:
        try:
            preset = self.selection()
        except (SetupErrors, PresetError):
            return
        snap = self.app.snap
        configs = preset.grid()
        if [c.key() for c in configs] != [c.key() for c in snap.configs]:
            self.query_one("#summary", Static).update(
                f"[b]{len(configs)} configurations[/b] · checking the store…"
            )
            return
        axes = [
            (len(getattr(preset, axis)), name)
            for axis, name in (
                ("families", "families"),
                ("sizes", "sizes"),
                ("input_lens", "lengths"),
                ("batch_sizes", "batch sizes"),
                ("tasks", "tasks"),
                ("weights", "weights"),
            )
        ]
        shape = " × ".join(f"{n} {name}" for n, name in axes if n > 1)
        product = math.prod(n for n, _ in axes)
        if product > len(configs):
            shape += f"; {product - len(configs)} left out: pairs that do not exist or excluded"
        lines = [f"[b]{len(configs)} configurations[/b]" + (f" ({shape})" if shape else "")]
        limits = sorted({timeout_s(c, preset.timeout_s) for c in configs})
        span = f"{limits[0]:,.0f} s" if len(limits) == 1 else f"{limits[0]:,.0f}–{limits[-1]:,.0f} s"
        why = "set above" if preset.timeout_s is not None else "its budget, plus build, infer and eval"
        lines.append(f"timeout {span} per configuration ({why})")
        where = snap.env.get("hardware") or "this machine"
        todo = len(snap.todo())
        lines.append(
            f"{snap.measured} measured on {where}, {snap.failed} failed, [b]{todo} to measure[/b]"
            + (" — ctrl+r runs them" if todo else " — nothing left to measure")
        )
        cost = rough_cost(snap)
        if todo and cost is None:
            lines.append(f"rough cost: unknown — {self._cost_unknown(snap)}")
        elif todo:
            seconds, joules, covered = cost
            more = f" for {covered} of {todo}" if covered < todo else ""
            lines.append(
                f"rough cost{more}: ≈ {_about(seconds)}, ≈ {joules:,.0f} J "
                f"(cost model on {len(snap.fit_rows)} stored records, + {STARTUP_S:.0f} s start-up each)"
            )
        self.query_one("#summary", Static).update("\n".join(lines))

    @staticmethod
    def _cost_unknown(snap) -> str:
        """Why the grid's cost cannot be guessed, and the quickest way to change that."""
        if snap.model is not None:
            return "the cost model predicts no time for the configurations left"
        reason = no_model_reason(snap).removeprefix("no cost model yet: ")
        fitted = len({r["key"] for r in snap.fit_rows})
        if fitted >= MIN_FIT_CONFIGS:
            return reason
        if fitted == 0 and snap.device == "cpu":
            return f"{reason}; the smoke preset measures 2 in about a minute"
        return f"{reason}; measuring {MIN_FIT_CONFIGS - fitted} more gives it one"

    # ---- actions -----------------------------------------------------------------------------------

    def action_run(self) -> None:
        preset = self._validate()
        if preset is None:
            self.notify("Fix the lines marked in red first.", severity="error")
            return
        self.app.set_preset(preset)
        self.app.start_run(preset.grid())

    def _file(self) -> Path:
        return Path(self.query_one("#file", Input).value.strip()).expanduser()

    def _file_result(self, ok: str = "", problem: str = "") -> None:
        status = self.query_one("#file-status", Static)
        status.update(ok)
        status.set_class(bool(ok), "-shown")
        widget = self.query_one("#file-problem", Static)
        widget.update(problem)
        widget.set_class(bool(problem), "-shown")

    def action_load(self) -> None:
        try:
            preset = load_preset(self._file())
        except PresetError as exc:
            self._file_result(problem=str(exc))
            return
        self._fill(preset)
        self._file_result(ok=f"loaded {preset.path}")

    def action_save(self) -> None:
        preset = self._validate()
        if preset is None:
            self._file_result(problem="not saved: fix the lines marked in red first")
            return
        if _settings(preset) != _settings(self.origin):  # its description was of another grid
            preset = replace(preset, description=f"{self.origin.name}, edited: {_describe(preset)}")
        try:
            saved = save_preset(preset, self._file())
        except (ValueError, PresetError) as exc:
            self._file_result(problem=str(exc))
            return
        self._file_result(ok=f"saved {saved.path}")
        self.notify(f"Saved the preset to {saved.path}")
