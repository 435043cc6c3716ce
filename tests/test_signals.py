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


def _measuring_child(sweep: psutil.Process, deadline: float) -> psutil.Process:
    """The child measuring the configuration: a child of the fork server, itself the sweep's child."""
    while time.monotonic() < deadline:
        for proc in sweep.children(recursive=True):
            if proc.ppid() != sweep.pid:
                return proc
        time.sleep(0.2)
    raise AssertionError("no measuring child appeared")


@pytest.mark.parametrize(
    "signum, to_group",
    [(signal.SIGTERM, False), (signal.SIGHUP, True), (signal.SIGTERM, True)],
    ids=["sigterm", "sighup-to-the-group", "sigterm-to-the-group"],
)
def test_a_stop_signal_stops_the_sweep_and_leaves_no_process(tmp_path, signum, to_group):
    preset = tmp_path / "long.toml"
    preset.write_text(LONG)
    db = tmp_path / "r.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--preset", str(preset), "--db", str(db), "--timeout", "900"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a job a scheduler started
    )
    try:
        sweep = psutil.Process(proc.pid)
        child = _measuring_child(sweep, time.monotonic() + 180)
        time.sleep(1.0)
        family = [sweep, *sweep.children(recursive=True)]
        assert child in family and len(family) >= 3  # the sweep, its fork server, the measuring child
        if to_group:
            os.killpg(proc.pid, signum)
        else:
            proc.send_signal(signum)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == exit_status(signum), out
    assert "interrupted" in out
    _, alive = psutil.wait_procs(family, timeout=15)
    assert not alive, [(p.pid, p.cmdline()) for p in alive]
    with Store(db) as store:
        assert store.records() == []  # the configuration in flight is not kept
