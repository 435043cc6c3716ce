"""Energy meters in the style of Zeus: begin() a window, end() it, get (joules, seconds).

open_meter() walks the chain of the design and returns the first source that works:

- nvml-counter: delta of nvmlDeviceGetTotalEnergyConsumption (mJ, Volta and newer) of the GPU the
  model runs on, found by its UUID (engine.meters.gpu).
- nvml-power: a 20 Hz sampler of that GPU's nvmlDeviceGetPowerUsage (mW), trapezoid-integrated.
- rapl: powercap package domains and their dram subdomains, energy_uj deltas with wrap-around.
- estimate: CPU time times a per-core power, plus an RSS-proportional memory term (no counter).

On cuda, rapl and estimate miss the GPU, so they are named rapl-cpu-only and estimate-cpu-only.
Windows are independent tokens, so they may nest and overlap.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from engine.meters.gpu import Gpu, find
from engine.record import Energy

POWERCAP_ROOT = "/sys/class/powercap"

# Estimate constants (CodeCarbon's fallbacks for a machine with no energy counter):
# 4 W per logical CPU at full load is CodeCarbon's DEFAULT_POWER_PER_CORE, its TDP guess for CPUs
# missing from its TDP table; TDP x utilisation is its "process" mode: TDP x cpu-time / wall / cores,
# i.e. WATTS_PER_CORE x cpu-seconds. Memory: CodeCarbon v2's 3 W per 8 GB (a Crucial figure),
# applied to the process's RSS rather than to all installed RAM.
WATTS_PER_CORE = 4.0
RAM_WATTS_PER_GB = 3.0 / 8.0


class MeterUnavailable(RuntimeError):
    """A source does not work on this machine; open_meter tries the next one."""


class WindowTooShort(RuntimeError):
    """A window too short for the source, or one that read no energy: repeat it, longer."""


class EnergyMeter:
    """Base: begin() -> token; end(token) -> (joules, seconds). Subclasses define _read and _energy."""

    source = ""
    min_window_s = 0.0  # callers extend their windows to at least this

    def __init__(self) -> None:
        self.clock = time.perf_counter
        self.fallbacks: list[str] = []  # why the sources before this one did not work

    def _read(self) -> Any:
        raise NotImplementedError

    def _energy(self, start: Any, end: Any, seconds: float) -> float:
        return float(end - start)

    def _stamped(self) -> tuple[float, Any]:
        """(time, reading) taken together."""
        return self.clock(), self._read()

    def begin(self) -> tuple[float, Any]:
        """Open a window; the token holds the start time and readings."""
        return self._stamped()

    def end(self, token: tuple[float, Any]) -> tuple[float, float]:
        """Close a window: (joules, seconds). Raises WindowTooShort instead of reporting nothing."""
        t0, start = token
        t1, reading = self._stamped()
        seconds = t1 - t0
        joules = self._energy(start, reading, seconds)
        if seconds < self.min_window_s:
            raise WindowTooShort(f"{self.source}: window {seconds:.3f}s < {self.min_window_s}s")
        if joules <= 0:
            raise WindowTooShort(f"{self.source}: read {joules} J over {seconds:.3f}s")
        return joules, seconds

    def read(self, token: tuple[float, Any]) -> float:
        """Joules of an open window so far, leaving it open (0 while the source has not ticked)."""
        t0, start = token
        t1, reading = self._stamped()
        return max(self._energy(start, reading, t1 - t0), 0.0)

    def close(self) -> None:
        """Release the source (threads, NVML)."""

    def __enter__(self) -> EnergyMeter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- NVML -----------------------------------------------------------------------------------


def _nvml_open(device: str) -> tuple[Any, Gpu]:
    """Import pynvml, init it and find the GPU a torch device runs on, by its UUID (engine.meters.gpu)."""
    try:
        import pynvml
    except ImportError as e:
        raise MeterUnavailable(f"pynvml not importable: {e}") from e
    try:
        pynvml.nvmlInit()
    except Exception as e:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
        raise MeterUnavailable(f"nvmlInit failed: {e}") from e
    try:
        return pynvml, find(pynvml, device)
    except Exception as e:  # GpuNotFound, no CUDA in torch, NVMLError_*
        pynvml.nvmlShutdown()
        raise MeterUnavailable(f"NVML handle of {device}: {e}") from e


class _NvmlMeter(EnergyMeter):
    def __init__(self, device: str, probe: str) -> None:
        super().__init__()
        self.nvml, self.gpu = _nvml_open(device)
        self.handle = self.gpu.handle
        try:
            getattr(self.nvml, probe)(self.handle)
        except Exception as e:  # NVMLError_NotSupported on older GPUs
            self.nvml.nvmlShutdown()
            raise MeterUnavailable(f"{probe}: {e}") from e

    def close(self) -> None:
        if self.nvml is not None:
            nvml, self.nvml = self.nvml, None
            nvml.nvmlShutdown()


class NvmlCounterMeter(_NvmlMeter):
    """Delta of the cumulative energy counter (mJ) of the GPU the model runs on.

    The counter updates about every 100 ms, so windows shorter than min_window_s (several updates)
    or reading 0 raise WindowTooShort.
    """

    source = "nvml-counter"

    def __init__(self, device: str = "cuda", min_window_s: float = 1.0) -> None:
        super().__init__(device, "nvmlDeviceGetTotalEnergyConsumption")
        self.min_window_s = min_window_s

    def _read(self) -> int:
        return self.nvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)  # mJ

    def _energy(self, start: int, end: int, seconds: float) -> float:
        return (end - start) / 1000.0


def trapezoid(samples: list[tuple[float, float]]) -> float:
    """Integral of (time, watts) samples by the trapezoid rule, in joules."""
    return sum((t1 - t0) * (w0 + w1) / 2 for (t0, w0), (t1, w1) in zip(samples, samples[1:], strict=False))


class NvmlPowerMeter(_NvmlMeter):
    """A daemon thread samples the GPU's power at `hz`; a window integrates its samples plus edges.

    read() integrates an open window so far and keeps it open (a joules budget reads it every step);
    only end() lets go of the samples no open window needs.
    """

    source = "nvml-power"
    min_window_s = 0.25

    def __init__(self, device: str = "cuda", hz: float = 20.0) -> None:
        super().__init__(device, "nvmlDeviceGetPowerUsage")
        self.interval = 1.0 / hz
        self._samples: list[tuple[float, float]] = []
        self._open: list[float] = []  # start times of windows not yet ended
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nvml-power", daemon=True)
        self._thread.start()

    def _sample(self) -> tuple[float, float]:
        watts = self.nvml.nvmlDeviceGetPowerUsage(self.handle) / 1000.0
        s = (self.clock(), watts)
        with self._lock:
            self._samples.append(s)
        return s

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._sample()
            except Exception:  # a failed read loses one sample, not the meter
                continue

    def _stamped(self) -> tuple[float, Any]:
        s = self._sample()  # an edge sample: the window's time is the samples' own
        return s[0], s

    def begin(self) -> tuple[float, Any]:
        token = self._stamped()
        with self._lock:
            self._open.append(token[0])
        return token

    def _energy(self, start: tuple[float, float], end: tuple[float, float], seconds: float) -> float:
        t0, t1 = start[0], end[0]
        with self._lock:
            inner = [s for s in self._samples if t0 < s[0] < t1]
        return trapezoid(sorted([start, *inner, end]))

    def end(self, token: tuple[float, Any]) -> tuple[float, float]:
        try:
            return super().end(token)
        finally:
            with self._lock:
                if token[0] in self._open:
                    self._open.remove(token[0])
                keep = min(self._open, default=self.clock())  # drop samples no open window needs
                self._samples = [s for s in self._samples if s[0] >= keep]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        super().close()


# --- RAPL -----------------------------------------------------------------------------------


def _read_int(path: Path) -> int:
    return int(path.read_text().strip())


def rapl_domains(root: str | os.PathLike[str] = POWERCAP_ROOT) -> list[tuple[str, Path, int]]:
    """(name, energy_uj path, max_energy_range_uj) of the package domains and their dram subdomains.

    core/uncore are inside the package and psys spans the platform, so they are left out.
    """
    root = Path(root)
    zones = {z.name: z for z in [*root.glob("intel-rapl:*"), *root.glob("intel-rapl:*/intel-rapl:*")]}
    out = []
    for zname, z in sorted(zones.items()):
        try:
            name = (z / "name").read_text().strip()
        except OSError:
            continue
        depth = zname.count(":")
        if (depth == 1 and name.startswith("package")) or (depth == 2 and name == "dram"):
            try:
                out.append((f"{zname}/{name}", z / "energy_uj", _read_int(z / "max_energy_range_uj")))
            except (OSError, ValueError):
                continue
    return out


class RaplMeter(EnergyMeter):
    """Powercap energy_uj counters, accumulated into monotonic totals with wrap-around.

    Every read adds each domain's delta since the last read (plus max_energy_range_uj when the counter
    went below its last value); a daemon thread reads every poll_s so no counter wraps twice unseen.
    Unreadable energy_uj (root-only since CVE-2020-8694) makes the source unavailable.
    """

    source = "rapl"
    min_window_s = 0.05

    def __init__(
        self, root: str | os.PathLike[str] = POWERCAP_ROOT, *, source: str = "rapl", poll_s: float = 10.0
    ) -> None:
        super().__init__()
        self.source = source
        self.domains = rapl_domains(root)
        if not self.domains:
            raise MeterUnavailable(f"no RAPL package domain under {root}")
        try:
            self._last = [_read_int(p) for _, p, _ in self.domains]
        except (OSError, ValueError) as e:
            raise MeterUnavailable(f"RAPL energy_uj unreadable: {e}") from e
        self._total_uj = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, args=(poll_s,), name="rapl", daemon=True)
        self._thread.start()

    def _poll(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self._read()
            except (OSError, ValueError):
                continue

    def _read(self) -> float:
        with self._lock:
            for i, (_, path, max_range) in enumerate(self.domains):
                raw = _read_int(path)
                delta = raw - self._last[i]
                self._total_uj += delta + max_range if delta < 0 else delta
                self._last[i] = raw
            return self._total_uj / 1e6

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)


# --- estimate -------------------------------------------------------------------------------


class EstimateMeter(EnergyMeter):
    """WATTS_PER_CORE x CPU-seconds of this process and its children, plus RAM_WATTS_PER_GB x RSS.

    RSS is the mean of the two window edges. An estimate, labelled so.
    """

    source = "estimate"
    min_window_s = 0.1

    def __init__(
        self,
        *,
        source: str = "estimate",
        watts_per_core: float = WATTS_PER_CORE,
        ram_watts_per_gb: float = RAM_WATTS_PER_GB,
        pid: int | None = None,
    ) -> None:
        super().__init__()
        try:
            import psutil
        except ImportError as e:
            raise MeterUnavailable(f"psutil not importable: {e}") from e
        self._psutil = psutil
        self.source = source
        self.watts_per_core = watts_per_core
        self.ram_watts_per_gb = ram_watts_per_gb
        self.proc = psutil.Process(pid)

    def _read(self) -> tuple[float, float]:
        """(CPU-seconds including children, RSS bytes of the process tree)."""
        t = self.proc.cpu_times()
        cpu = t.user + t.system + t.children_user + t.children_system  # children: those reaped
        rss = float(self.proc.memory_info().rss)
        for c in self.proc.children(recursive=True):  # children still running
            try:
                ct = c.cpu_times()
                cpu += ct.user + ct.system
                rss += c.memory_info().rss
            except self._psutil.Error:
                continue
        return cpu, rss

    def _energy(self, start: tuple[float, float], end: tuple[float, float], seconds: float) -> float:
        cpu_j = self.watts_per_core * max(0.0, end[0] - start[0])
        mem_w = self.ram_watts_per_gb * (start[1] + end[1]) / 2 / 1e9
        return cpu_j + mem_w * seconds


# --- chain and helpers ----------------------------------------------------------------------


def open_meter(device: str, *, powercap_root: str | os.PathLike[str] = POWERCAP_ROOT) -> EnergyMeter:
    """The first working source for device ("cpu", "cuda" or "cuda:N"); meter.fallbacks says why
    the ones before it did not work."""
    kind = device.partition(":")[0]
    if kind == "cuda":
        chain = [
            lambda: NvmlCounterMeter(device),
            lambda: NvmlPowerMeter(device),
            lambda: RaplMeter(powercap_root, source="rapl-cpu-only"),
            lambda: EstimateMeter(source="estimate-cpu-only"),
        ]
    elif kind == "cpu":
        chain = [lambda: RaplMeter(powercap_root), lambda: EstimateMeter()]
    else:
        raise ValueError(f"unknown device {device!r}")
    reasons: list[str] = []
    for make in chain:
        try:
            meter = make()
        except MeterUnavailable as e:
            reasons.append(str(e))
            continue
        meter.fallbacks = reasons
        return meter
    raise MeterUnavailable("; ".join(reasons))


def measure_idle(meter: EnergyMeter, seconds: float = 2.0) -> float:
    """Idle watts: sleep over a window (at least meter.min_window_s) and divide."""
    window = max(seconds, meter.min_window_s)
    for attempt in range(4):
        token = meter.begin()
        time.sleep(window)
        try:
            joules, secs = meter.end(token)
            return joules / secs
        except WindowTooShort:
            if attempt == 3:
                raise
            window *= 2
    raise AssertionError("unreachable")


def energy_record(joules: float, seconds: float, source: str, idle_w: float) -> Energy:
    """An Energy with above_idle_j = max(0, joules - idle_w * seconds) and the average power."""
    return Energy(
        joules=joules,
        above_idle_j=max(0.0, joules - idle_w * seconds),
        source=source,
        avg_power_w=joules / seconds if seconds > 0 else 0.0,
        idle_power_w=idle_w,
        seconds=seconds,
    )
