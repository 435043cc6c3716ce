"""The headless run: a preset measured with Rich progress, then the report printed and exported."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tui.errors import UsageError

EXIT_OK, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 130


def _preset(spec: str):
    from engine.preset import PresetError, load_preset

    try:
        return load_preset(spec)
    except PresetError as exc:
        raise UsageError(str(exc)) from None


def _exports(paths: list[str]) -> list[Path]:
    from tui.export import check_export_path

    for p in paths:
        try:
            check_export_path(p)
        except ValueError as exc:
            raise UsageError(f"--export {p}: {exc}") from None
    return [Path(p) for p in paths]


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


def _finish(console, title: str, analysis, exports: list[Path], env: dict, notes: list[str]) -> None:
    from tui.export import export
    from tui.report import build_report

    renderables = build_report(
        title=title,
        rows=analysis.rows,
        predictions=analysis.predictions or None,
        model=analysis.model,
        env=env,
        notes=notes + analysis.problems,
    )
    for r in renderables:
        console.print(r)
    for path in exports:
        written = export(
            path,
            renderables,
            records=analysis.records,
            rows=analysis.rows,
            predictions=analysis.predictions or None,
        )
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
        if event.kind in ("probe", "prepare", "log", "skip"):
            self.line(event.message)
        elif event.kind == "start":
            self.note = _note(event)
            if self.live:
                self.progress.update(self.overall, total=event.total)
                self.progress.update(
                    self.current, description=f"{event.config.label()}{_note(event)}: starting"
                )
            else:
                self.line(f"({event.index + 1}/{event.total}) {event.config.label()}{_note(event)}")
        elif event.kind == "phase":
            if self.live:
                description = f"{event.config.label()}{self.note}: {event.message}"
                self.progress.update(self.current, description=description)
        elif event.kind == "done":
            r = event.record
            status = (
                "ok"
                if not r.failure
                else f"FAILED in {r.failure.phase} ({r.failure.kind}): {r.failure.error}"
            )
            self.line(f"({event.index + 1}/{event.total}) {event.config.label()}{_note(event)}: {status}")
            if self.live:
                self.progress.advance(self.overall)

    def stop(self) -> None:
        if self.live:
            self.progress.stop()


def _note(event) -> str:
    """ " (pass 2/3)" for a configuration measured in passes."""
    return f" ({event.message})" if event.message else ""


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
    from engine import sweep
    from engine.executor import ChildFailed

    preset = _preset(args.preset)
    configs = preset.grid()
    exports = _exports(args.export)
    count = _sample_count(args.sample, len(configs))
    if args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: must be a positive number of seconds")
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
            outcome = sweep.run(configs, store, fresh=args.fresh, timeout=args.timeout, on_event=progress)
        else:
            outcome = _sampled(configs, count, store, args, progress)
    except ChildFailed as exc:  # the probe of the machine, before anything was measured
        store.close()
        console.print(f"tradeoff-tui: could not probe this machine ({exc.kind}): {exc}", soft_wrap=True)
        return EXIT_FAILED
    finally:
        progress.stop()
    env = outcome.env
    keys = {c.key() for c in configs}
    records = [r for r in store.records(fingerprint=env.get("fingerprint")) if r.config.key() in keys]
    store.close()
    notes = []
    if outcome.interrupted:
        notes.append("interrupted: the configurations finished before the stop are kept; rerun to resume")
    from tui.analysis import analyse

    analysis = analyse(records, configs)
    _finish(console, f"preset {preset.name}", analysis, exports, env, notes)
    if outcome.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if any(r.failure for r in records) else EXIT_OK


def _sampled(configs, count: int, store, args, progress):
    """--sample: a space-filling start, then the configurations the cost model is least sure of."""
    from costmodel.sample import sample_configs
    from engine import sweep
    from engine.rows import grid_rows

    by_key = {c.key(): c for c in configs}
    total = sweep.Outcome()

    def measure(rows: list[dict]) -> list[dict]:
        chosen = [by_key[r["key"]] for r in rows]
        out = sweep.run(chosen, store, fresh=args.fresh, timeout=args.timeout, on_event=progress)
        total.env = out.env
        total.measured += out.measured
        total.skipped += out.skipped
        if out.interrupted:
            total.interrupted = True
            raise KeyboardInterrupt
        fp = out.env["fingerprint"]
        keys = {c.key() for c in chosen}
        return [r.flat() for r in store.records(fingerprint=fp) if r.config.key() in keys]

    try:
        sample_configs(grid_rows(configs), count, measure)
    except KeyboardInterrupt:
        total.interrupted = True
    return total


def report(args) -> int:
    """`tradeoff-tui report`: the report of stored records, predictions for a preset's other points."""
    preset = _preset(args.preset) if args.preset else None
    exports = _exports(args.export)
    store = _store(args.db, create=False)
    records = store.records()
    store.close()
    configs = preset.grid() if preset else None
    if configs:
        keys = {c.key() for c in configs}
        records = [r for r in records if r.config.key() in keys]
    from tui.analysis import analyse

    analysis = analyse(records, configs)
    env = records[-1].env if records else {}
    _finish(_console(), f"preset {preset.name}" if preset else "stored records", analysis, exports, env, [])
    return EXIT_OK


def predict(args) -> int:
    """`tradeoff-tui predict`: fit on records matching --fit-on, predict the preset's grid, show errors."""
    from costmodel.errors import SelectError

    preset = _preset(args.preset)
    exports = _exports(args.export)
    tokens = getattr(args, "gen_tokens", None)
    if tokens is not None and tokens < 1:
        raise UsageError(f"--gen-tokens {tokens}: must be a whole number of tokens, at least 1")
    store = _store(args.db, create=False)
    configs = preset.grid()
    keys = {c.key() for c in configs}
    records = [r for r in store.records() if r.config.key() in keys]
    store.close()
    from dataclasses import replace

    from tui.analysis import analyse

    grid = configs if tokens is None else [replace(c, gen_tokens=tokens) for c in configs]
    try:
        analysis = analyse(records, grid, fit_on=args.fit_on)
    except SelectError as exc:
        raise UsageError(f"--fit-on: {exc}") from None
    env = records[-1].env if records else {}
    notes = [f"fitted on records matching: {args.fit_on}"] if args.fit_on else []
    if tokens is not None:
        notes.append(
            f"generation predicted at {tokens} output tokens: prefill plus {tokens - 1} decoding steps"
        )
    notes += _held_out(analysis.predictions)
    _finish(_console(), f"predict {preset.name}", analysis, exports, env, notes)
    return EXIT_OK


def _held_out(predictions) -> list[str]:
    """One line per quantity: the predictions' error at measured points the fit did not see."""
    from costmodel.predict import held_out_errors
    from costmodel.quantities import QUANTITIES

    lines = []
    for q in QUANTITIES:
        h = held_out_errors(predictions, q)
        if h is not None:
            unit = " (absolute)" if q == "accuracy" else "%"
            inside = "" if h.coverage is None else f", {100 * h.coverage:.0f}% inside their 90% intervals"
            lines.append(
                f"{q} on {h.points} measured points outside the fit: median error {h.median:.3g}{unit}, "
                f"worst {h.worst:.3g}{unit}{inside}"
            )
    return lines
