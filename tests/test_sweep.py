"""Sweeps: isolation in child processes, failures as records, resume after a kill, concurrent sweeps."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine import sweep
from engine.config import RunConfig
from engine.executor import Local
from engine.store import Store
from tests import faults

FAKE = "tests.faults:measure_job"


def configs(seeds, lens=(128,)):
    return [RunConfig("led", "tiny", n, seed=s) for s in seeds for n in lens]


def test_raise_abort_and_hang_become_failed_records_and_the_rest_complete(tmp_path):
    grid = configs([0, faults.RAISE, faults.ABORT, faults.HANG, 5])
    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, timeout=8, target=FAKE)
        by_seed = {r.config.seed: r for r in store.records()}
    assert len(by_seed) == 5
    assert by_seed[0].status == by_seed[5].status == "ok"
    assert by_seed[faults.RAISE].failure.kind == "error"
    assert "injected failure" in by_seed[faults.RAISE].failure.error
    assert by_seed[faults.ABORT].failure.kind == "crash"
    assert "SIGABRT" in by_seed[faults.ABORT].failure.error
    assert by_seed[faults.HANG].failure.kind == "timeout"
    assert by_seed[faults.HANG].failure.phase == "train"  # the phase it was in when stopped
    assert len(out.failed) == 3
    assert all(r.env.get("fingerprint") for r in by_seed.values())
    # the probe measured the machine once; every child was handed its idle power and fault rate
    assert out.env["fault_s_per_byte"] > 0
    for seed in (0, 5):
        assert by_seed[seed].env["fault_s_per_byte"] == out.env["fault_s_per_byte"]
        assert by_seed[seed].env["idle_power_w"] == out.env["idle_power_w"]


def test_rerun_resumes_and_fresh_measures_again(tmp_path):
    grid = configs([0, 5], lens=(128, 256))
    db = tmp_path / "r.sqlite"
    with Store(db, create=True) as store:
        first = sweep.run(grid, store, target=FAKE)
        again = sweep.run(grid, store, target=FAKE)
        fresh = sweep.run(grid, store, fresh=True, target=FAKE)
        assert len(store.records()) == 4
    assert (len(first.measured), first.skipped) == (4, 0)
    assert (len(again.measured), again.skipped) == (0, 4)
    assert (len(fresh.measured), fresh.skipped) == (4, 0)


def _sweep_process(db: str, seeds: list[int]) -> None:
    with Store(db, create=True) as store:
        sweep.run(configs(seeds, lens=(128, 256)), store, target=FAKE)


def test_sweep_killed_with_sigkill_then_rerun_stores_every_configuration_once(tmp_path):
    db = str(tmp_path / "r.sqlite")
    seeds = [faults.SLOW, 10, 11, 12]
    ctx = mp.get_context("spawn")
    proc = ctx.Process(target=_sweep_process, args=(db, seeds))
    proc.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # kill once something, but not everything, is stored
        time.sleep(0.3)
        if Path(db).exists():
            with Store(db) as store:
                if len(store.records()) >= 1:
                    break
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    with Store(db) as store:
        partial = len(store.records())
    assert 1 <= partial < 8
    _sweep_process(db, seeds)
    with Store(db) as store:
        keys = [r.config.key() for r in store.records()]
    assert sorted(keys) == sorted({c.key() for c in configs(seeds, lens=(128, 256))})


def test_two_concurrent_sweeps_into_one_database_lose_nothing(tmp_path):
    db = str(tmp_path / "r.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_sweep_process, args=(db, seeds)) for seeds in ([20, 21, 22], [30, 31, 32])]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    with Store(db) as store:
        records = store.records()
    assert len(records) == 12
    assert all(r.status == "ok" for r in records)


def test_two_concurrent_sweeps_of_one_grid_measure_each_configuration_once(tmp_path, monkeypatch):
    """Both sweeps run the same grid on one database: the claims split it, and both end with all of it."""
    db, log = str(tmp_path / "r.sqlite"), tmp_path / "measured.log"
    monkeypatch.setenv("MEASURE_LOG", str(log))
    seeds = [faults.SLOW, 40, 41]  # slow ones, so that the two overlap
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_sweep_process, args=(db, seeds)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    grid = {c.key() for c in configs(seeds, lens=(128, 256))}
    measured = log.read_text().split()
    assert sorted(measured) == sorted(grid)  # every configuration measured, and only once
    with Store(db) as store:
        assert sorted(r.config.key() for r in store.records()) == sorted(grid)
        assert store._db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0  # all released


def test_a_claim_whose_lease_ran_out_is_taken_over(tmp_path):
    """A sweep on another machine holds a configuration, renewing its claim, until this sweep waits for
    it; then it goes silent, and once its lease has run out this sweep measures it."""
    from engine.claims import Claimant
    from engine.record import utc_now

    grid = configs([50, 51])
    events, silent = [], threading.Event()

    def on_event(event):
        events.append(event)
        if isinstance(event, sweep.Log) and "waiting" in event.message:
            silent.set()

    with Store(tmp_path / "r.sqlite", create=True) as store:
        gone = Claimant(lease_s=2.0, host="a-machine-that-went-away")
        fp = Local(target=FAKE).probe("cpu", 0, 0.1)[0].env["fingerprint"]
        assert store.claim(grid[0].key(), fp, gone, utc_now()) == "mine"
        assert store.claim(grid[0].key(), fp, Claimant(), utc_now()) == "busy"

        def renew_until_silent():
            while not silent.wait(0.5):
                store.renew(gone)

        renewing = threading.Thread(target=renew_until_silent)
        renewing.start()
        try:
            out = sweep.run(grid, store, target=FAKE, on_event=on_event)
        finally:
            silent.set()
            renewing.join()
        stored = {r.config.seed for r in store.records()}
    assert stored == {50, 51} and len(out.measured) == 2
    logs = [e.message for e in events if isinstance(e, sweep.Log)]
    assert any("taking over" in m for m in logs)


def test_should_stop_interrupts_and_keeps_what_finished(tmp_path):
    grid = configs([0, faults.HANG, 5])
    stop_after = time.monotonic() + 1e9
    done = []

    def on_event(event):
        nonlocal stop_after
        if isinstance(event, sweep.Done):
            done.append(event.record)
        if isinstance(event, sweep.Start) and event.config.seed == faults.HANG:
            stop_after = time.monotonic() + 1.0

    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(
            grid, store, target=FAKE, on_event=on_event, should_stop=lambda: time.monotonic() > stop_after
        )
        stored = store.records()
    assert out.interrupted
    assert [r.config.seed for r in stored] == [0]
    assert len(done) == 1


def test_needs_pretraining_lists_only_uncached_synthetic_cpu_sizes(monkeypatch):
    monkeypatch.setattr(sweep.pretrain, "is_cached", lambda family, size: family == "led")
    grid = [
        RunConfig("led", "tiny", 128, weights="pretrained"),
        RunConfig("bigbird-pegasus", "small", 128, weights="pretrained"),
        RunConfig("bigbird-pegasus", "tiny", 128, weights="random"),
        RunConfig("bigbird-pegasus", "large", 1024, weights="pretrained", task="qasper"),
    ]
    assert sweep.needs_pretraining(grid) == [("bigbird-pegasus", "small")]


def test_ctrl_c_stops_the_headless_run_and_keeps_finished_records(tmp_path):
    """SIGINT to a running sweep: the child in flight is stopped, finished records are kept."""
    db = tmp_path / "r.sqlite"
    script = (
        # Ctrl-C as at a terminal, also where this test runs in a background job (which ignores SIGINT)
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from engine import sweep; from engine.store import Store; from tests.test_sweep import configs\n"
        "from tests import faults\n"
        f"store = Store({str(db)!r}, create=True)\n"
        "out = sweep.run(configs([0, faults.HANG, 5]), store, target='tests.faults:measure_job',\n"
        "                on_event=lambda e: print(type(e).__name__, flush=True))\n"
        "print('interrupted' if out.interrupted else 'finished', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    starts = 0
    for line in proc.stdout:
        starts += line.strip() == "Start"
        if starts == 2:
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
            break
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "interrupted" in rest
    with Store(db) as store:
        assert [r.config.seed for r in store.records()] == [0]


@pytest.mark.slow
def test_smoke_preset_measures_for_real(tmp_path):
    """The real engine in child processes: both tiny families through all phases."""
    from engine.preset import load_preset

    grid = load_preset("smoke").grid()
    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, timeout=600)
    assert not out.failed, [r.failure for r in out.failed]
    for r in out.measured:
        row = r.flat()
        assert row["infer_median_s"] > 0 and row["train_energy_j"] > 0
        assert row["energy_source"] == "estimate"
        assert 0 <= row["rouge_mean"] <= 1


def test_passes_interleave_over_the_grid_and_combine_per_configuration(tmp_path):
    grid = [
        RunConfig("led", "tiny", n, seed=s, passes=3) for s, n in ((0, 128), (5, 256), (faults.RAISE, 128))
    ]
    events = []
    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, target=FAKE, on_event=events.append)
        stored = {r.config.seed: r for r in store.records()}
    starts = [(e.note, e.config.seed) for e in events if isinstance(e, sweep.Start)]
    # pass 1 in grid order, later passes shuffled; the failing configuration is not measured again
    assert starts[:3] == [("pass 1/3", 0), ("pass 1/3", 5), ("pass 1/3", faults.RAISE)]
    assert sorted(starts[3:]) == [("pass 2/3", 0), ("pass 2/3", 5), ("pass 3/3", 0), ("pass 3/3", 5)]
    assert [m for m, _ in starts[3:]] == ["pass 2/3"] * 2 + ["pass 3/3"] * 2
    assert [e.total for e in events if isinstance(e, sweep.Done)] == [9, 9, 7, 7, 7, 7, 7]
    assert stored[0].phase("infer").figures["passes"] == 3
    assert stored[5].flat()["infer_passes"] == 3 and stored[5].flat()["passes"] == 3
    assert stored[faults.RAISE].failure.kind == "error"
    assert len(out.measured) == 3 and len(out.failed) == 1


def test_later_passes_visit_the_grid_in_a_fixed_shuffled_order():
    grid = configs(range(10))
    assert sweep._order(grid, 0) == grid
    shuffled = sweep._order(grid, 1)
    assert shuffled != grid and sorted(shuffled, key=grid.index) == grid
    assert sweep._order(grid, 1) == shuffled and sweep._order(grid, 2) != shuffled


def test_a_real_sweep_in_one_thread_and_two_passes_keeps_one_fingerprint(tmp_path):
    quick = dict(phases=("infer",), batch_size=2, repetitions=2, min_window_s=0.05, warmup=1, gen_tokens=4)
    grid = [RunConfig("led", "tiny", 128, threads=1, passes=2, **quick)]
    with Store(tmp_path / "r.sqlite", create=True) as store:
        out = sweep.run(grid, store, timeout=300)
        again = sweep.run(grid, store, timeout=300)
    (record,) = out.measured
    assert out.env["threads"] == record.env["threads"] == 1
    assert record.env["fingerprint"] == out.env["fingerprint"]  # so the rerun finds it
    assert record.flat()["infer_passes"] == 2 and record.flat()["infer_median_s"] > 0
    assert again.skipped == 1 and not again.measured


def test_a_sweep_refuses_configurations_that_mix_thread_counts(tmp_path):
    grid = [RunConfig("led", "tiny", 128, threads=t) for t in (1, 2)]
    with Store(tmp_path / "r.sqlite", create=True) as store, pytest.raises(ValueError, match="thread count"):
        sweep.run(grid, store, target=FAKE)
