"""Write a Preset as a TOML file that load_preset reads back to the same grid and settings."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import fields
from pathlib import Path

from engine.preset import GRID_AXES, RUN_SETTINGS, Preset, Rule, load_preset


def _value(v: object) -> str:
    if isinstance(v, str):
        return json.dumps(v)  # a JSON string is a TOML basic string
    if isinstance(v, tuple | list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return repr(v)


def _budget(preset: Preset) -> str:
    value = int(preset.budget.value) if preset.budget.kind == "steps" else preset.budget.value
    return f"{{ {preset.budget.kind} = {_value(value)} }}"


def _rule(name: str, rule: Rule) -> list[str]:
    lines = ["", f"[[{name}]]"]
    for f in fields(rule):
        value = getattr(rule, f.name)
        if value is not None:
            lines.append(f"{f.name} = {_value(value)}")
    return lines


def preset_toml(preset: Preset) -> str:
    """The TOML text of a preset (weights_path and the [data] and [weights] paths are written absolute;
    a [models] size by its dimensions)."""
    lines = [f"description = {_value(preset.description)}", "", "[grid]"]
    for axis in GRID_AXES:
        lines.append(f"{axis} = {_value(getattr(preset, axis))}")
    lines += ["", "[run]", f"phases = {_value(preset.phases)}", f"budget = {_budget(preset)}"]
    for name in RUN_SETTINGS:  # those left unset (None) are not written
        if getattr(preset, name) is not None:
            lines.append(f"{name} = {_value(getattr(preset, name))}")
    if preset.executor != Preset.executor:
        lines.append(f"executor = {_value(preset.executor)}")
    opt = preset.optimizer
    lines.append(
        f"optimizer = {{ name = {_value(opt.name)}, betas = {_value(opt.betas)}, eps = {opt.eps!r}, "
        f"weight_decay = {opt.weight_decay!r} }}"
    )
    for table, pairs in (("data", preset.data), ("weights", preset.weights_paths)):
        if pairs:
            lines += ["", f"[{table}]", *(f"{json.dumps(k)} = {_value(v)}" for k, v in pairs)]
    for name, family, dims in preset.models:
        lines += ["", f"[models.{json.dumps(name)}]", f"family = {_value(family)}"]
        lines += [f"{k} = {v!r}" for k, v in dims]
    for rule in preset.include:
        lines += _rule("include", rule)
    for rule in preset.exclude:
        lines += _rule("exclude", rule)
    return "\n".join(lines) + "\n"


def save_preset(preset: Preset, path: str | os.PathLike[str]) -> Preset:
    """Write the preset to a .toml path atomically and return it as loaded back (ValueError: one line)."""
    target = Path(path).expanduser()
    if target.suffix != ".toml":
        raise ValueError(f"{target}: a preset file name ends in .toml")
    if not target.parent.is_dir():
        raise ValueError(f"{target}: folder {str(target.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".preset-", suffix=".toml", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(preset_toml(preset))
        os.replace(tmp, target)
    except OSError as e:
        Path(tmp).unlink(missing_ok=True)
        raise ValueError(f"{target}: cannot write: {e.strerror or e}") from None
    return load_preset(target)
