"""SIGTERM and SIGHUP stop a headless sweep as Ctrl-C does: no process of the sweep's is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from engine.signals import exit_status
from engine.store import Store

ROOT = Path(__file__).resolve().parent.parent
LONG = """description = "one measurement that takes minutes"
[grid]
families = ["led"]
sizes = ["tiny"]
input_lens = [128]
batch_sizes = [2]
[run]
phases = ["infer"]
repetitions = 2
min_window_s = 600
warmup = 1
gen_tokens = 4
threads = 1
"""


def _measuring_child(sweep: psutil.Process, executor: str, deadline: float) -> psutil.Process:
    """The process measuring the configuration: locally a child of the fork server (itself the sweep's
    child); on Ray the worker running the measuring task (a child of the raylet the sweep started)."""
    while time.monotonic() < deadline:
        for proc in sweep.children(recursive=True):
            try:
                if executor == "local" and proc.ppid() != sweep.pid:
                    return proc
                if executor == "ray" and any("ray::_task" in part for part in proc.cmdline()):
                    return proc
            except psutil.NoSuchProcess:
                continue
        time.sleep(0.2)
    raise AssertionError("no measuring process appeared")


@pytest.mark.parametrize(
    "executor, signum, to_group",
    [
        ("local", signal.SIGTERM, False),
        ("local", signal.SIGHUP, True),
        ("ray", signal.SIGTERM, False),
    ],
    ids=["sigterm", "sighup-to-the-group", "ray-sigterm"],
)
def test_a_stop_signal_stops_the_sweep_and_leaves_no_process(tmp_path, executor, signum, to_group):
    preset = tmp_path / "long.toml"
    preset.write_text(LONG)
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--preset", str(preset), "--db", str(db), "--timeout", "900"]
        + ["--executor", executor],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a job a scheduler started
    )
    try:
        sweep = psutil.Process(proc.pid)
        for line in proc.stdout:  # the configuration's measurement has started (after the probe)
            if "(1/1)" in line:
                break
        child = _measuring_child(sweep, executor, time.monotonic() + 180)
        time.sleep(1.0)
        family = [sweep, *sweep.children(recursive=True)]
        assert child in family and len(family) >= 3  # the sweep, its fork server or Ray, the measuring child
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        out, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == exit_status(signum), out
    assert "interrupted" in out
    _, alive = psutil.wait_procs(family, timeout=15)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
    with Store(db) as store:
        assert store.records() == []  # the configuration in flight is not kept
