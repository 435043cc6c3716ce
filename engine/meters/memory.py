"""Peak memory of a window, in MB (2**20 bytes): the device's on cuda, the process's RSS on the CPU."""

from __future__ import annotations

import resource
import sys
import threading
from typing import Any

MB = float(2**20)


def _maxrss_bytes() -> int:
    """Lifetime peak RSS of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(r) if sys.platform == "darwin" else int(r) * 1024


def resident_mb() -> float:
    """This process's resident memory now, in MB."""
    import psutil

    return psutil.Process().memory_info().rss / MB


class PeakMemory:
    """Context manager: `with PeakMemory("cpu") as pm: ...; pm.peak_mb`.

    cuda: torch.cuda.reset_peak_memory_stats at entry, max_memory_allocated at exit.
    cpu: a psutil RSS sampler thread at `hz` for the window's own peak, plus ru_maxrss: when the
    lifetime peak rose during the window, that new peak was reached inside it (even between samples).
    """

    def __init__(self, device: str = "cpu", hz: float = 50.0) -> None:
        self.device = device
        self.interval = 1.0 / hz
        self.peak_mb = 0.0
        self._peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._torch: Any = None
        self._proc: Any = None
        self._maxrss0 = 0

    @property
    def on_cuda(self) -> bool:
        return self.device.startswith("cuda")

    def start(self) -> PeakMemory:
        if self.on_cuda:
            import torch

            self._torch = torch
            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return self
        import psutil

        self._proc = psutil.Process()
        self._maxrss0 = _maxrss_bytes()
        self._peak = self._proc.memory_info().rss
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        info = self._proc.memory_info
        while not self._stop.wait(self.interval):
            rss = info().rss
            if rss > self._peak:
                self._peak = rss

    def stop(self) -> float:
        """End the window; returns (and stores) the peak in MB."""
        if self.on_cuda:
            self._torch.cuda.synchronize(self.device)
            self.peak_mb = self._torch.cuda.max_memory_allocated(self.device) / MB
            return self.peak_mb
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        peak = max(self._peak, self._proc.memory_info().rss)
        maxrss = _maxrss_bytes()
        if maxrss > self._maxrss0:
            peak = max(peak, maxrss)
        self.peak_mb = peak / MB
        return self.peak_mb

    def __enter__(self) -> PeakMemory:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
