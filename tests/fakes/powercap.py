"""A fake /sys/class/powercap tree of intel-rapl zones, built under a temporary directory."""

from __future__ import annotations

from pathlib import Path


def add_zone(root: Path, zone: str, name: str, energy_uj: int, max_range_uj: int) -> Path:
    """Create root/<zone> (e.g. intel-rapl:0 or intel-rapl:0:1) with name, energy_uj, max range."""
    z = root / zone
    z.mkdir(parents=True, exist_ok=True)
    (z / "name").write_text(name + "\n")
    (z / "energy_uj").write_text(f"{energy_uj}\n")
    (z / "max_energy_range_uj").write_text(f"{max_range_uj}\n")
    return z


def set_energy(root: Path, zone: str, energy_uj: int) -> None:
    (root / zone / "energy_uj").write_text(f"{energy_uj}\n")
