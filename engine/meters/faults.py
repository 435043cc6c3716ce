"""What a block too large for malloc to reuse costs per byte on this CPU: a machine constant.

glibc serves a request of 32 MiB or more (its largest mmap threshold) with a mapping of its own and
returns it at free, so every forward that allocates such a block page-faults all of it in again.
The cost model charges fresh_bytes at this rate where the measured configurations hold too few such
blocks to fit the rate from (costmodel.fit), so that a length that first crosses the threshold is
not predicted as if it cost nothing more.
"""

from __future__ import annotations

import statistics
import time

PROBE_BYTES = 64 * 2**20  # twice the largest mmap threshold: always mapped afresh
REPEATS = 7


def fault_s_per_byte(nbytes: int = PROBE_BYTES, repeats: int = REPEATS) -> float:
    """Seconds per byte to allocate a fresh float32 block, zero it and add to it (median of repeats).

    The same steps a forward takes with such a block: allocate, write, read and write once more.
    """
    import torch

    elements = nbytes // 4
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.zeros(elements).add_(1.0)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / (elements * 4)
