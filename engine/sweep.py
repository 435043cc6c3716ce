"""A sweep: the configurations of a grid measured one child process at a time, each stored as it lands."""

from __future__ import annotations

import dataclasses
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from engine import pretrain
from engine.config import RunConfig
from engine.executor import MEASURE, ChildFailed, Interrupted, measure_isolated, run_child
from engine.passes import combine
from engine.record import Record
from engine.store import Store
from engine.timeouts import timeout_s

IDLE_S = 1.0  # at least the energy source's own minimum window (measure_idle extends it)


@dataclass(frozen=True)
class Event:
    """What a sweep tells its watcher. kind: probe, prepare, log, skip, start, phase, done.

    index and total count measurements (one per pass of a configuration); the message of start and
    done is "pass k/N" for a configuration measured in N passes, else empty.
    """

    kind: str
    index: int = 0
    total: int = 0
    config: RunConfig | None = None
    record: Record | None = None
    message: str = ""


@dataclass
class Outcome:
    """What a sweep did: the records it measured, how many it skipped, and whether it was stopped."""

    env: dict = field(default_factory=dict)
    measured: list[Record] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False

    @property
    def failed(self) -> list[Record]:
        return [r for r in self.measured if r.failure]


def needs_pretraining(configs: list[RunConfig]) -> list[tuple[str, str]]:
    """The (family, size) checkpoints this grid starts from that are not cached yet."""
    wanted = {
        (c.family, c.size)
        for c in configs
        if c.weights == "pretrained" and c.task.startswith("synthetic") and c.size in ("tiny", "small")
    }
    return sorted(pair for pair in wanted if not pretrain.is_cached(*pair))


def probe(device: str, threads: int = 0, *, should_stop: Callable[[], bool] | None = None) -> dict:
    """The environment and idle power, measured once in a child process (the sweep's fingerprint)."""
    return run_child("engine.executor:probe_job", (device, threads, IDLE_S), should_stop=should_stop)


def run(
    configs: list[RunConfig],
    store: Store,
    *,
    fresh: bool = False,
    timeout: float | None = None,
    on_event: Callable[[Event], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    target: str = MEASURE,
) -> Outcome:
    """Measure what the store does not hold yet for this machine; every record is committed as it lands.

    A sweep runs on one device with one thread count (ValueError when the configurations mix them):
    the probe of the machine, whose fingerprint every record shares, is made with them. `timeout`
    replaces each configuration's own (engine.timeouts) when given. `target` is
    the child's measuring function ("module:function"; tests inject faults through it).
    """
    if len({(c.device, c.threads) for c in configs}) > 1:
        raise ValueError("a sweep's configurations must share one device and one thread count")
    emit = on_event or (lambda event: None)
    outcome = Outcome()
    try:
        emit(Event("probe", total=len(configs), message="measuring idle power and the environment"))
        env = outcome.env = probe(configs[0].device, configs[0].threads, should_stop=should_stop)
        fp = env["fingerprint"]
        if fresh:
            store.delete([c.key() for c in configs], fp)
        todo = [c for c in configs if not store.has(c.key(), fp)]
        outcome.skipped = len(configs) - len(todo)
        if outcome.skipped:
            emit(
                Event("skip", total=len(todo), message=f"{outcome.skipped} already measured on this machine")
            )
        _prepare(needs_pretraining(todo), emit, should_stop)
        _measure_passes(todo, store, env, outcome, emit, timeout, should_stop, target)
    except Interrupted:
        outcome.interrupted = True
    return outcome


def _measure_passes(todo, store, env, outcome, emit, timeout, should_stop, target) -> None:
    """Every configuration of `todo`, `config.passes` times in interleaved passes over the grid.

    Passes after the first visit the grid in a shuffled order (fixed per pass), so that a slow spell of
    the machine falls on different configurations each time. After each pass a configuration's passes
    so far are combined (engine.passes) and stored, so an interruption keeps them. A failed pass is
    stored as the configuration's record and ends its passes.
    """
    jobs = [
        (p, c)
        for p in range(max(c.passes for c in todo) if todo else 0)
        for c in _order(todo, p)
        if p < c.passes
    ]
    runs: dict[str, list[Record]] = {}
    final: dict[str, Record] = {}
    total, i = len(jobs), 0
    try:
        for p, config in jobs:
            key = config.key()
            if key in final and final[key].failure:
                continue
            note = f"pass {p + 1}/{config.passes}" if config.passes > 1 else ""
            emit(Event("start", index=i, total=total, config=config, message=note))
            record = measure_isolated(
                config,
                idle_w=env["idle_power_w"],
                fault_rate=env.get("fault_s_per_byte"),
                timeout=timeout_s(config, timeout),
                on_phase=lambda phase, i=i, t=total, c=config: emit(Event("phase", i, t, c, message=phase)),
                should_stop=should_stop,
                target=target,
            )
            if not record.env:  # the child died before describing itself
                record = dataclasses.replace(record, env=env)
            if record.failure:
                total -= config.passes - p - 1  # its later passes are not made
            else:
                runs.setdefault(key, []).append(record)
                record = combine(runs[key])
            store.put(record)
            final[key] = record
            emit(Event("done", index=i, total=total, config=config, record=record, message=note))
            i += 1
    finally:
        outcome.measured = list(final.values())


def _order(configs: list[RunConfig], pass_index: int) -> list[RunConfig]:
    """The grid order for the first pass; a permutation seeded by the pass index after it."""
    if pass_index == 0:
        return configs
    return random.Random(pass_index).sample(configs, len(configs))


def _prepare(pairs: list[tuple[str, str]], emit, should_stop) -> None:
    """Pre-train the missing checkpoints, as many at once as there are cores (one thread each)."""
    if not pairs:
        return
    names = ", ".join(f"{f}-{s}" for f, s in pairs)
    emit(
        Event("prepare", message=f"preparing synthetic pre-trained checkpoints (once, then cached): {names}")
    )
    workers = min(len(pairs), os.cpu_count() or 1)
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(_pretrain, f, s, threads, emit, should_stop) for f, s in pairs]:
            future.result()


def _pretrain(family: str, size: str, threads: int, emit, should_stop) -> None:
    t0 = time.perf_counter()
    try:
        run_child(
            "engine.executor:pretrain_job",
            (family, size, threads),
            on_message=lambda kind, line: emit(Event("log", message=line)),
            should_stop=should_stop,
        )
    except ChildFailed as exc:  # the configurations that need it will fail with the reason
        emit(Event("log", message=f"pre-training {family}-{size} failed: {exc}"))
        return
    emit(Event("log", message=f"pre-trained {family}-{size} in {time.perf_counter() - t0:.0f} s"))
