"""The headless run: a preset measured with Rich progress, then the report printed and exported."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tui.errors import UsageError

EXIT_OK, EXIT_FAILED = 0, 1  # a stopped run exits 128 + the signal's number (engine.signals.exit_status)


def _preset(spec: str):
    from engine.preset import PresetError, load_preset

    try:
        return load_preset(spec)
    except PresetError as exc:
        raise UsageError(str(exc)) from None


def _exports(paths: list[str], name: str) -> list[Path]:
    """The files --export writes (a directory: every format, named after `name`), each checked."""
    from tui.export import check_export_path, export_targets

    targets = []
    for p in paths:
        for target in export_targets(p, name):
            try:
                check_export_path(target)
            except ValueError as exc:
                raise UsageError(f"--export {p}: {exc}") from None
            targets.append(target)
    return targets


def _store(db: str | None, *, create: bool):
    from engine.store import Store, StoreError, default_db_path

    path = Path(db) if db else default_db_path()
    try:
        return Store(path, create=create)
    except StoreError as exc:
        raise UsageError(str(exc)) from None


def _console():
    from rich.console import Console

    return Console(no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False)


def _finish(console, snap, title: str, exports: list[Path], notes: list[str], asked: list[str] = ()) -> None:
    """Print the report of a view, then write each export (`asked`: the --export paths; in a directory,
    every figure as .svg too)."""
    from tui import publish
    from tui.export import export_dirs

    report = publish.build(snap, title, notes)
    for r in report.renderables:
        console.print(r)
    for written in publish.write(report, exports, export_dirs(asked)):
        console.print(f"wrote {written}", soft_wrap=True)


class _Progress:
    """Rich progress on a terminal (overall with ETA, the configuration's phase); plain lines elsewhere."""

    def __init__(self, console, total: int) -> None:
        self.console = console
        self.live = console.is_terminal
        self.t0 = time.perf_counter()
        self.note = ""  # " (pass k/N)" of the configuration in flight
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self.overall = self.progress.add_task("sweep", total=total)
            self.current = self.progress.add_task("", total=None)
            self.progress.start()

    def line(self, text: str) -> None:
        stamp = f"[{time.perf_counter() - self.t0:6.1f}s]"
        if self.live:
            self.progress.console.print(f"{stamp} {text}", highlight=False)
        else:
            print(f"{stamp} {text}", flush=True)

    def __call__(self, event) -> None:
        from engine.sweep import Done, Log, Phase, Prepare, Probe, Skip, Start

        match event:
            case Probe() | Prepare() | Log() | Skip():
                self.line(event.message)
            case Start():
                self.note = _note(event)
                where = f"{event.config.label()}{_note(event)}{_on(event)}"
                if self.live:
                    self.progress.update(self.overall, total=event.total)
                    self.progress.update(self.current, description=f"{where}: starting")
                else:
                    self.line(f"({event.index + 1}/{event.total}) {where}")
            case Phase():
                if self.live:
                    description = f"{event.config.label()}{self.note}: {event.phase}"
                    self.progress.update(self.current, description=description)
            case Done(record=r):
                status = (
                    "ok"
                    if not r.failure
                    else f"FAILED in {r.failure.phase} ({r.failure.kind}): {r.failure.error}"
                )
                label = f"{event.config.label()}{_note(event)}{_on(event)}"
                self.line(f"({event.index + 1}/{event.total}) {label}: {status}")
                if self.live:
                    self.progress.advance(self.overall)

    def stop(self) -> None:
        if self.live:
            self.progress.stop()


def _note(event) -> str:
    """ " (pass 2/3)" for a configuration measured in passes."""
    return f" ({event.note})" if event.note else ""


def _on(event) -> str:
    """ " on NODE" for a measurement on a Ray node."""
    return f" on {event.node}" if event.node else ""


def _sample_count(spec: str | None, n: int) -> int | None:
    if spec is None:
        return None
    from costmodel.sample import parse_sample

    try:
        return parse_sample(spec, n)
    except ValueError as exc:
        raise UsageError(f"--sample {spec}: {exc}") from None


def run(args) -> int:
    """`tradeoff-tui --preset ...`: validate everything, then measure, report and export."""
    from engine.signals import stop_on_signals

    with stop_on_signals():  # SIGTERM and SIGHUP stop the sweep as Ctrl-C does
        return _run(args)


def _run(args) -> int:
    preset = _preset(args.preset)
    configs = preset.grid()
    exports = _exports(args.export, preset.name)
    count = _sample_count(args.sample, len(configs))
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
    timeout = args.timeout if args.timeout is not None else preset.timeout_s
    if args.dry_run:
        return dry_run(preset, configs, timeout)
    _check_device(preset, configs[0].device)
    executor = _executor(args, preset, timeout)
    try:
        return _measure(args, preset, configs, exports, count, executor, timeout)
    finally:
        if executor is not None:
            executor.close()


def _executor(args, preset, timeout: float | None):
    """None for the local executor; a RayExecutor (Ray started or reached) for --executor ray."""
    kind = args.executor or preset.executor
    if kind != "ray":
        if args.ray_address:
            raise UsageError('--ray-address: only with --executor ray (or [run] executor = "ray")')
        return None
    from engine.ray_executor import RayExecutor, RayUnavailable

    try:
        return RayExecutor(args.ray_address, timeout=timeout)
    except RayUnavailable as exc:
        raise UsageError(str(exc)) from None


def _measure(args, preset, configs, exports, count, executor, timeout: float | None) -> int:
    from engine import sweep
    from engine.executor import ChildFailed
    from engine.signals import exit_status

    store = _store(args.db, create=True)
    console = _console()
    console.print(
        f"tradeoff-tui: preset {preset.name} ({preset.description}); {len(configs)} configurations"
        + (f", measuring {count} and predicting the rest" if count is not None else "")
        + f"; results in {store.path}",
        soft_wrap=True,
    )
    progress = _Progress(console, len(configs))
    try:
        if count is None:
            outcome = sweep.run(
                configs, store, fresh=args.fresh, timeout=timeout, on_event=progress, executor=executor
            )
        else:
            outcome = _sampled(configs, count, store, args, progress, executor, timeout)
    except ChildFailed as exc:  # the probe of the machine, or every Ray node lost: what was measured is kept
        store.close()
        where = "the machines of the sweep" if executor is not None else "this machine"
        console.print(f"tradeoff-tui: could not measure on {where} ({exc.kind}): {exc}", soft_wrap=True)
        return EXIT_FAILED
    finally:
        progress.stop()
    from tui.workspace import machine_records, view

    fingerprint = outcome.env.get("fingerprint") or None
    records, env, elsewhere = machine_records(store, configs[0].device, fingerprint)
    store.close()
    snap = view(configs, records, outcome.env or env, elsewhere=elsewhere)
    keys = {c.key() for c in configs}
    notes = _scrolls_lines([r for r in records if r.config.key() in keys])
    if outcome.interrupted:
        notes.append("interrupted: the configurations finished before the stop are kept; rerun to resume")
    _finish(console, snap, f"preset {preset.name}", exports, notes, args.export)
    if outcome.interrupted:
        return exit_status(outcome.signum)
    return EXIT_FAILED if snap.failed else EXIT_OK


def _scrolls_lines(records) -> list[str]:
    """One line per model and length measured on two SCROLLS tasks or more: SCROLLS' benchmark score,
    the mean of its tasks' scores."""
    from engine.metrics import scrolls_score
    from engine.tasks.scrolls import SCROLLS_TASKS

    groups: dict[str, dict[str, float]] = {}
    for r in records:
        c = r.config
        if not r.failure and c.task in SCROLLS_TASKS and "score" in r.metrics:
            label = f"{c.family}-{c.size} n={c.input_len} b={c.batch_size}"
            groups.setdefault(label, {})[c.task] = r.metrics["score"]
    return [
        f"SCROLLS score of {label}: {scrolls_score(tasks):.3f} (the mean of "
        + ", ".join(f"{t} {v:.3f}" for t, v in sorted(tasks.items()))
        + ")"
        for label, tasks in groups.items()
        if len(tasks) > 1
    ]


def _check_device(preset, device: str) -> None:
    """One line and exit 2, before anything starts, for a device this machine does not have."""
    from engine.plan import device_problem

    problem = device_problem(device)
    if problem:
        raise UsageError(f"{preset.path or preset.name}: run.device: {problem}")


def dry_run(preset, configs, timeout: float | None) -> int:
    """`--dry-run`: every configuration with its timeout and what it needs on disk; nothing measured.

    Exit 0 when everything is here, 2 (after one line per missing item) when something is not.
    """
    from engine.plan import device_problem, needs
    from engine.timeouts import timeout_s

    console = _console()
    b = preset.budget
    console.print(
        f"tradeoff-tui: preset {preset.name} ({preset.description}); {len(configs)} configurations, "
        f"budget {b.value:g} {b.kind}; dry run, nothing measured",
        soft_wrap=True,
    )
    problems: dict[str, None] = {}
    if (problem := device_problem(configs[0].device)) is not None:
        problems[f"{preset.path or preset.name}: run.device: {problem}"] = None
    for config in configs:
        items = needs(config)
        shown = ", ".join(f"{n.what}{'' if n.present else ' (MISSING)'}" for n in items) or "nothing"
        console.print(
            f"{config.label()} on {config.device}: timeout {timeout_s(config, timeout):.0f} s; needs {shown}",
            soft_wrap=True,
            markup=False,
        )
        for n in items:
            if not n.present:
                problems.setdefault(n.missing_line() if n.blocking else f"to make: {n.what} ({n.how})")
    blocking = [p for p in problems if not p.startswith("to make:")]
    for line in problems:
        console.print(line, soft_wrap=True, markup=False)
    console.print(f"{len(blocking)} missing" if blocking else "ready to run", soft_wrap=True)
    return 2 if blocking else EXIT_OK


def _sampled(configs, count: int, store, args, progress, executor, timeout):
    """--sample: a space-filling start, then the configurations the cost model is least sure of, each
    round a sweep of those the planner proposes; a stopped sweep (or a stop while the planner fits)
    ends the sample."""
    from costmodel.sample import Planner
    from engine import sweep
    from engine.rows import grid_rows
    from engine.signals import signum_of

    planner = Planner(grid_rows(configs), count)
    total = sweep.Outcome()
    try:
        while picks := planner.propose():
            chosen = [configs[i] for i in picks]
            out = sweep.run(
                chosen, store, fresh=args.fresh, timeout=timeout, on_event=progress, executor=executor
            )
            total.env = out.env
            total.measured += out.measured
            total.skipped += out.skipped
            if out.interrupted:
                total.interrupted, total.signum = True, out.signum
                break
            keys = {c.key() for c in chosen}
            fingerprint = out.env["fingerprint"]
            planner.receive(
                r.flat() for r in store.records(fingerprint=fingerprint) if r.config.key() in keys
            )
    except KeyboardInterrupt as exc:  # Ctrl-C or a stop signal while the planner fits its cost model
        total.interrupted, total.signum = True, signum_of(exc)
    return total


def report(args) -> int:
    """`tradeoff-tui report`: the report of stored records, per machine; with --preset, of the machine
    that measured last on its device, the grid's other points predicted."""
    from tui.workspace import machine_records, machines, stored, view

    preset = _preset(args.preset) if args.preset else None
    exports = _exports(args.export, preset.name if preset else "report")
    store = _store(args.db, create=False)
    if preset is not None:
        configs = preset.grid()
        records, env, elsewhere = machine_records(store, configs[0].device)
        views = [(f"preset {preset.name}", view(configs, records, env, elsewhere=elsewhere))]
    else:
        by_machine = machines(store.records())
        views = []
        for fingerprint, records in by_machine.items():
            title = "stored records"
            if len(by_machine) > 1:
                hardware = records[-1].env.get("hardware") or "unknown hardware"
                title += f" of {hardware} ({fingerprint or 'no fingerprint'})"
            views.append((title, stored(records)))
    store.close()
    if not views:
        views = [("stored records", stored([]))]
    for title, snap in views:
        _finish(_console(), snap, title, _named(exports, title, len(views)), [], args.export)
    return EXIT_OK


def _named(exports: list[Path], title: str, count: int) -> list[Path]:
    """The export paths of one of `count` reports: each named after its machine where there are several."""
    if count == 1:
        return exports
    tag = "".join(c if c.isalnum() else "-" for c in title.rsplit("(", 1)[-1].rstrip(")"))
    return [p.with_name(f"{p.stem}-{tag}{p.suffix}") for p in exports]


def predict(args) -> int:
    """`tradeoff-tui predict`: fit on this machine's records matching --fit-on, predict the preset's grid,
    show the errors at measured points outside the fit."""
    from costmodel.errors import SelectError
    from tui.workspace import machine_records, view

    preset = _preset(args.preset)
    exports = _exports(args.export, f"predict-{preset.name}")
    tokens = getattr(args, "gen_tokens", None)
    if tokens is not None and tokens < 1:
        raise UsageError(f"--gen-tokens {tokens}: must be a whole number of tokens, at least 1")
    store = _store(args.db, create=False)
    configs = preset.grid()
    records, env, elsewhere = machine_records(store, configs[0].device)
    store.close()
    from dataclasses import replace

    grid = configs if tokens is None else [replace(c, gen_tokens=tokens) for c in configs]
    try:
        snap = view(grid, records, env, fit_on=args.fit_on, elsewhere=elsewhere)
    except SelectError as exc:
        raise UsageError(f"--fit-on: {exc}") from None
    notes = [f"fitted on records matching: {args.fit_on}"] if args.fit_on else []
    if tokens is not None:
        notes.append(
            f"generation predicted at {tokens} output tokens: prefill plus {tokens - 1} decoding steps"
        )
    notes += _held_out(snap.checks)
    _finish(_console(), snap, f"predict {preset.name}", exports, notes, args.export)
    return EXIT_OK


def _held_out(checks) -> list[str]:
    """One line per quantity: the predictions' error at measured points the fit did not see."""
    lines = []
    for q, h in checks.items():
        unit = " (absolute)" if q == "accuracy" else "%"
        inside = "" if h.coverage is None else f", {100 * h.coverage:.0f}% inside their 90% intervals"
        lines.append(
            f"{q} on {h.points} measured points outside the fit: median error {h.median:.3g}{unit}, "
            f"worst {h.worst:.3g}{unit}{inside}"
        )
    return lines


def merge(args) -> int:
    """`tradeoff-tui merge OUT IN...`: every input checked (and only read) before OUT is written."""
    from engine.store import Store, StoreError, read_rows

    out = Path(args.out).expanduser().absolute()
    try:
        rows = [read_rows(p) for p in args.inputs if Path(p).expanduser().absolute() != out]
        with Store(out, create=True) as store:
            counts = [store.merge(r) for r in rows]
            total = len(store.records())
    except StoreError as exc:
        raise UsageError(str(exc)) from None
    added, replaced = sum(a for a, _ in counts), sum(r for _, r in counts)
    seen = sum(len(r) for r in rows)
    print(
        f"merged {len(rows)} databases into {out}: {added} records added, {replaced} replaced by newer ones, "
        f"{seen - added - replaced} already there; {total} in all"
    )
    return EXIT_OK
