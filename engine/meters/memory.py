"""Peak memory of a window, in MB (2**20 bytes): the device's on cuda, the process's RSS on the CPU.

On the CPU the resident set also holds the pages of shared libraries that the process has touched
(libtorch's kernels, mapped as they are first run), a figure that moves with the page cache. `heap`
is the anonymous part alone (resident minus file-backed and shared pages): what tensors and Python
objects hold, the CPU's counterpart of the memory torch allocates on a GPU.
"""

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


def _heap_bytes(info: Any) -> int:
    """Anonymous resident bytes of a psutil memory_info (all of it where the OS reports no shared)."""
    return info.rss - getattr(info, "shared", 0)


def heap_mb() -> float:
    """This process's anonymous resident memory now, in MB."""
    import psutil

    return _heap_bytes(psutil.Process().memory_info()) / MB


class PeakMemory:
    """Context manager: `with PeakMemory("cpu") as pm: ...; pm.peak_mb, pm.heap_mb`.

    cuda: torch.cuda.reset_peak_memory_stats at entry, max_memory_allocated at exit (both figures).
    cpu: a psutil sampler thread at `hz` for the window's own peaks, plus ru_maxrss: when the
    lifetime peak rose during the window, that new peak was reached inside it (even between samples),
    and the heap then held at least that peak less the file-backed pages mapped by the window's end.
    """

    def __init__(self, device: str = "cpu", hz: float = 50.0) -> None:
        self.device = device
        self.interval = 1.0 / hz
        self.peak_mb = 0.0
        self.heap_mb = 0.0
        self._peak = 0
        self._heap = 0
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
        info = self._proc.memory_info()
        self._peak, self._heap = info.rss, _heap_bytes(info)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self._thread.start()
        return self

    def sample(self) -> Any:
        """Take a cpu reading now, as the sampler thread does at `hz`; returns psutil's memory_info."""
        info = self._proc.memory_info()
        self._peak = max(self._peak, info.rss)
        self._heap = max(self._heap, _heap_bytes(info))
        return info

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def stop(self) -> float:
        """End the window; returns (and stores) the peak in MB."""
        if self.on_cuda:
            self._torch.cuda.synchronize(self.device)
            self.peak_mb = self.heap_mb = self._torch.cuda.max_memory_allocated(self.device) / MB
            return self.peak_mb
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        info = self.sample()
        peak, heap = self._peak, self._heap
        maxrss = _maxrss_bytes()
        if maxrss > self._maxrss0:
            peak = max(peak, maxrss)
            heap = max(heap, maxrss - (info.rss - _heap_bytes(info)))
        self.peak_mb, self.heap_mb = peak / MB, heap / MB
        return self.peak_mb

    def __enter__(self) -> PeakMemory:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
