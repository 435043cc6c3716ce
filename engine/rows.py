"""Flat rows for the cost model and reports: measured records, and grid points not measured yet."""

from __future__ import annotations

from engine import archs
from engine.config import RunConfig
from engine.record import Record


def config_row(config: RunConfig, env: dict | None = None) -> dict:
    """The row of a configuration before it is measured: its inputs and architecture, no figures."""
    dims = archs.of(config)
    row = Record(
        config=config,
        dims=dims,
        **archs.encoder_plan(config, dims),
        batch_size=config.batch_size if isinstance(config.batch_size, int) else None,
        env=env or {},
    ).flat()
    row["status"] = "planned"
    return row


def grid_rows(configs: list[RunConfig], env: dict | None = None) -> list[dict]:
    return [config_row(c, env) for c in configs]


def record_rows(records: list[Record]) -> list[dict]:
    return [r.flat() for r in records]
