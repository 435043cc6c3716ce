"""The Ray executor on a real local Ray (ray.init(num_cpus=2)): faults as records, a fresh worker per task,
the same records as the local executor, a stopped run that leaves nothing behind.

Ray is a test dependency (the `ray` extra, which CI installs): a Ray that cannot start fails these
tests with its reason; they are never skipped.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
import ray
from rich.console import Console

from engine import sweep
from engine.config import RunConfig
from engine.ray_executor import RESOURCE, RayExecutor
from engine.store import Store
from tests import faults
from tests.test_sweep import FAKE, configs

ROOT = Path(__file__).resolve().parent.parent
OBJECT_STORE = 80 * 2**20  # the smallest Ray allows is 75 MiB; the tasks return small dicts
QUICK = dict(phases=("infer",), batch_size=2, repetitions=2, min_window_s=0.05, warmup=1, gen_tokens=4)


@pytest.fixture(scope="module")
def local_ray():
    ray.init(
        num_cpus=2,
        resources={RESOURCE: 1},
        object_store_memory=OBJECT_STORE,
        include_dashboard=False,
        log_to_driver=False,
    )
    yield
    ray.shutdown()


def test_faults_become_failed_records_and_each_task_has_a_fresh_process(local_ray, tmp_path):
    grid = configs([0, faults.RAISE, faults.ABORT, faults.HANG, 5, faults.KILL_WORKER])
    events = []
    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, executor=RayExecutor(timeout=12, target=FAKE), on_event=events.append)
        by_seed = {r.config.seed: r for r in store.records()}
    assert sorted(by_seed) == sorted(c.seed for c in grid)
    assert by_seed[faults.RAISE].failure.kind == "error"
    assert "injected failure" in by_seed[faults.RAISE].failure.error
    assert by_seed[faults.ABORT].failure.kind == "crash"
    assert "SIGABRT" in by_seed[faults.ABORT].failure.error
    assert by_seed[faults.ABORT].failure.phase == "train"  # the phase it was in
    assert by_seed[faults.HANG].failure.kind == "timeout"
    assert by_seed[faults.KILL_WORKER].failure.kind == "crash"
    assert "worker" in by_seed[faults.KILL_WORKER].failure.error
    ok = [by_seed[s] for s in (0, 5)]
    assert all(r.status == "ok" for r in ok) and len(out.failed) == 4
    measuring = {r.env["pid"] for r in ok}
    assert len(measuring) == 2 and os.getpid() not in {r.env["launcher_pid"] for r in ok}  # fresh, on workers
    for r in ok:  # the node's probe, measured once, handed to each of its tasks
        assert r.env["idle_power_w"] == out.env["idle_power_w"]
        assert r.env["fault_s_per_byte"] == out.env["fault_s_per_byte"]
        assert r.env["fingerprint"] == out.env["fingerprint"]
    nodes = {e.node for e in events if isinstance(e, sweep.Start | sweep.Done)}
    assert len(nodes) == 1 and nodes != {""}  # progress names the node that runs each


def test_a_sweep_on_ray_stores_what_a_local_sweep_stores(local_ray, tmp_path):
    """Real measurements (two tiny models): the same configurations, fields and environment."""
    grid = [RunConfig(f, "tiny", 128, **QUICK) for f in ("led", "bigbird-pegasus")]
    with Store(tmp_path / "local.sqlite", create=True) as store:
        sweep.run(grid, store, timeout=300)
        local = {r.config.key(): r for r in store.records()}
    with Store(tmp_path / "ray.sqlite", create=True) as store:
        sweep.run(grid, store, executor=RayExecutor(timeout=300))
        on_ray = {r.config.key(): r for r in store.records()}
    assert sorted(on_ray) == sorted(local) == sorted(c.key() for c in grid)
    measured_by_the_probe = {"idle_power_w", "fault_s_per_byte"}
    for key, r in on_ray.items():
        assert r.status == local[key].status == "ok", (r.failure, local[key].failure)
        assert sorted(r.flat()) == sorted(local[key].flat())
        assert (r.dims, r.padded_len, r.batch_size) == (
            local[key].dims,
            local[key].padded_len,
            local[key].batch_size,
        )
        assert sorted(r.metrics) == sorted(local[key].metrics)
        differ = {k for k in r.env.keys() | local[key].env.keys() if r.env.get(k) != local[key].env.get(k)}
        assert differ <= measured_by_the_probe, differ


def test_without_ray_a_ray_run_gets_one_line_and_exit_2(tmp_path):
    """Where `import ray` fails (a package that raises ImportError shadows it), nothing is written."""
    shadow = tmp_path / "shadow" / "ray"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no ray here')\n")
    db = tmp_path / "r.sqlite"
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--preset", "smoke", "--executor", "ray", "--db", str(db)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{shadow.parent}{os.pathsep}{ROOT}"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "tradeoff-tui[ray]" in proc.stderr
    assert not db.exists()


def test_ray_address_needs_the_ray_executor(tmp_path):
    from tui.cli import main

    assert (
        main(["--preset", "smoke", "--ray-address", "127.0.0.1:1", "--db", str(tmp_path / "r.sqlite")]) == 2
    )
    assert not (tmp_path / "r.sqlite").exists()


def test_progress_names_the_node_of_each_configuration(capsys):
    from engine.record import Failure
    from engine.sweep import Done, Start
    from tests.faults import fake_record
    from tui.headless import _Progress
    from tui.screens.run_state import RunState

    config = RunConfig("led", "tiny", 128)
    failed = dataclasses.replace(fake_record(config), failure=Failure("start", "crash", "node lost"))
    state, progress = RunState(), _Progress(Console(file=io.StringIO()), 1)  # no terminal: plain lines
    for event in (
        Start(0, 1, config, node="gpu-7:ab12cd"),
        Done(0, 1, config, failed, node="gpu-7:ab12cd"),
    ):
        if isinstance(event, Start):
            state.apply(event, 0.0)
            assert state.node == "gpu-7:ab12cd"
        else:
            state.apply(event, 1.0)
        progress(event)
    assert state.node == "" and "on gpu-7:ab12cd" in state.log[-1]
    out = capsys.readouterr().out.splitlines()
    assert all("on gpu-7:ab12cd" in line for line in out) and len(out) == 2


def test_a_preset_chooses_its_executor_without_changing_its_configurations(tmp_path):
    from engine.preset import PresetError, load_preset

    base = (ROOT / "presets" / "smoke.toml").read_text()
    path = tmp_path / "on-ray.toml"
    path.write_text(base.replace("[run]\n", '[run]\nexecutor = "ray"\n'))
    preset = load_preset(path)
    assert preset.executor == "ray" and load_preset("smoke").executor == "local"
    assert [c.key() for c in preset.grid()] == [c.key() for c in load_preset("smoke").grid()]
    path.write_text(base.replace("[run]\n", '[run]\nexecutor = "dask"\n'))
    with pytest.raises(PresetError, match=r"run\.executor.*local, ray"):
        load_preset(path)
