"""Run work in a child process of its own: clean timings, and a crash or hang cannot take the caller down.
The local executor (Local) measures a sweep's configurations so, one at a time.

Children come from a fork server that has imported torch and transformers once (engine.preload),
so starting one costs milliseconds instead of seconds; where there is no fork server, they are
spawned.
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from engine import archs
from engine.config import RunConfig
from engine.record import Failure, Record, utc_now
from engine.signals import ignore_in_child, signum_of
from engine.timeouts import timeout_s

Event = Callable[[str, Any], None]
POLL_S = 0.1


class Interrupted(Exception):
    """The run was stopped (Ctrl-C, SIGTERM, SIGHUP or the app); the child in flight was stopped and
    nothing of it kept. `signum` is the signal (SIGINT for a stop the app asked for)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


MEASURE = "engine.executor:measure_job"


def measure_job(
    config_dict: dict, idle_w: float | None, fault_rate: float | None, send: Callable[[str, Any], None]
) -> dict:
    """Child side of measure_isolated: the record of one configuration, as a dict."""
    from engine.runner import measure

    config = RunConfig.from_dict(config_dict)
    measured = measure(config, idle_w=idle_w, fault_rate=fault_rate, on_phase=lambda p: send("phase", p))
    return measured.to_dict()


def probe_job(device: str, threads: int, idle_s: float, send: Callable[[str, Any], None]) -> dict:
    """Child side of a sweep's probe: environment, fingerprint and idle power at `threads` (0: default),
    and on the CPU the cost per byte of a block malloc maps afresh (engine.meters.faults)."""
    from engine.env import describe
    from engine.meters.energy import measure_idle, open_meter
    from engine.meters.faults import fault_s_per_byte

    env = describe(device, threads)
    if device == "cpu":
        env["fault_s_per_byte"] = fault_s_per_byte()
    with open_meter(device) as meter:
        env["energy_source"] = meter.source
        env["idle_power_w"] = measure_idle(meter, idle_s)
    return env


def pretrain_job(family: str, size: str, threads: int, send: Callable[[str, Any], None]) -> None:
    """Child side of preparation: the cached synthetic checkpoint of one architecture."""
    import torch

    from engine.pretrain import ensure

    torch.set_num_threads(threads)

    ensure(family, size, log=lambda line: send("log", line))


def _child(conn, target: str, args: tuple) -> None:
    """Call `module:function` with args and a send(kind, payload) callback; report its result or error."""
    ignore_in_child()  # the parent decides what a stop signal stops
    devnull = os.open(os.devnull, os.O_WRONLY)  # children speak through their pipe only: their own
    os.dup2(devnull, 1)  # output would garble the screen of the app that started them
    os.dup2(devnull, 2)
    try:
        module, _, name = target.partition(":")
        fn = getattr(importlib.import_module(module), name)
        conn.send(("result", fn(*args, send=lambda kind, payload: conn.send((kind, payload)))))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as data
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class ChildFailed(Exception):
    def __init__(self, kind: str, error: str) -> None:
        super().__init__(error)
        self.kind = kind


@functools.cache
def _context():
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["engine.preload"])
    return ctx


def run_child(
    target: str,
    args: tuple,
    *,
    timeout: float | None = None,
    on_message: Event | None = None,
    should_stop: Callable[[], bool] | None = None,
):
    """Run `module:function` in a fresh child process and return its result.

    Raises ChildFailed(kind, error) with kind "error", "crash" (a signal or an exit without a
    result) or "timeout"; raises Interrupted on Ctrl-C after stopping the child.
    """
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, target, args), daemon=True)
    proc.start()
    child.close()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            if parent.poll(POLL_S):
                try:
                    kind, payload = parent.recv()
                except EOFError:
                    proc.join()
                    raise ChildFailed("crash", _exit_reason(proc.exitcode)) from None
                if kind == "result":
                    proc.join()
                    return payload
                if kind == "error":
                    proc.join()
                    raise ChildFailed("error", payload)
                if on_message:
                    on_message(kind, payload)
            elif not proc.is_alive() and not parent.poll():
                raise ChildFailed("crash", _exit_reason(proc.exitcode))
            if should_stop is not None and should_stop():
                raise Interrupted()
            if deadline is not None and time.monotonic() > deadline:
                raise ChildFailed("timeout", f"no result after {timeout:g} s; stopped")
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP under engine.signals.stop_on_signals
        raise Interrupted(signum_of(exc)) from None
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"the process was killed by {signal.Signals(-code).name}"
    return f"the process exited with status {code} before reporting"


def measure_isolated(
    config: RunConfig,
    *,
    idle_w: float | None,
    fault_rate: float | None,
    timeout: float | None,
    on_phase: Callable[[str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    target: str = MEASURE,
) -> Record:
    """One configuration measured in its own child process; every failure comes back as a record."""
    phase = ["start"]

    def message(kind: str, payload: Any) -> None:
        if kind == "phase":
            phase[0] = payload
            if on_phase:
                on_phase(payload)

    try:
        return Record.from_dict(
            run_child(
                target,
                (config.to_dict(), idle_w, fault_rate),
                timeout=timeout,
                on_message=message,
                should_stop=should_stop,
            )
        )
    except ChildFailed as exc:
        return failed_record(config, phase[0], exc.kind, str(exc))


def failed_record(config: RunConfig, phase: str, kind: str, error: str) -> Record:
    """The record of a configuration whose measurement died before reporting (its inputs, the reason)."""
    dims = archs.of(config)
    return Record(
        config=config,
        dims=dims,
        **archs.encoder_plan(config, dims),
        batch_size=config.batch_size if isinstance(config.batch_size, int) else None,
        failure=Failure(phase=phase, kind=kind, error=error),
        created=utc_now(),
    )


@dataclass(frozen=True)
class Slot:
    """Room for one measurement on one machine, with what that machine's probe measured (env: its
    environment, fingerprint, idle power and fault rate). node names it ("" for this machine); ref is
    the executor's own handle."""

    env: dict
    node: str = ""
    ref: Any = None


class Executor(Protocol):
    """What a sweep measures with (engine.sweep._Schedule drives it)."""

    def probe(self, device: str, threads: int, idle_s: float) -> list[Slot]:
        """Measure every machine once; one slot per machine."""

    def free(self) -> list[Slot]:
        """The slots that can start a measurement now."""

    def start(self, slot: Slot, config: RunConfig, pass_index: int, on_phase: Callable[[str], None]) -> None:
        """Start measuring `config` in `slot`."""

    def landed(self, wait_s: float) -> list[tuple[Slot, RunConfig, int, Record | None]]:
        """The measurements that finished, waiting up to wait_s for one; a failure is a failed record,
        and None one that never started (its machine went away first: the sweep starts it again)."""

    def cancel(self) -> None:
        """Stop what is in flight (the sweep ends)."""


class Local:
    """The local executor: one measurement at a time, each in a child process of its own (start()
    returns once it has landed)."""

    def __init__(
        self,
        *,
        timeout: float | None = None,
        should_stop: Callable[[], bool] | None = None,
        target: str = MEASURE,
    ) -> None:
        self.timeout, self.should_stop, self.target = timeout, should_stop, target
        self.slot: Slot | None = None
        self.done: list[tuple[Slot, RunConfig, int, Record]] = []

    def probe(self, device: str, threads: int, idle_s: float) -> list[Slot]:
        env = run_child("engine.executor:probe_job", (device, threads, idle_s), should_stop=self.should_stop)
        self.slot = Slot(env)
        return [self.slot]

    def free(self) -> list[Slot]:
        return [] if self.done or self.slot is None else [self.slot]

    def start(self, slot: Slot, config: RunConfig, pass_index: int, on_phase: Callable[[str], None]) -> None:
        record = measure_isolated(
            config,
            idle_w=slot.env["idle_power_w"],
            fault_rate=slot.env.get("fault_s_per_byte"),
            timeout=timeout_s(config, self.timeout),
            on_phase=on_phase,
            should_stop=self.should_stop,
            target=self.target,
        )
        self.done.append((slot, config, pass_index, record))

    def landed(self, wait_s: float) -> list[tuple[Slot, RunConfig, int, Record]]:
        done, self.done = self.done, []
        return done

    def cancel(self) -> None:
        """Nothing: the child of a measurement never outlives start()."""
