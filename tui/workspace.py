"""The view model of both front ends: the grid, one machine's stored records, the cost model fitted on
them, and a point per configuration with its prediction, Pareto fronts and held-out checks.

The app builds a Snapshot in a worker (the cost model fitted in a spawned child process, ChildFitter,
so that its bootstrap never competes with the screen for the interpreter); the headless commands
build one with `view`. Both render it with tui.publish. Imports no textual.
"""

from __future__ import annotations

import functools
import multiprocessing
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from engine.config import RunConfig
from engine.record import Record
from engine.rows import config_row
from engine.store import Store
from tui.points import metrics_by_task, scores_shown

if TYPE_CHECKING:
    from costmodel.predict import Model, Prediction
    from costmodel.validate import HeldOut
    from engine.preset import Preset
    from tui.points import Point

MIN_FIT_CONFIGS = 4  # below this the cost model cannot fit anything


@dataclass(frozen=True)
class Snapshot:
    """What the screens show, computed off the event loop and replaced as a whole."""

    configs: tuple[RunConfig, ...] = ()
    env: dict = field(default_factory=dict)  # the machine of the latest stored record
    records: tuple[dict, ...] = ()  # the grid's stored records (Record.to_dict), for JSON exports
    rows: tuple[dict, ...] = ()  # their flat rows
    fit_rows: tuple[dict, ...] = ()  # successful rows of this machine the model was fitted on
    model: Model | None = None
    predictions: tuple[Prediction, ...] = ()
    points: tuple[Point, ...] = ()  # one per grid configuration
    problems: tuple[str, ...] = ()
    device: str = ""  # the grid's device
    elsewhere: tuple[str, ...] = ()  # "12 on cpu (Fake CPU)": measurements of other machines or devices
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # row key -> per-example scores

    @property
    def checks(self) -> dict[str, HeldOut]:
        """Per quantity, the predictions' errors at measured points the model was not fitted on."""
        from tui.points import held_out_checks

        return held_out_checks(self.predictions)

    @functools.cached_property
    def findings(self) -> list:
        """costmodel.findings TaskFindings per task, over the rows, predictions and scores shown."""
        from costmodel.findings import findings

        rows = list(self.rows)
        metrics = metrics_by_task(rows)
        return findings(
            rows, list(self.predictions), scores=scores_shown(rows, self.scores, metrics), metrics=metrics
        )

    @property
    def measured(self) -> int:
        """Grid configurations measured successfully on this machine."""
        return sum(1 for r in self.rows if r.get("status") == "ok")

    @property
    def failed(self) -> int:
        return sum(1 for r in self.rows if r.get("status") == "failed")

    def todo(self) -> list[RunConfig]:
        """Grid configurations without a successful measurement."""
        done = {r["key"] for r in self.rows if r.get("status") == "ok"}
        return [c for c in self.configs if c.key() not in done]


def machine_records(
    store: Store, device: str, fingerprint: str | None = None
) -> tuple[list[Record], dict, tuple[str, ...]]:
    """Stored records of the machine `fingerprint` (default: the one that measured last on `device`)
    on `device`, its environment, and what else the store holds (successful measurements counted per
    device and hardware)."""
    records = [r for r in store.records() if r.env.get("fingerprint")]
    on_device = [r for r in records if r.config.device == device]
    if fingerprint is not None:
        on_device = [r for r in on_device if r.env["fingerprint"] == fingerprint]
    env = on_device[-1].env if on_device else {}
    mine = [r for r in on_device if r.env["fingerprint"] == env.get("fingerprint")]
    others: dict[str, int] = {}
    for r in records:
        if r.status == "ok" and r.env["fingerprint"] != env.get("fingerprint"):
            where = f"{r.config.device} ({r.env.get('hardware') or 'unknown hardware'})"
            others[where] = others.get(where, 0) + 1
    return mine, env, tuple(f"{n} on {where}" for where, n in others.items())


def no_model_reason(snap: Snapshot) -> str:
    """Why there is no cost model for the grid's machine, in one line."""
    fitted = len({r["key"] for r in snap.fit_rows})
    where = f"{snap.device} on {snap.env.get('hardware') or 'this machine'}"
    if fitted >= MIN_FIT_CONFIGS:
        return f"no cost model yet: fitting it on the {fitted} configurations measured with {where}"
    line = f"no cost model yet: it needs {MIN_FIT_CONFIGS}+ configurations measured with {where}"
    line += f" ({fitted} so far)"
    if snap.elsewhere:
        line += f"; the store's other measurements, {'; '.join(snap.elsewhere)}, are of another machine"
        line += " or device, which the model does not carry over"
    return line


def missing_reason(snap: Snapshot, quantity: str, task: str = "") -> str:
    """Why the model predicts no `quantity` (for `task`, for accuracy): its fit's problem, if one failed."""
    if snap.model is None:
        return no_model_reason(snap)
    head = f"accuracy [{task}," if quantity == "accuracy" else f"{quantity} ["
    for problem in snap.problems:
        if problem.startswith(head):
            return problem
    return f"nothing measured on this machine gives {quantity}" + (f" for task {task}" if task else "")


def opening_preset(store: Store) -> Preset:
    """The built-in preset whose grid holds the most of the stored measurements (else the default)."""
    from engine.preset import DEFAULT_PRESET, builtin_presets, load_preset

    stored = {r.config.key() for r in store.records() if r.status == "ok"}
    best, count = load_preset(DEFAULT_PRESET), 0
    for name, _ in builtin_presets():
        preset = load_preset(name)
        n = sum(1 for c in preset.grid() if c.key() in stored)
        if n > count:
            best, count = preset, n
    return best


def fit_key(rows: list[dict]) -> tuple:
    """What a fit depends on: the successful rows it would be fitted on."""
    return tuple(sorted((str(r["key"]), str(r.get("created", ""))) for r in rows))


def snapshot(
    configs: list[RunConfig],
    records: list[Record],
    env: dict,
    model: Model | None,
    elsewhere: tuple[str, ...] = (),
    fitted: list[dict] | None = None,
) -> Snapshot:
    """Points of the grid from the stored records of one machine and, when given, the model's predictions
    (`fitted`: the rows it was fitted on, by default every successful record)."""
    from tui.points import grid_points

    keys = {c.key() for c in configs}
    latest: dict[str, Record] = {}
    for r in records:  # oldest first: keep the latest success, else the latest failure
        k = r.config.key()
        if k in keys and (r.status == "ok" or latest.get(k) is None or latest[k].status != "ok"):
            latest[k] = r
    rows = [dict(r.flat(), created=r.created) for r in latest.values()]
    planned = [config_row(c, env) for c in configs]
    predictions: list[Prediction] = []
    if model is not None and model.fits:
        predictions = model.predict(planned, rows)
    points = grid_points(planned + rows, predictions or None)
    return Snapshot(
        configs=tuple(configs),
        env=env,
        records=tuple(r.to_dict() for r in latest.values()),
        rows=tuple(rows),
        fit_rows=tuple(fit_rows(records) if fitted is None else fitted),
        model=model,
        predictions=tuple(predictions),
        points=tuple(points),
        problems=tuple(model.problems) if model else (),
        device=configs[0].device if configs else "",
        elsewhere=elsewhere,
        scores={r.config.key(): r.example_scores for r in latest.values() if r.example_scores},
    )


def view(
    configs: list[RunConfig],
    records: list[Record],
    env: dict,
    *,
    fit_on: str | None = None,
    elsewhere: tuple[str, ...] = (),
) -> Snapshot:
    """The Snapshot the headless commands show: the model fitted here, once, on the successful records
    (those matching `fit_on`: costmodel.select, which raises SelectError for a bad expression)."""
    from costmodel.predict import fit_model
    from costmodel.select import select

    rows = fit_rows(records)
    if fit_on and rows:
        rows = select(rows, fit_on)
    model = fit_model(rows) if rows else None
    snap = snapshot(configs, records, env, model, elsewhere, fitted=rows)
    if model is None:
        return replace(snap, problems=("no successful measurement to fit the cost model on",))
    return snap


def machines(records: list[Record]) -> dict[str, list[Record]]:
    """The records of each machine (by fingerprint; "" for records that name none), oldest first."""
    out: dict[str, list[Record]] = {}
    for r in records:
        out.setdefault(str(r.env.get("fingerprint") or ""), []).append(r)
    return out


def stored(records: list[Record]) -> Snapshot:
    """The view of one machine's stored records alone: the grid is the configurations they measured."""
    configs = list({r.config.key(): r.config for r in records}.values())
    return view(configs, records, records[-1].env if records else {})


def fit_rows(records: list[Record]) -> list[dict]:
    """Flat rows of the successful records, which the cost model is fitted on."""
    return [dict(r.flat(), created=r.created) for r in records if r.status == "ok"]


def rough_cost(snap: Snapshot) -> tuple[float, float, int] | None:
    """Predicted (seconds, joules, configurations covered) to measure the grid's unmeasured points."""
    from costmodel.cost import measuring_cost

    todo = {c.key() for c in snap.todo()}
    seconds = joules = 0.0
    covered = 0
    for p in snap.predictions:
        if p.row.get("key") not in todo:
            continue
        cost = measuring_cost(p.row, {q: e.value for q, e in p.estimates.items()})
        if cost is None:
            continue
        covered += 1
        seconds += cost[0]
        joules += cost[1]
    return (seconds, joules, covered) if covered else None


def _quiet() -> None:
    """In the fitting child: nothing written to the terminal the app draws on."""
    import os
    import warnings

    warnings.simplefilter("ignore")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


class ChildFitter:
    """Fits the cost model in one spawned child process, kept for the next fit and killed at exit."""

    def __init__(self) -> None:
        self._pool = None

    def __call__(self, rows: list[dict]) -> Model:
        from costmodel.predict import fit_model

        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(1, initializer=_quiet)
        return self._pool.apply(fit_model, (rows,))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
