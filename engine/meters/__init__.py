"""Meters: timing, energy (the source chain of the design) and peak memory."""

from engine.meters.energy import (
    EnergyMeter,
    MeterUnavailable,
    WindowTooShort,
    energy_record,
    measure_idle,
    open_meter,
)
from engine.meters.memory import PeakMemory
from engine.meters.timing import measure, measure_energy, summarise
from engine.record import is_estimate

__all__ = [
    "EnergyMeter",
    "MeterUnavailable",
    "PeakMemory",
    "WindowTooShort",
    "energy_record",
    "is_estimate",
    "measure",
    "measure_energy",
    "measure_idle",
    "open_meter",
    "summarise",
]
