"""Architecture dimensions per family and size, shipped as data (engine/data/archs.json)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from costmodel.encoder import encoder_run, global_tokens

FAMILIES = ("led", "bigbird-pegasus")


@cache
def _table() -> dict[str, dict[str, dict]]:
    return json.loads(resources.files("engine").joinpath("data/archs.json").read_text())


def sizes(family: str) -> tuple[str, ...]:
    """Sizes known for a family, smallest first."""
    return tuple(_table()[family])


def arch(family: str, size: str) -> dict:
    """A copy of the dimensions of one family and size (KeyError when unknown)."""
    return dict(_table()[family][size])


def dims(family: str, size: str) -> dict:
    """The dimensions a model is built from (the table's row without its hub id)."""
    d = arch(family, size)
    d.pop("hub_id", None)
    return d


def entry(config) -> dict:
    """A configuration's row: a preset's own size's dimensions (RunConfig.arch), else the table's, with
    its hub id where the size is published."""
    return dict(config.arch) if config.arch else arch(config.family, config.size)


def of(config) -> dict:
    """The dimensions a configuration's model is built from (its row without a hub id)."""
    d = entry(config)
    d.pop("hub_id", None)
    return d


def encoder_plan(config, dims: dict) -> dict:
    """A record's encoder facts before its model runs (padded_len, attention, global_tokens), by the
    rule the cost model shares (costmodel.encoder); a measurement records what the encoder ran."""
    padded, attention = encoder_run(config.family, dims, config.input_len)
    return {
        "padded_len": padded,
        "attention": attention,
        "global_tokens": global_tokens(config.family, config.task),
    }
