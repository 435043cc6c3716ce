"""A fake pynvml module: GPUs with UUIDs, MIG instances, controllable energy counters and power readings."""

from __future__ import annotations

import types
from dataclasses import dataclass


class NVMLError(Exception):
    """Base class, as in pynvml."""


class NVMLError_NotSupported(NVMLError):  # noqa: N801 (pynvml's name)
    pass


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801
    pass


class NVMLError_NotFound(NVMLError):  # noqa: N801
    pass


@dataclass(frozen=True)
class MigHandle:
    parent: int
    instance: int


def gpu_uuid(i: int) -> str:
    """The UUID of physical (NVML, PCI-order) GPU i, as NVML writes it."""
    return f"GPU-{i:08x}-1111-2222-3333-444444444444"


def mig_uuid(i: int, k: int) -> str:
    """The UUID of MIG instance k of GPU i."""
    return f"MIG-{i:04x}{k:04x}-5555-6666-7777-888888888888"


class FakeNVML:
    """State of the fake GPUs. `module()` returns the object to put in sys.modules["pynvml"].

    energy_mj and power_mw are per physical (NVML) index; set them between reads. migs[i] is the
    number of MIG instances of GPU i; a MIG handle reads no energy or power, as on real GPUs.
    counter_supported False makes nvmlDeviceGetTotalEnergyConsumption raise NVMLError_NotSupported
    (pre-Volta); init_error makes nvmlInit raise it.
    """

    def __init__(self, n_gpus: int = 1, migs: dict[int, int] | None = None) -> None:
        self.energy_mj = [0] * n_gpus
        self.power_mw = [0] * n_gpus
        self.migs = migs or {}
        self.counter_supported = True
        self.power_supported = True
        self.init_error: Exception | None = None
        self.inits = 0
        self.shutdowns = 0
        self.counter_reads = 0
        self.power_reads = 0

    def module(self) -> types.ModuleType:
        m = types.ModuleType("pynvml")
        m.NVMLError = NVMLError
        m.NVMLError_NotSupported = NVMLError_NotSupported
        m.NVMLError_LibraryNotFound = NVMLError_LibraryNotFound
        m.NVMLError_NotFound = NVMLError_NotFound
        m.NVML_CLOCK_SM, m.NVML_CLOCK_MEM = 1, 2
        m.nvmlInit = self._init
        m.nvmlShutdown = self._shutdown
        m.nvmlDeviceGetCount = lambda: len(self.energy_mj)
        m.nvmlDeviceGetHandleByIndex = self._handle
        m.nvmlDeviceGetHandleByUUID = self._by_uuid
        m.nvmlDeviceIsMigDeviceHandle = lambda h: isinstance(h, MigHandle)
        m.nvmlDeviceGetDeviceHandleFromMigDeviceHandle = lambda h: h.parent
        m.nvmlDeviceGetTotalEnergyConsumption = self._energy
        m.nvmlDeviceGetPowerUsage = self._power
        m.nvmlDeviceGetName = lambda h: f"Fake GPU {self._gpu(h)}"
        m.nvmlSystemGetDriverVersion = lambda: b"555.42.06"
        m.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(total=(80 + self._gpu(h)) * 2**30)
        m.nvmlDeviceGetPowerManagementLimit = lambda h: 300_000 + 1000 * self._gpu(h)
        m.nvmlDeviceGetMaxClockInfo = lambda h, kind: {1: 1980, 2: 2619}[kind]
        return m

    def _init(self) -> None:
        if self.init_error is not None:
            raise self.init_error
        self.inits += 1

    def _shutdown(self) -> None:
        self.shutdowns += 1

    def _handle(self, i: int) -> int:
        if not 0 <= i < len(self.energy_mj):
            raise NVMLError("Invalid Argument")
        return i

    def _by_uuid(self, uuid: str):
        for i in range(len(self.energy_mj)):
            if uuid == gpu_uuid(i):
                return i
            for k in range(self.migs.get(i, 0)):
                if uuid == mig_uuid(i, k):
                    return MigHandle(i, k)
        raise NVMLError_NotFound("Not Found")

    def _gpu(self, h) -> int:
        if isinstance(h, MigHandle):
            raise NVMLError_NotSupported("Not Supported")  # a MIG instance: read its GPU instead
        return h

    def _energy(self, h) -> int:
        if not self.counter_supported:
            raise NVMLError_NotSupported("Not Supported")
        self.counter_reads += 1
        return self.energy_mj[self._gpu(h)]

    def _power(self, h) -> int:
        if not self.power_supported:
            raise NVMLError_NotSupported("Not Supported")
        self.power_reads += 1
        return self.power_mw[self._gpu(h)]
