"""The Ray executor on a real two-node cluster on 127.0.0.1 (ray.cluster_utils.Cluster): a node lost
part-way, a driver killed part-way and rerun. Never skipped: a cluster that cannot start fails."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import ray
from ray.cluster_utils import Cluster

from engine import sweep
from engine.ray_executor import RESOURCE, RayExecutor
from engine.store import Store
from tests import faults
from tests.test_ray import OBJECT_STORE
from tests.test_sweep import FAKE, configs

ROOT = Path(__file__).resolve().parent.parent
NODE = dict(num_cpus=1, resources={RESOURCE: 1}, object_store_memory=OBJECT_STORE)


@pytest.fixture(scope="module")
def cluster():
    """A head and one worker node, each with one measuring slot; this process its driver. The test
    that loses the worker node comes last."""
    c = Cluster(initialize_head=True, head_node_args={**NODE, "include_dashboard": False})
    worker = c.add_node(**NODE)
    c.wait_for_nodes()
    ray.init(address=c.address, log_to_driver=False)
    yield c, worker
    ray.shutdown()
    c.shutdown()


DRIVER = """
import sys, ray
sys.path.insert(0, {root!r})
from engine import sweep
from engine.ray_executor import RayExecutor
from engine.store import Store
from tests.test_sweep import configs
ray.init(address={address!r}, log_to_driver=False)
with Store({db!r}, create=True) as store:
    sweep.run(configs({seeds!r}, lens=(128, 256)), store,
              executor=RayExecutor(timeout=120, target="tests.faults:measure_job"))
"""


def test_a_driver_killed_part_way_then_rerun_stores_every_configuration_once(cluster, tmp_path):
    c, _ = cluster
    db = str(tmp_path / "r.sqlite")
    seeds = [faults.SLOW, 70]
    script = DRIVER.format(root=str(ROOT), address=c.address, db=db, seeds=seeds)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    deadline = time.monotonic() + 180
    partial = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if Path(db).exists():
            with Store(db) as store:
                partial = len(store.records())
            if partial >= 1:
                break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 1 <= partial < 4
    rerun = subprocess.run([sys.executable, "-c", script], env=env, timeout=300)
    assert rerun.returncode == 0
    with Store(db) as store:
        keys = [r.config.key() for r in store.records()]
        assert all(r.status == "ok" for r in store.records())
        assert store._db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0
    assert sorted(keys) == sorted({c.key() for c in configs(seeds, lens=(128, 256))})


def test_a_node_lost_part_way_fails_its_configuration_with_the_reason_and_nothing_else(cluster, tmp_path):
    c, worker = cluster
    grid = configs([faults.SLOW, 60], lens=(128, 256))
    worker_id = worker.node_id
    killed, logs = [], []

    def on_event(event):
        if isinstance(event, sweep.Log):
            logs.append(event.message)
        slot_node = event.node.rsplit(":", 1)[-1] if isinstance(event, sweep.Start) else ""
        if slot_node and worker_id.startswith(slot_node) and not killed:
            killed.append(event.config.key())
            threading.Timer(0.5, c.remove_node, [worker]).start()  # while its task is in flight

    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, executor=RayExecutor(timeout=120, target=FAKE), on_event=on_event)
        records = {r.config.key(): r for r in store.records()}
    assert killed, "no configuration started on the worker node"
    assert sorted(records) == sorted(c.key() for c in grid)  # nothing lost
    lost = records[killed[0]]  # recorded failed with the reason, or started again on the other node
    if lost.failure:
        assert lost.failure.kind == "crash" and ("lost" in lost.failure.error or "died" in lost.failure.error)
    else:
        assert any("went away" in m for m in logs), logs
    others = [r for k, r in records.items() if k != killed[0]]
    assert all(r.status == "ok" for r in others), [r.failure for r in others if r.failure]
    assert len(out.measured) == len(grid)
