"""A fake pynvml module with controllable energy counters and power readings."""

from __future__ import annotations

import types


class NVMLError(Exception):
    """Base class, as in pynvml."""


class NVMLError_NotSupported(NVMLError):  # noqa: N801 (pynvml's name)
    pass


class NVMLError_LibraryNotFound(NVMLError):  # noqa: N801
    pass


class FakeNVML:
    """State of the fake GPUs. `module()` returns the object to put in sys.modules["pynvml"].

    energy_mj and power_mw are per physical index; set them between reads. counter_supported False
    makes nvmlDeviceGetTotalEnergyConsumption raise NVMLError_NotSupported (pre-Volta); init_error
    makes nvmlInit raise it.
    """

    def __init__(self, n_gpus: int = 1) -> None:
        self.energy_mj = [0] * n_gpus
        self.power_mw = [0] * n_gpus
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
        m.nvmlInit = self._init
        m.nvmlShutdown = self._shutdown
        m.nvmlDeviceGetCount = lambda: len(self.energy_mj)
        m.nvmlDeviceGetHandleByIndex = self._handle
        m.nvmlDeviceGetHandleByUUID = self._by_uuid
        m.nvmlDeviceGetTotalEnergyConsumption = self._energy
        m.nvmlDeviceGetPowerUsage = self._power
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

    def _by_uuid(self, uuid: str) -> int:
        return self._handle(int(uuid.rsplit("-", 1)[1]))  # "GPU-fake-<index>"

    def _energy(self, h: int) -> int:
        if not self.counter_supported:
            raise NVMLError_NotSupported("Not Supported")
        self.counter_reads += 1
        return self.energy_mj[h]

    def _power(self, h: int) -> int:
        if not self.power_supported:
            raise NVMLError_NotSupported("Not Supported")
        self.power_reads += 1
        return self.power_mw[h]
