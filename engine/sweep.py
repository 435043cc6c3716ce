"""A sweep: the configurations of a grid measured by an executor (one child process at a time, or Ray
tasks), each claimed in the store first and stored as it lands."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from engine import archs, claims, pretrain
from engine.config import RunConfig
from engine.executor import MEASURE, ChildFailed, Executor, Interrupted, Local, Slot, run_child
from engine.passes import combine
from engine.record import Record, utc_now
from engine.signals import signum_of
from engine.store import Store

IDLE_S = 1.0  # at least the energy source's own minimum window (measure_idle extends it)
POLL_S = 0.5  # how long the scheduler waits for a measurement to land before looking again
WAIT_POLL_S = 1.0  # how often a configuration another sweep holds is looked at


@dataclass(frozen=True)
class Probe:
    """The machine's idle power and environment are being measured before `total` configurations."""

    total: int
    message: str


@dataclass(frozen=True)
class Prepare:
    """Checkpoints the grid starts from are being pre-trained (once, then cached)."""

    message: str


@dataclass(frozen=True)
class Log:
    """A line for the watcher's log."""

    message: str


@dataclass(frozen=True)
class Skip:
    """Configurations already stored are skipped: `total` measurements are left to make."""

    total: int
    message: str


@dataclass(frozen=True)
class Start:
    """A measurement starts. index and total count measurements (one per pass of a configuration);
    note is "pass k/N" for a configuration measured in N passes, else empty; node names the machine
    on a cluster ("" on the local machine)."""

    index: int
    total: int
    config: RunConfig
    note: str = ""
    node: str = ""


@dataclass(frozen=True)
class Phase:
    """The measurement in flight entered a phase (train, infer, eval, ...)."""

    index: int
    total: int
    config: RunConfig
    phase: str
    node: str = ""


@dataclass(frozen=True)
class Done:
    """A measurement finished with its record (failed ones included); fields as Start's."""

    index: int
    total: int
    config: RunConfig
    record: Record | None
    note: str = ""
    node: str = ""


Event = Probe | Prepare | Log | Skip | Start | Phase | Done  # what a sweep tells its watcher


@dataclass
class Outcome:
    """What a sweep did: the records it measured, how many it skipped, and whether it was stopped (and
    by which signal: SIGINT for Ctrl-C or the app, SIGTERM, SIGHUP)."""

    env: dict = field(default_factory=dict)
    measured: list[Record] = field(default_factory=list)
    skipped: int = 0
    interrupted: bool = False
    signum: int = signal.SIGINT

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


def run(
    configs: list[RunConfig],
    store: Store,
    *,
    fresh: bool = False,
    timeout: float | None = None,
    on_event: Callable[[Event], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    target: str = MEASURE,
    executor: Executor | None = None,
    lease_s: float = claims.LEASE_S,
) -> Outcome:
    """Measure what the store does not hold yet for this machine; every record is committed as it lands.

    A sweep runs on one device with one thread count (ValueError when the configurations mix them):
    the probe of the machine, whose fingerprint every record shares, is made with them. `timeout`
    replaces each configuration's own (engine.timeouts) when given. `target` is the child's measuring
    function ("module:function"; tests inject faults through it). `executor`
    runs the measurements (default: engine.executor.Local, one child process at a time; or
    engine.ray_executor.RayExecutor, which brings its own timeout and target); each configuration is
    claimed in the store first, so that sweeps sharing the database measure it once (engine.claims,
    whose lease is `lease_s`).
    """
    if len({(c.device, c.threads) for c in configs}) > 1:
        raise ValueError("a sweep's configurations must share one device and one thread count")
    emit = on_event or (lambda event: None)
    executor = executor or Local(timeout=timeout, should_stop=should_stop, target=target)
    outcome = Outcome()
    since = utc_now()
    try:
        emit(Probe(len(configs), "measuring idle power and the environment"))
        slots = executor.probe(configs[0].device, configs[0].threads, IDLE_S)
        outcome.env = slots[0].env
        fps = {s.env["fingerprint"] for s in slots}
        if fresh:
            for fp in fps:
                store.delete([c.key() for c in configs], fp)
        todo = [c for c in configs if not any(store.has(c.key(), fp) for fp in fps)]
        outcome.skipped = len(configs) - len(todo)
        if outcome.skipped:
            emit(Skip(len(todo), f"{outcome.skipped} already measured on this machine"))
        _prepare(needs_pretraining(todo), emit, should_stop)
        with claims.holding(store, lease_s) as who:
            _Schedule(todo, store, executor, who, since, outcome, emit, should_stop).run()
    except (Interrupted, KeyboardInterrupt) as exc:  # Ctrl-C, SIGTERM, SIGHUP (engine.signals), the app
        outcome.interrupted = True
        outcome.signum = signum_of(exc)
    finally:
        executor.cancel()
    return outcome


class _Schedule:
    """Every configuration of `todo`, `config.passes` times in interleaved passes over the grid.

    Passes after the first visit the grid in a shuffled order (fixed per pass), so that a slow spell of
    the machine falls on different configurations each time. After each pass a configuration's passes
    so far are combined (engine.passes) and stored, so an interruption keeps them. A failed pass is
    stored as the configuration's record and ends its passes. A configuration's passes run one after
    another on machines of one fingerprint (the one its claim names).

    A configuration another sweep holds is waited for once this sweep has nothing else to start: it is
    taken over if that sweep's claim lapses, and counted as skipped once that sweep stores it.
    """

    def __init__(self, todo, store, executor, who, since, outcome, emit, should_stop) -> None:
        self.store, self.executor, self.who, self.since = store, executor, who, since
        self.outcome, self.emit, self.should_stop = outcome, emit, should_stop
        self.jobs = [
            (p, c)
            for p in range(max(c.passes for c in todo) if todo else 0)
            for c in _order(todo, p)
            if p < c.passes
        ]
        self.total = len(self.jobs)
        self.index = 0
        self.runs: dict[str, list[Record]] = {}
        self.final: dict[str, Record] = {}
        self.fp: dict[str, str] = {}  # the fingerprint a configuration's claim names
        self.flying: set[str] = set()
        self.waiting: dict[str, RunConfig] = {}  # held by another sweep

    def run(self) -> None:
        try:
            while self.jobs or self.flying or self.waiting:
                if self.should_stop is not None and self.should_stop():
                    raise Interrupted()
                self._start()
                if self.flying:
                    for slot, config, p, record in self.executor.landed(POLL_S):
                        self._land(slot, config, p, record)
                elif self.jobs:  # machines free, but none of the fingerprint these passes need
                    self._strand()
                elif self.waiting:
                    time.sleep(WAIT_POLL_S)
                    self._reclaim()
        finally:
            self.outcome.measured = list(self.final.values())

    def _start(self) -> None:
        for slot in self.executor.free():
            while (job := self._next(slot)) is not None:
                p, config = job
                key = config.key()
                if p == 0:
                    state = self.store.claim(key, slot.env["fingerprint"], self.who, self.since)
                    if state != "mine":
                        self._not_ours(config, slot.env["fingerprint"], state)
                        continue
                    self.fp[key] = slot.env["fingerprint"]
                note = f"pass {p + 1}/{config.passes}" if config.passes > 1 else ""
                self.emit(Start(self.index, self.total, config, note, slot.node))
                self.flying.add(key)
                self.executor.start(
                    slot,
                    config,
                    p,
                    on_phase=lambda phase, i=self.index, t=self.total, c=config, n=slot.node: self.emit(
                        Phase(i, t, c, phase, n)
                    ),
                )
                break

    def _next(self, slot: Slot) -> tuple[int, RunConfig] | None:
        """The first job this slot may start: a first pass, or the next pass of a configuration whose
        previous pass has landed, on a machine of its claim's fingerprint."""
        for job in self.jobs:
            p, config = job
            key = config.key()
            if p == 0 or (key not in self.flying and self.fp.get(key) == slot.env["fingerprint"]):
                self.jobs.remove(job)
                return job
        return None

    def _not_ours(self, config: RunConfig, fp: str, state: str) -> None:
        key = config.key()
        self.jobs = [(p, c) for p, c in self.jobs if c.key() != key]
        self.total -= config.passes
        if state == "busy":
            if not self.waiting:
                self.emit(Log("another sweep is measuring some configurations: waiting"))
            self.waiting[key] = config
            self.fp[key] = fp
        else:
            self.outcome.skipped += 1

    def _strand(self) -> None:
        """End the configurations whose later passes no machine left can make (their nodes were lost):
        each keeps the passes it has."""
        for key in {c.key(): c for _, c in self.jobs}:
            self.store.release(self.who, key)
        labels = sorted({c.label() for _, c in self.jobs})
        self.emit(
            Log(
                f"no machine of their fingerprint is left for {', '.join(labels)}: "
                "they keep the passes they have",
            )
        )
        self.total -= len(self.jobs)
        self.jobs = []

    def _reclaim(self) -> None:
        """Take over the waited-for configurations whose claims lapsed; drop those stored meanwhile."""
        for key, config in list(self.waiting.items()):
            state = self.store.claim(key, self.fp[key], self.who, self.since)
            if state == "busy":
                continue
            del self.waiting[key]
            if state == "done":
                self.outcome.skipped += 1
            else:
                self.emit(Log(f"taking over {config.label()} from a sweep that stopped"))
                self.jobs += [(p, config) for p in range(config.passes)]
                self.total += config.passes

    def _land(self, slot: Slot, config: RunConfig, p: int, record: Record | None) -> None:
        key = config.key()
        self.flying.discard(key)
        if record is None:  # never started: its machine went away first
            where = slot.node or "its machine"
            self.emit(Log(f"{config.label()}: {where} went away before it started; again"))
            self.jobs.insert(0, (p, config))
            return
        if not record.env:  # the child died before describing itself
            record = dataclasses.replace(record, env=slot.env)
        if record.failure:
            later = [job for job in self.jobs if job[1].key() == key]
            self.jobs = [job for job in self.jobs if job not in later]
            self.total -= len(later)  # its later passes are not made
        else:
            self.runs.setdefault(key, []).append(record)
            record = combine(self.runs[key])
        self.store.put(record)
        if record.failure or p == config.passes - 1:
            self.store.release(self.who, key)
        self.final[key] = record
        note = f"pass {p + 1}/{config.passes}" if config.passes > 1 else ""
        self.emit(Done(self.index, self.total, config, record, note, slot.node))
        self.index += 1


def _order(configs: list[RunConfig], pass_index: int) -> list[RunConfig]:
    """The grid order for the first pass; a permutation seeded by the pass index after it."""
    if pass_index == 0:
        return configs
    return random.Random(pass_index).sample(configs, len(configs))


def _prepare(pairs: list[tuple[str, str]], emit, should_stop) -> None:
    """Pre-train the missing checkpoints, as many at once as there are cores (one thread each), the
    larger sizes first so that the longest start at once."""
    if not pairs:
        return
    pairs = sorted(pairs, key=lambda pair: -archs.sizes(pair[0]).index(pair[1]))
    names = ", ".join(f"{f}-{s}" for f, s in pairs)
    emit(Prepare(f"preparing synthetic pre-trained checkpoints (once, then cached): {names}"))
    workers = min(len(pairs), os.cpu_count() or 1)
    threads = max(1, (os.cpu_count() or 1) // workers)
    stopping = threading.Event()  # set when the main thread is interrupted: its workers stop their children

    def stop() -> bool:
        return stopping.is_set() or (should_stop is not None and should_stop())

    with ThreadPoolExecutor(workers) as pool:
        try:
            for future in [pool.submit(_pretrain, f, s, threads, emit, stop) for f, s in pairs]:
                future.result()
        except BaseException:
            stopping.set()
            raise


def _pretrain(family: str, size: str, threads: int, emit, should_stop) -> None:
    t0 = time.perf_counter()
    try:
        run_child(
            "engine.executor:pretrain_job",
            (family, size, threads),
            on_message=lambda kind, line: emit(Log(line)),
            should_stop=should_stop,
        )
    except ChildFailed as exc:  # the configurations that need it will fail with the reason
        emit(Log(f"pre-training {family}-{size} failed: {exc}"))
        return
    emit(Log(f"pre-trained {family}-{size} in {time.perf_counter() - t0:.0f} s"))
