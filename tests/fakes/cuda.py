"""A fake torch.cuda for a machine with several GPUs, honouring CUDA_VISIBLE_DEVICES as CUDA does.

CUDA numbers GPUs fastest first (CUDA_DEVICE_ORDER=FASTEST_FIRST, the default), which need not be
NVML's PCI order: `order[k]` is the NVML index of CUDA's GPU k. CUDA_VISIBLE_DEVICES may list CUDA
indices, GPU UUIDs or MIG UUIDs; torch then numbers the devices it lists from 0, and reports each
one's UUID (a MIG instance's own) without NVML's prefix.
"""

from __future__ import annotations

import os
import types

try:
    from fakes.nvml import gpu_uuid, mig_uuid
except ImportError:  # tests/ imported as a package
    from tests.fakes.nvml import gpu_uuid, mig_uuid


class FakeCuda:
    def __init__(self, order: list[int], migs: dict[int, int] | None = None) -> None:
        self.order = order
        self.migs = migs or {}
        self.current = 0

    def visible(self) -> list[tuple[str, int]]:
        """(NVML UUID, NVML index of the GPU) of each device torch sees, in torch's order."""
        everything = [(gpu_uuid(i), i) for i in self.order]
        everything += [(mig_uuid(i, k), i) for i, n in self.migs.items() for k in range(n)]
        env = os.environ.get("CUDA_VISIBLE_DEVICES")
        if env is None:
            return everything[: len(self.order)]
        out = []
        for entry in (e.strip() for e in env.split(",") if e.strip()):
            if entry.isdigit():
                out.append(everything[int(entry)])
            else:
                out.extend(u for u in everything if u[0] == entry)
        return out

    def install(self, monkeypatch) -> None:
        import torch

        def props(index):
            uuid, gpu = self.visible()[index]
            return types.SimpleNamespace(
                uuid=uuid.split("-", 1)[1], name=f"Fake GPU {gpu}", total_memory=(80 + gpu) * 2**30
            )

        monkeypatch.setattr(torch.cuda, "get_device_properties", props)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: len(self.visible()))
        monkeypatch.setattr(torch.cuda, "current_device", lambda: self.current)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: bool(self.visible()))
