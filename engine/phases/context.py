"""What every phase of one configuration shares: the model, the meters, the device."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import RunConfig
from engine.meters.energy import EnergyMeter


@dataclass
class PhaseContext:
    config: RunConfig
    model: object
    tokenizer: object
    meter: EnergyMeter
    idle_w: float
    batch_size: int

    def sync(self) -> None:
        """Wait for the device; a no-op on the CPU."""
        if self.config.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()

    @property
    def sync_fn(self):
        return self.sync if self.config.device.startswith("cuda") else None
