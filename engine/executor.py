"""Run work in a child process of its own: clean timings, and a crash or hang cannot take the caller down.

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
from typing import Any

from engine import archs
from engine.config import RunConfig
from engine.record import Failure, Record, utc_now

Event = Callable[[str, Any], None]
POLL_S = 0.1


class Interrupted(Exception):
    """The user stopped the run (Ctrl-C); the child in flight was stopped and nothing of it kept."""


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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C stops
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
    except KeyboardInterrupt:
        raise Interrupted() from None
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
        dims = archs.of(config)
        return Record(
            config=config,
            dims=dims,
            padded_len=archs.padded_len(config.family, dims, config.input_len),
            batch_size=config.batch_size if isinstance(config.batch_size, int) else None,
            failure=Failure(phase=phase[0], kind=exc.kind, error=str(exc)),
            created=utc_now(),
        )
