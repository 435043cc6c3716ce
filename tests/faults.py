"""Child-side measuring functions for sweep tests: fast fake records, and faults chosen by seed.

seed 1 raises, seed 2 aborts the interpreter (SIGABRT), seed 3 hangs, seed 4 sleeps a second
(so a test can kill the sweep mid-way), seed 6 kills the process that started the measuring child's
fork server (on Ray, the worker: never use it locally, where that is the sweep); any other seed
returns a plausible record at once. A record's env names the measuring process (pid) and the one
that started its fork server (launcher_pid). With
MEASURE_LOG set, each measurement appends its configuration's key to that file.
"""

from __future__ import annotations

import os
import signal
import time

import psutil

from engine import archs
from engine.config import RunConfig
from engine.record import Energy, PhaseResult, Record, Timing, utc_now

RAISE, ABORT, HANG, SLOW, KILL_WORKER = 1, 2, 3, 4, 6


def fake_record(config: RunConfig, env: dict | None = None) -> Record:
    """A plausible record whose figures grow with the input length."""
    dims = archs.dims(config.family, config.size)
    n = config.input_len
    t = 1e-5 * n * dims["d_model"] / 64
    infer = PhaseResult(
        phase="infer",
        seconds=1.0,
        timing=Timing(t, 0.9 * t, 1.1 * t, 0.05 * t, 5, 1.0),
        energy=Energy(10 * t, 9 * t, "estimate", 10.0, 1.0, t),
        peak_memory_mb=100.0,
        figures={"gen_median_s": 3 * t, "gen_energy_j": 30 * t},
    )
    return Record(
        config=config,
        dims={**dims, "n_params": 1000 * dims["d_model"]},
        **archs.encoder_plan(config, dims),
        batch_size=config.batch_size if isinstance(config.batch_size, int) else 1,
        phases=(infer,),
        metrics={"rouge_mean": min(1.0, n / 512)},
        env=env or {"hardware": "test-cpu", "device": config.device, "fingerprint": os.environ.get("FP", "")},
        created=utc_now(),
    )


def measure_job(config_dict: dict, idle_w, fault_rate, send) -> dict:
    config = RunConfig.from_dict(config_dict)
    if os.environ.get("MEASURE_LOG"):
        with open(os.environ["MEASURE_LOG"], "a") as log:
            log.write(config.key() + "\n")
    send("phase", "train")
    if config.seed == RAISE:
        raise RuntimeError("injected failure")
    if config.seed == ABORT:
        os.abort()
    if config.seed == HANG:
        time.sleep(3600)
    if config.seed == SLOW:
        time.sleep(1.0)
    if config.seed == KILL_WORKER:
        os.kill(_launcher(), signal.SIGKILL)
        time.sleep(3600)
    # as the sweep's probe measured them; pid: the process that measured
    machine = {
        "idle_power_w": idle_w,
        "fault_s_per_byte": fault_rate,
        "pid": os.getpid(),
        "launcher_pid": _launcher(),
    }
    return fake_record(config, env={**_env(), **machine}).to_dict()


def _launcher() -> int:
    """The process that started this child's fork server (the child's grandparent)."""
    return psutil.Process().parent().ppid()


def _env() -> dict:
    from engine.env import describe

    return describe("cpu")
