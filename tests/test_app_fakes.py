"""A fake sweep runner for the app's tests: sweep events and Records from formulas, in milliseconds.

Records look like the engine's (costmodel features drive latency and energy, a saturating curve the
accuracy), so the cost model fits them; nothing is measured and no child process starts.
"""

from __future__ import annotations

import contextlib
import math
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from textual.worker import WorkerCancelled

from costmodel.features import features
from engine import archs
from engine.config import Budget, RunConfig
from engine.preset import PRESETS_DIR, Preset
from engine.record import Energy, Failure, PhaseResult, Record, Timing
from engine.rows import config_row
from engine.store import Store
from engine.sweep import Done, Outcome, Phase, Probe, Skip, Start

ENV = {"hardware": "Fake CPU", "device": "cpu", "fingerprint": "fakefp000001", "idle_power_w": 2.0}
POWER_W = 8.0


def _timing(seconds: float) -> Timing:
    return Timing(seconds, seconds * 0.95, seconds * 1.08, seconds * 0.03, 10, seconds * 10)


def _energy(seconds: float) -> Energy:
    return Energy(POWER_W * seconds, (POWER_W - 2.0) * seconds, "estimate", POWER_W, 2.0, seconds)


def _wobble(config: RunConfig) -> float:
    """A deterministic spread of a few per cent, so fits have residuals."""
    return 1.0 + 0.04 * math.sin(zlib.crc32(config.label().encode()) % 97)


def fixed_batch_demo(directory: Path, batch: int = 4) -> Path:
    """The cpu-demo preset at one fixed batch, written to `directory`: a fake grid of one batch gives
    the memory fit nothing to predict an "auto" batch from, so figures per batch would be missing."""
    text = (PRESETS_DIR / "cpu-demo.toml").read_text()
    assert 'batch_sizes = ["auto"]' in text
    path = directory / "demo.toml"
    path.write_text(text.replace('batch_sizes = ["auto"]', f"batch_sizes = [{batch}]"))
    return path


def fake_record(config: RunConfig, *, fail: str = "", env: dict | None = None) -> Record:
    """The record a measurement of `config` would give on a fake machine."""
    dims = archs.dims(config.family, config.size)
    encoder = archs.encoder_plan(config, dims)
    batch = config.batch_size if isinstance(config.batch_size, int) else 4
    env = env or ENV
    if fail:
        failure = Failure("train", "error", fail)
        return Record(
            config, dims, batch_size=batch, env=env, failure=failure, created="2026-01-01T00:00:00", **encoder
        )
    row = config_row(config) | {"batch_size": batch}
    enc, gen, train = (features(row, p) for p in ("encode", "infer", "train"))
    w = _wobble(config)
    infer_s = (0.002 + enc.f_dense / 2e10 + enc.f_attn / 5e9) * w
    gen_s = (0.01 + gen.f_dense / 2e10 + gen.f_attn / 5e9 + gen.f_dec / 1e9) * w
    step_s = (0.02 + train.f_dense / 1.5e10 + train.f_attn / 4e9) * w
    steps = int(config.budget.value) if config.budget.kind == "steps" else 10
    z = (0.3 if config.family == "led" else -0.3) + 1.5 * (math.log(config.input_len) - 6.5)
    z += 0.8 * (math.log(enc.params) - 14)
    accuracy = 0.6 / (1 + math.exp(-z)) * (2 - w)
    memory = 200 + enc.weight_bytes / 1e6 + enc.act_bytes / 5e5
    phases = (
        PhaseResult(
            "train",
            steps * step_s,
            energy=_energy(steps * step_s),
            peak_memory_mb=memory * 2,
            figures={"steps": steps},
        ),
        PhaseResult(
            "infer",
            infer_s * 20,
            timing=_timing(infer_s),
            energy=_energy(infer_s),
            peak_memory_mb=memory,
            figures={"gen_median_s": gen_s, "gen_energy_j": POWER_W * gen_s},
        ),
        PhaseResult("eval", 1.0, energy=_energy(1.0), figures={"samples": 4}),
    )
    metrics = {"rouge_mean": accuracy} if config.task != "synthetic-qa" else {"f1": accuracy}
    return Record(
        config,
        dims,
        batch_size=batch,
        phases=phases,
        metrics=metrics,
        env=env,
        created="2026-01-01T00:00:00",
        **encoder,
    )


class FakeRunner:
    """sweep.run's signature. `pause` seconds between events; `fail` maps config labels to errors."""

    def __init__(self, pause: float = 0.0, fail: dict[str, str] | None = None, hold: Callable | None = None):
        self.pause, self.fail, self.hold = pause, fail or {}, hold
        self.calls: list[list[RunConfig]] = []
        self.timeouts: list[float | None] = []

    def __call__(self, configs, store: Store, *, fresh=False, timeout=None, on_event=None, should_stop=None):
        emit = on_event or (lambda event: None)
        stop = should_stop or (lambda: False)
        self.calls.append(list(configs))
        self.timeouts.append(timeout)
        outcome = Outcome(env=dict(ENV))
        if fresh:
            store.delete([c.key() for c in configs], ENV["fingerprint"])
        emit(Probe(len(configs), "measuring idle power and the environment"))
        todo = [c for c in configs if not store.has(c.key(), ENV["fingerprint"])]
        outcome.skipped = len(configs) - len(todo)
        if outcome.skipped:
            emit(Skip(len(todo), f"{outcome.skipped} already measured on this machine"))
        for i, config in enumerate(todo):
            emit(Start(i, len(todo), config))
            for phase in config.phases:
                if self.hold:
                    self.hold()
                if self._wait(stop):
                    outcome.interrupted = True
                    return outcome
                emit(Phase(i, len(todo), config, phase))
            record = fake_record(config, fail=self.fail.get(config.label(), ""))
            store.put(record)
            outcome.measured.append(record)
            emit(Done(i, len(todo), config, record))
        return outcome

    def _wait(self, stop: Callable[[], bool]) -> bool:
        end = time.monotonic() + self.pause
        while True:
            if stop():
                return True
            if time.monotonic() >= end:
                return False
            time.sleep(min(0.01, self.pause))


DEMO = Preset(
    name="demo",
    description="Two families, two sizes, three lengths: a small grid for the app's tests",
    path=None,
    families=("led", "bigbird-pegasus"),
    sizes=("tiny", "small"),
    input_lens=(128, 256, 512),
    batch_sizes=(4,),
    budget=Budget("steps", 10),
    repetitions=3,
    min_window_s=0.3,
)


def quick_fit(rows: list[dict]):
    """The cost model fitted in-process with a small bootstrap: deterministic and quick."""
    from costmodel.predict import fit_model

    return fit_model(rows, n_boot=40, seed=0)


def make_app(tmp_path: Path, *, preset: Preset | None = DEMO, stored: int = 8, runner=None, **options):
    """A TradeoffApp on a database in tmp_path, given fake records of the grid's first `stored` configs.

    With preset None the app starts from the selection it kept in tmp_path's state folder.
    """
    from tui.app import TradeoffApp

    store = Store(tmp_path / "results.sqlite", create=True)
    for config in preset.grid()[:stored] if preset else ():
        store.put(fake_record(config))
    options.setdefault("clock", lambda: 0.0)
    options.setdefault("device_probe", lambda: ("cpu",))  # tests asking torch pass their own
    return TradeoffApp(
        store,
        preset,
        runner=runner or FakeRunner(),
        fitter=quick_fit,
        export_dir=tmp_path,
        state_dir=tmp_path / "state",
        **options,
    )


async def run_to_end(pilot, seconds: float) -> None:
    """Wait, at most `seconds`, for the app's run (real child processes) to end, then settle."""
    for _ in range(int(seconds * 10)):
        await pilot.pause(0.1)
        if not pilot.app.run_state.running:
            break
    await settle(pilot)


async def settle(pilot) -> None:
    """Wait until no worker runs (a fit starts another refresh when it lands) and the screen is drawn."""
    for _ in range(50):
        with contextlib.suppress(WorkerCancelled):  # an exclusive worker a newer one replaced
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in pilot.app.workers):
            break
    await pilot.pause()
