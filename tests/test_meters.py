"""Meters: timing windows and statistics, the energy chain against fake NVML and powercap, peak memory."""

from __future__ import annotations

import mmap
import os
import resource
import subprocess
import sys
import time
import types

import pytest

from engine.meters import (
    PeakMemory,
    WindowTooShort,
    energy_record,
    is_estimate,
    measure,
    measure_energy,
    measure_idle,
    open_meter,
)
from engine.meters import energy as en
from engine.meters.energy import (
    WATTS_PER_CORE,
    EstimateMeter,
    NvmlCounterMeter,
    NvmlPowerMeter,
    RaplMeter,
    trapezoid,
)

try:
    from fakes.cuda import FakeCuda
    from fakes.nvml import FakeNVML, NVMLError_LibraryNotFound, gpu_uuid, mig_uuid
    from fakes.powercap import add_zone, set_energy
except ImportError:  # tests/ imported as a package
    from tests.fakes.cuda import FakeCuda
    from tests.fakes.nvml import FakeNVML, NVMLError_LibraryNotFound, gpu_uuid, mig_uuid
    from tests.fakes.powercap import add_zone, set_energy


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def stepping(clock: FakeClock, durations: list[float]):
    """A fn that advances the fake clock by the next duration (cycling) and counts its calls."""

    def fn() -> None:
        fn.calls += 1
        clock.t += durations[(fn.calls - 1) % len(durations)]

    fn.calls = 0
    return fn


# --- timing ---------------------------------------------------------------------------------


def test_timing_extends_to_min_window():
    clock = FakeClock()
    fn = stepping(clock, [0.125])
    timing, times = measure(fn, warmup=3, min_reps=5, min_window_s=1.0, clock=clock)
    assert timing.repetitions == 8 == len(times)  # 5 reps would be 0.625 s: the window rules
    assert timing.window_s == pytest.approx(1.0)
    assert fn.calls == 3 + 8


def test_timing_honours_min_reps():
    clock = FakeClock()
    fn = stepping(clock, [0.5])
    timing, _ = measure(fn, warmup=0, min_reps=7, min_window_s=1.0, clock=clock)
    assert timing.repetitions == 7
    assert timing.window_s == pytest.approx(3.5)


def test_timing_capped_at_max_window():
    clock = FakeClock()
    fn = stepping(clock, [1.0])
    timing, _ = measure(fn, warmup=0, min_reps=100, min_window_s=1.0, max_window_s=3.0, clock=clock)
    assert timing.repetitions == 3


def test_timing_statistics():
    clock = FakeClock()
    fn = stepping(clock, [k * 0.125 for k in (3, 1, 4, 10, 5, 9, 2, 6, 8, 7)])
    timing, times = measure(fn, warmup=0, min_reps=10, min_window_s=0.0, clock=clock)
    assert times == pytest.approx([k * 0.125 for k in (3, 1, 4, 10, 5, 9, 2, 6, 8, 7)])
    # by hand for 1..10: median 5.5, p10 1.9 and p90 9.1 (linear), sample std sqrt(55/6)
    assert timing.median_s == pytest.approx(5.5 * 0.125)
    assert timing.p10_s == pytest.approx(1.9 * 0.125)
    assert timing.p90_s == pytest.approx(9.1 * 0.125)
    assert timing.std_s == pytest.approx((55 / 6) ** 0.5 * 0.125)
    assert timing.window_s == pytest.approx(55 * 0.125)


def test_timing_syncs_at_edges_and_each_rep():
    clock = FakeClock()
    events: list[str] = []
    fn = stepping(clock, [0.5])

    def run():
        events.append("fn")
        fn()

    timing, _ = measure(
        run, warmup=2, min_reps=3, min_window_s=0.0, sync=lambda: events.append("sync"), clock=clock
    )
    assert events == ["fn", "fn", "sync"] + ["fn", "sync"] * 3


def test_timing_real_sleep():
    timing, times = measure(lambda: time.sleep(0.01), warmup=1, min_reps=3, min_window_s=0.15)
    assert timing.repetitions >= 3 and timing.window_s >= 0.15
    assert sum(times) == pytest.approx(timing.window_s)
    assert 0.01 <= timing.median_s < 0.05


def test_timing_overhead_is_tiny():
    timing, _ = measure(lambda: None, warmup=0, min_reps=2000, min_window_s=0.0)
    assert timing.median_s < 20e-6


# --- NVML -----------------------------------------------------------------------------------


@pytest.fixture
def nvml(monkeypatch):
    """Two GPUs that CUDA and NVML number alike; torch.cuda faked to match."""
    fake = FakeNVML(n_gpus=2)
    monkeypatch.setitem(sys.modules, "pynvml", fake.module())
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    FakeCuda(order=[0, 1]).install(monkeypatch)
    return fake


def test_nvml_counter_reads_the_gpu_of_the_device_in_joules(nvml):
    meter = NvmlCounterMeter("cuda:1")
    clock = meter.clock = FakeClock()
    tok = meter.begin()
    nvml.energy_mj[0] += 1000  # another job's GPU: not counted
    nvml.energy_mj[1] += 3000
    clock.t += 2.0
    assert meter.end(tok) == (pytest.approx(3.0), pytest.approx(2.0))
    assert meter.gpu.uuid == gpu_uuid(1) and not meter.gpu.mig
    meter.close()
    assert nvml.inits == nvml.shutdowns == 1


@pytest.mark.parametrize(
    "visible, device, gpu, mig",
    [
        (None, "cuda:1", 3, False),  # CUDA's device 1 is NVML's GPU 3, not NVML's index 1
        ("2", "cuda", 1, False),  # an index of CUDA's order, not NVML's
        ("3,1", "cuda:0", 2, False),  # torch renumbers what it sees from 0
        (f"{gpu_uuid(2)},{gpu_uuid(0)}", "cuda:0", 2, False),  # UUIDs
        (mig_uuid(1, 1), "cuda:0", 1, True),  # a MIG instance: its GPU is read
        (f"{mig_uuid(3, 0)}", "cuda", 3, True),
    ],
)
def test_the_meter_reads_the_gpu_torch_runs_on_whatever_cuda_visible_devices_holds(
    monkeypatch, visible, device, gpu, mig
):
    fake = FakeNVML(n_gpus=4, migs={1: 2, 3: 1})
    monkeypatch.setitem(sys.modules, "pynvml", fake.module())
    FakeCuda(order=[0, 3, 1, 2], migs={1: 2, 3: 1}).install(monkeypatch)
    if visible is None:
        monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    else:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    meter = open_meter(device)
    assert meter.source == "nvml-counter", meter.fallbacks
    meter.clock = clock = FakeClock()
    tok = meter.begin()
    for i in range(4):
        fake.energy_mj[i] += 1000 * (i + 1)  # every GPU busy: only the one in use counts
    clock.t += 2.0
    assert meter.end(tok)[0] == pytest.approx(gpu + 1)
    assert meter.gpu.mig is mig
    meter.close()


def test_a_device_nvml_does_not_know_falls_through_with_the_reason(nvml, monkeypatch, powercap):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-not-a-real-one")
    FakeCuda(order=[0, 1]).install(monkeypatch)
    import torch

    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: types.SimpleNamespace(uuid="deadbeef"))
    meter = open_meter("cuda", powercap_root=powercap)
    assert meter.source == "rapl-cpu-only"
    assert "deadbeef" in meter.fallbacks[0]
    meter.close()


def test_gpu_environment_names_the_gpu_in_use(monkeypatch):
    from engine.env import describe, fingerprint

    fake = FakeNVML(n_gpus=2)
    monkeypatch.setitem(sys.modules, "pynvml", fake.module())
    FakeCuda(order=[1, 0]).install(monkeypatch)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    env = describe("cuda:0")
    assert env["hardware"] == "Fake GPU 1" and env["gpu_uuid"] == gpu_uuid(1)
    assert env["driver"] == "555.42.06" and env["power_limit_w"] == 301.0
    assert env["gpu_memory_mb"] == 81 * 1024 and env["sm_clock_max_mhz"] == 1980
    assert env["device"] == "cuda"
    other = describe("cuda:1")
    assert other["hardware"] == "Fake GPU 0" and other["fingerprint"] != env["fingerprint"]
    assert fingerprint({**env, "power_limit_w": 250.0}) != env["fingerprint"]  # a capped GPU differs


def test_nvml_counter_short_window_is_never_zero(nvml):
    meter = NvmlCounterMeter(min_window_s=0.5)
    clock = meter.clock = FakeClock()
    tok = meter.begin()
    nvml.energy_mj[0] += 100
    clock.t += 0.2
    with pytest.raises(WindowTooShort):  # shorter than min_window_s, even with energy
        meter.end(tok)
    tok = meter.begin()
    clock.t += 0.8
    with pytest.raises(WindowTooShort):  # long enough but the counter has not ticked: not 0 J
        meter.end(tok)


def test_measure_energy_extends_a_window_that_read_zero(nvml):
    meter = NvmlCounterMeter(min_window_s=0.02)

    def fn():
        fn.calls += 1
        time.sleep(0.005)
        if fn.calls == 40:  # the counter's next update comes late
            nvml.energy_mj[0] += 100

    fn.calls = 0
    timing, times, joules, seconds = measure_energy(fn, meter, warmup=2, min_reps=3, min_window_s=0.02)
    assert joules == pytest.approx(0.1)
    assert fn.calls >= 40 and timing.repetitions == len(times) >= 3
    assert seconds >= timing.window_s >= 0.04  # extended at least once


def test_measure_idle_with_a_ticking_counter(monkeypatch):
    """A counter that, like NVML's, updates only every 100 ms."""
    fake = FakeNVML(n_gpus=1)
    t0 = time.perf_counter()
    energy = fake._energy
    fake._energy = lambda h: energy(h) + int((time.perf_counter() - t0) // 0.1 * 0.1 * 60_000)  # 60 W
    monkeypatch.setitem(sys.modules, "pynvml", fake.module())
    FakeCuda(order=[0]).install(monkeypatch)
    meter = NvmlCounterMeter(min_window_s=0.05)
    watts = measure_idle(meter, seconds=0.05)  # a 50 ms window may see no tick: retried, never 0
    assert 0 < watts < 200
    assert measure_idle(meter, seconds=0.4) == pytest.approx(60, rel=0.4)


def test_trapezoid():
    assert trapezoid([(0.0, 0.0), (1.0, 10.0), (3.0, 10.0)]) == pytest.approx(25.0)
    assert trapezoid([(0.0, 5.0)]) == 0


def test_nvml_power_samples_and_integrates(nvml):
    nvml.counter_supported = False
    nvml.power_mw[:] = [100_000, 50_000]
    meter = open_meter("cuda")
    assert meter.source == "nvml-power" and "Not Supported" in meter.fallbacks[0]
    reads0 = nvml.power_reads
    tok = meter.begin()
    time.sleep(0.5)
    joules, seconds = meter.end(tok)
    assert joules / seconds == pytest.approx(100.0)  # constant power: the trapezoid is exact
    assert nvml.power_reads - reads0 >= 0.5 * 10 + 2  # >= 10 Hz, plus both edges
    meter.close()
    assert nvml.inits == nvml.shutdowns == 2  # the counter probe's init was shut down too


def test_nvml_power_includes_edges_and_overlapping_windows(nvml):
    nvml.power_mw[:] = [100_000, 0]
    meter = NvmlPowerMeter("cuda:0")
    outer = meter.begin()
    time.sleep(0.1)
    nvml.power_mw[0] = 300_000
    inner = meter.begin()
    time.sleep(0.3)
    j_inner, s_inner = meter.end(inner)
    nvml.power_mw[0] = 100_000
    t_low = time.perf_counter()
    time.sleep(0.1)
    j_outer, s_outer = meter.end(outer)
    meter.close()
    assert j_inner / s_inner == pytest.approx(300.0)  # edges at 300 W: exact
    expected = 100 * s_outer + 200 * (t_low - inner[0])
    # off by at most one sampling interval at each of the two steps; the inner window's ending
    # must not have pruned the samples the outer one still needs (that would lose about 40 J)
    assert j_outer == pytest.approx(expected, abs=2 * 0.05 * 200 / 2 + 2)


def test_a_joules_budget_under_nvml_power_integrates_every_sample(nvml):
    """Training reads its window after every step (read) and ends it once: no sample is lost."""
    meter = NvmlPowerMeter("cuda:0")
    nvml.power_mw[0] = 100_000
    tok = meter.begin()
    spent, changes = [], []
    for watts in (100, 300, 300, 100, 100):
        nvml.power_mw[0] = watts * 1000
        changes.append(time.perf_counter())
        time.sleep(0.15)
        spent.append(meter.read(tok))  # the budget spent after this step
    joules, seconds = meter.end(tok)
    meter.close()
    assert spent == sorted(spent) and spent[-1] <= joules
    expected = 100 * seconds + 200 * (changes[3] - changes[1])
    # off by at most one 50 ms sampling interval at each of the two steps of 200 W
    assert joules == pytest.approx(expected, abs=2 * 0.05 * 200 + 2)
    assert spent[-1] == pytest.approx(joules, abs=0.05 * 100 + 2)


# --- RAPL -----------------------------------------------------------------------------------


@pytest.fixture
def powercap(tmp_path):
    add_zone(tmp_path, "intel-rapl:0", "package-0", 1_000_000, 10_000_000)
    add_zone(tmp_path, "intel-rapl:0:0", "core", 0, 10_000_000)
    add_zone(tmp_path, "intel-rapl:0:1", "dram", 0, 5_000_000)
    add_zone(tmp_path, "intel-rapl:1", "psys", 0, 10_000_000)
    return tmp_path


def test_rapl_package_and_dram(powercap):
    meter = RaplMeter(powercap)
    assert [d[0] for d in meter.domains] == ["intel-rapl:0/package-0", "intel-rapl:0:1/dram"]
    clock = meter.clock = FakeClock()
    tok = meter.begin()
    set_energy(powercap, "intel-rapl:0", 3_000_000)
    set_energy(powercap, "intel-rapl:0:0", 1_500_000)  # core: inside the package, not added
    set_energy(powercap, "intel-rapl:0:1", 500_000)
    set_energy(powercap, "intel-rapl:1", 9_000_000)  # psys: not added
    clock.t += 1.0
    assert meter.end(tok) == (pytest.approx(2.5), pytest.approx(1.0))
    meter.close()


def test_rapl_wraparound(powercap):
    set_energy(powercap, "intel-rapl:0", 9_900_000)
    set_energy(powercap, "intel-rapl:0:1", 4_800_000)
    meter = RaplMeter(powercap)
    meter.clock = clock = FakeClock()
    tok = meter.begin()
    set_energy(powercap, "intel-rapl:0", 400_000)  # wrapped at 10_000_000: +500_000
    set_energy(powercap, "intel-rapl:0:1", 100_000)  # wrapped at 5_000_000: +300_000
    clock.t += 1.0
    assert meter.end(tok)[0] == pytest.approx(0.8)
    meter.close()


def test_rapl_poller_sees_every_wrap(powercap):
    set_energy(powercap, "intel-rapl:0", 9_000_000)
    meter = RaplMeter(powercap, poll_s=0.01)
    tok = meter.begin()
    set_energy(powercap, "intel-rapl:0", 2_000_000)  # +3_000_000 through one wrap
    time.sleep(0.2)  # the poller reads it
    set_energy(powercap, "intel-rapl:0", 1_000_000)  # +9_000_000 through a second wrap
    time.sleep(0.06)
    assert meter.end(tok)[0] == pytest.approx(12.0)
    meter.close()


def test_rapl_nested_zone_layout(tmp_path):
    add_zone(tmp_path, "intel-rapl:0", "package-0", 0, 10_000_000)
    add_zone(tmp_path / "intel-rapl:0", "intel-rapl:0:2", "dram", 0, 10_000_000)
    assert [d[0] for d in RaplMeter(tmp_path).domains] == ["intel-rapl:0/package-0", "intel-rapl:0:2/dram"]


def test_rapl_permission_denied_falls_through(powercap, monkeypatch):
    for zone in ("intel-rapl:0", "intel-rapl:0:1"):
        os.chmod(powercap / zone / "energy_uj", 0)
    if os.geteuid() == 0:  # root reads mode-0 files: deny as the kernel does for users
        real = en._read_int

        def denied(path):
            if path.name == "energy_uj":
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(en, "_read_int", denied)
    meter = open_meter("cpu", powercap_root=powercap)
    assert meter.source == "estimate"
    assert "unreadable" in meter.fallbacks[0]


# --- chain ----------------------------------------------------------------------------------


def test_chain_prefers_nvml_counter(nvml, powercap):
    meter = open_meter("cuda", powercap_root=powercap)
    assert meter.source == "nvml-counter" and meter.fallbacks == []
    meter.close()


def test_chain_without_nvml(monkeypatch, powercap, tmp_path_factory):
    fake = FakeNVML()
    fake.init_error = NVMLError_LibraryNotFound("NVML Shared Library Not Found")
    monkeypatch.setitem(sys.modules, "pynvml", fake.module())
    empty = tmp_path_factory.mktemp("no-powercap")
    m = open_meter("cuda", powercap_root=powercap)
    assert m.source == "rapl-cpu-only" and len(m.fallbacks) == 2
    assert open_meter("cpu", powercap_root=powercap).source == "rapl"
    m = open_meter("cuda", powercap_root=empty)
    assert m.source == "estimate-cpu-only" and is_estimate(m.source)
    assert open_meter("cpu", powercap_root=empty).source == "estimate"
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed: import fails
    assert open_meter("cuda", powercap_root=empty).source == "estimate-cpu-only"
    assert fake.inits == fake.shutdowns == 0


def test_cpu_never_touches_nvml(nvml, tmp_path):
    assert open_meter("cpu", powercap_root=tmp_path).source == "estimate"
    assert nvml.inits == 0
    with pytest.raises(ValueError):
        open_meter("tpu")


# --- estimate and helpers -------------------------------------------------------------------


def test_estimate_positive_under_load():
    meter = EstimateMeter()
    tok = meter.begin()
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    joules, seconds = meter.end(tok)
    assert joules >= WATTS_PER_CORE * 0.3
    idle_w = measure_idle(meter, seconds=0.2)
    assert 0 < idle_w < joules / seconds


def test_estimate_counts_children():
    meter = EstimateMeter()
    tok = meter.begin()
    code = "import time\nt = time.process_time() + 0.3\nwhile time.process_time() < t: pass"
    subprocess.run([sys.executable, "-c", code], check=True)
    joules, _ = meter.end(tok)
    assert joules >= WATTS_PER_CORE * 0.3


def test_energy_record():
    e = energy_record(10.0, 2.0, "rapl", 3.0)
    assert (e.joules, e.above_idle_j, e.avg_power_w, e.idle_power_w, e.seconds) == (10, 4, 5, 3, 2)
    assert energy_record(10.0, 2.0, "rapl", 6.0).above_idle_j == 0


# --- memory ---------------------------------------------------------------------------------


def _fresh_pages(mb: int) -> mmap.mmap:
    """`mb` MB of new private anonymous memory, every page written: resident until closed.

    Not a numpy array: malloc may serve one from freed memory the process still holds resident
    (CI's process held 785 MB of heap by then), and resident memory reused does not raise the RSS.
    Private, since shared anonymous pages are shmem, which the RSS counts as shared.
    """
    pages = mmap.mmap(-1, mb * 2**20, flags=mmap.MAP_PRIVATE)
    for i in range(0, len(pages), mmap.PAGESIZE):
        pages[i] = 1
    return pages


def test_peak_rss_of_the_window():
    _fresh_pages(300).close()  # raise the lifetime peak, then give it back
    lifetime_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with PeakMemory("cpu") as before:
        time.sleep(0.05)
    with PeakMemory("cpu") as pm:
        block = _fresh_pages(100)
        time.sleep(0.5)  # the sampler thread's to catch, at 50 Hz, on a loaded machine too
        block.close()
    assert pm.peak_mb - before.peak_mb >= 90
    assert pm.peak_mb < lifetime_mb  # the window's own peak, not the process's lifetime one


def test_the_heap_counts_allocations_not_mapped_files(tmp_path):
    path = tmp_path / "pages"
    path.write_bytes(b"\1" * 64 * 2**20)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as pages:
        with PeakMemory("cpu") as before:
            time.sleep(0.05)
        with PeakMemory("cpu") as mapped:
            sum(pages[i] for i in range(0, len(pages), mmap.PAGESIZE))  # touch every page of the file
        with PeakMemory("cpu") as allocated:
            block = _fresh_pages(64)
            allocated.sample()  # the sampler thread may not run on a loaded machine before close
            block.close()
    assert mapped.peak_mb - before.peak_mb >= 60  # resident, but file-backed
    assert mapped.heap_mb - before.heap_mb < 10
    assert allocated.heap_mb - mapped.heap_mb >= 60


def test_peak_cuda_memory_uses_torch_stats(monkeypatch):
    calls: list[str] = []
    cuda = types.SimpleNamespace(
        synchronize=lambda d=None: calls.append("sync"),
        reset_peak_memory_stats=lambda d=None: calls.append(f"reset {d}"),
        max_memory_allocated=lambda d=None: 512 * 2**20,
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    with PeakMemory("cuda:1") as pm:
        calls.append("work")
    assert pm.peak_mb == pm.heap_mb == 512
    assert calls == ["sync", "reset cuda:1", "work", "sync"]
