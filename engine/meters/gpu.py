"""The GPU a configuration runs on, as NVML knows it: found by UUID, whatever CUDA_VISIBLE_DEVICES holds.

torch numbers the devices it sees (after CUDA_VISIBLE_DEVICES, in CUDA's own order, which need not be
NVML's PCI order); its UUID for a device is the one NVML knows the GPU by. A MIG instance is found by
its own UUID; its energy and power are only readable on the GPU that holds it, so the meter reads
that GPU (the instances beside it included), and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GpuNotFound(RuntimeError):
    """NVML knows no device with the UUID torch reports."""


@dataclass(frozen=True)
class Gpu:
    handle: Any  # the NVML handle whose energy and power are read
    uuid: str  # torch's UUID of the device (a GPU's or a MIG instance's)
    index: int  # torch's index
    mig: bool  # a MIG instance: the handle is the whole GPU that holds it


def cuda_index(device: str) -> int:
    """torch's index of "cuda" (the current device) or "cuda:N"."""
    _, _, index = device.partition(":")
    if index:
        return int(index)
    import torch

    return torch.cuda.current_device()


def torch_uuid(index: int) -> str:
    """The UUID torch reports for a device, without NVML's GPU- or MIG- prefix."""
    import torch

    uuid = str(torch.cuda.get_device_properties(index).uuid)
    return uuid.removeprefix("GPU-").removeprefix("MIG-")


def find(nvml, device: str) -> Gpu:
    """The NVML handle of the device a torch device string names (GpuNotFound if NVML lacks it)."""
    index = cuda_index(device)
    uuid = torch_uuid(index)
    for prefix in ("GPU-", "MIG-"):
        try:
            handle = nvml.nvmlDeviceGetHandleByUUID(prefix + uuid)
        except nvml.NVMLError:
            continue
        if prefix == "MIG-" or _is_mig(nvml, handle):
            return Gpu(nvml.nvmlDeviceGetDeviceHandleFromMigDeviceHandle(handle), prefix + uuid, index, True)
        return Gpu(handle, prefix + uuid, index, False)
    raise GpuNotFound(f"NVML knows no GPU or MIG instance with the UUID {uuid} of cuda:{index}")


def _is_mig(nvml, handle) -> bool:
    try:
        return bool(nvml.nvmlDeviceIsMigDeviceHandle(handle))
    except (AttributeError, nvml.NVMLError):
        return False


def describe(nvml, gpu: Gpu) -> dict:
    """Name, memory, driver, power limit and maximum clocks of the GPU (fields NVML cannot read: absent)."""
    h = gpu.handle
    reads = {
        "hardware": lambda: nvml.nvmlDeviceGetName(h),
        "driver": nvml.nvmlSystemGetDriverVersion,
        "gpu_memory_mb": lambda: nvml.nvmlDeviceGetMemoryInfo(h).total / 2**20,
        "power_limit_w": lambda: nvml.nvmlDeviceGetPowerManagementLimit(h) / 1000,
        "sm_clock_max_mhz": lambda: nvml.nvmlDeviceGetMaxClockInfo(h, nvml.NVML_CLOCK_SM),
        "mem_clock_max_mhz": lambda: nvml.nvmlDeviceGetMaxClockInfo(h, nvml.NVML_CLOCK_MEM),
    }
    out: dict = {"gpu_uuid": gpu.uuid, "gpu_index": gpu.index, "gpu_mig": gpu.mig}
    for key, read in reads.items():
        try:
            value = read()
        except Exception:  # noqa: BLE001 - NVMLError_NotSupported and the like: the field is absent
            continue
        out[key] = value.decode() if isinstance(value, bytes) else value
    return out
