"""Presets: a grid of configurations described in TOML, validated against one schema.

Layout (every key but grid.families, grid.sizes and grid.input_lens is optional; a grid axis takes a
value or a list of values; [run] defaults are RunConfig's)::

    description = "one line for `tradeoff-tui presets`"
    [grid]
    families = ["led", "bigbird-pegasus"]
    sizes = ["tiny", "small"]
    weights = "random"              # random, pretrained
    input_lens = [256, 512, 1024]
    batch_sizes = [4]               # positive integers or "auto"
    tasks = ["synthetic"]
    [run]
    phases = ["train", "infer", "eval"]
    budget = { steps = 30 }         # or { seconds = 10 } or { joules = 500 }
    device = "cpu"
    dtype = "float32"
    repetitions = 5
    min_window_s = 0.5
    warmup = 2
    passes = 1                      # interleaved passes over the grid, combined by their median
    threads = 1                     # torch threads; 0 or absent: torch's default (every core)
    eval_samples = 16
    gen_tokens = 32
    lr = 2e-4
    seed = 0
    memory_budget_gb = 8            # for batch_sizes "auto"; absent: the device's memory
    weights_path = "ckpt/led"       # relative to the preset file
    optimizer = { name = "adamw", betas = [0.9, 0.98], eps = 1e-6, weight_decay = 0.001 }
    timeout_s = 3600                # per configuration; absent: from its budget (engine.timeouts)
    executor = "local"              # or "ray": each configuration a Ray task (engine.ray_executor)
    [data]                          # a SCROLLS task's local files, relative to the preset file
    qasper = "data/qasper.zip"      # a folder or zip of SCROLLS jsonl files, save_to_disk, .jsonl/.parquet
    [weights]                       # family-size: a local checkpoint (relative path) or a hub id
    led-base = "ckpt/led-base-16384"
    [models.led-mid]                # a size of its own, used in grid.sizes like a built-in one
    family = "led"                  # led, bigbird-pegasus
    d_model = 96                    # and encoder_layers, decoder_layers, heads, ffn_dim, vocab_size,
    attention_window = 64           # attention_window (led, even) or block_size (bigbird-pegasus);
                                    # optional: num_random_blocks, max_encoder_positions, ...
    # or: config = "led-mid/config.json"  (a Hugging Face config.json, relative to the preset file)
    [[exclude]]                     # also [[include]]: fields of RunConfig, a value or a list
    family = "bigbird-pegasus"
    input_len = [256, 512]

The grid is the product of the axes, less family/size pairs that do not exist (bigbird-pegasus has
no base): such pairs are skipped, but a size that exists for none of the listed families is an
error. With include rules a point must match at least one; a point matching any exclude rule is
dropped. Every input length left must fit the model's encoder positions, and the grid must not be
empty. Errors are one line: ``FILE:LINE: FIELD: problem (allowed: ...)``; rules are numbered from 1.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import MISSING, Field, dataclass, field, fields, make_dataclass
from itertools import product
from pathlib import Path
from typing import Any

from engine import archs
from engine.config import (
    BUDGET_KINDS,
    DEVICES,
    DTYPES,
    OPTIMIZERS,
    PHASES,
    WEIGHTS,
    Budget,
    Optimizer,
    RunConfig,
)
from engine.tasks import TASKS as _TASK_KINDS
from engine.tasks.scrolls import SCROLLS_TASKS, check_local

PRESETS_DIR = Path(__file__).resolve().parent.parent / "presets"
DEFAULT_PRESET = "cpu-demo"
TASKS = tuple(_TASK_KINDS)
SIZES = tuple(dict.fromkeys(s for f in archs.FAMILIES for s in archs.sizes(f)))

_Loc = tuple[str | int, ...]  # a key's place in the file: ("grid", "sizes"), ("exclude", 0, "family")


class PresetError(Exception):
    """A preset that cannot be used. str(): one line naming the file, line, field and what is allowed."""

    def __init__(self, path: str, field: str | None, problem: str, line: int | None = None):
        self.path, self.field, self.problem, self.line = path, field, problem, line
        where = f"{path}:{line}" if line else path
        text = f"{where}: {field}: {problem}" if field else f"{where}: {problem}"
        super().__init__(re.sub(r"\s*[\r\n]+\s*", " ", text))


class _Invalid(Exception):
    """A problem at a place in the preset, before the file's line is looked up."""

    def __init__(self, loc: _Loc, problem: str):
        super().__init__(problem)
        self.loc, self.problem = loc, problem


@dataclass(frozen=True)
class Rule:
    """A partial match over grid points: each field given lists the values it accepts."""

    family: tuple[str, ...] | None = None
    size: tuple[str, ...] | None = None
    weights: tuple[str, ...] | None = None
    task: tuple[str, ...] | None = None
    input_len: tuple[int, ...] | None = None
    batch_size: tuple[int | str, ...] | None = None

    def matches(self, config: RunConfig) -> bool:
        return all(
            getattr(self, f.name) is None or getattr(config, f.name) in getattr(self, f.name)
            for f in fields(self)
        )


def _setting(f: Field) -> tuple:
    """A RunConfig field as a Preset field: its name, type and default (keyword-only)."""
    default = f.default if f.default_factory is MISSING else f.default_factory()
    return f.name, f.type, field(default=default, kw_only=True)


# the RunConfig fields each point sets itself: its grid axes (a Rule's), its [data] path, its [models] size
_POINT_FIELDS = {*(f.name for f in fields(Rule)), "data_path", "arch"}
RunSettings = make_dataclass(
    "RunSettings",
    [_setting(f) for f in fields(RunConfig) if f.name not in _POINT_FIELDS],
    frozen=True,
)
RunSettings.__module__ = __name__
RunSettings.__doc__ = """The settings every point of a grid shares: RunConfig's fields but those a point sets
itself, with RunConfig's defaults (a new RunConfig setting is a preset setting, a [run] key, too)."""


@dataclass(frozen=True)
class Preset(RunSettings):
    """A grid and the run settings shared by all its points (RunSettings, keyword-only). load_preset()
    validates every value; a Preset built in code is trusted for its values, and grid() checks the rest
    (pairs, positions)."""

    name: str
    description: str
    path: Path | None  # the TOML file it came from; None when built in code
    families: tuple[str, ...]
    sizes: tuple[str, ...]
    input_lens: tuple[int, ...]
    weights: tuple[str, ...] = (RunConfig.weights,)
    batch_sizes: tuple[int | str, ...] = (RunConfig.batch_size,)
    tasks: tuple[str, ...] = (RunConfig.task,)
    timeout_s: float | None = None  # per configuration; None: engine.timeouts estimates it
    data: tuple[tuple[str, str], ...] = ()  # (task, absolute path) of [data]
    weights_paths: tuple[tuple[str, str], ...] = ()  # ("family-size", path or hub id) of [weights]
    executor: str = "local"  # what measures the grid: local (child processes) or ray
    include: tuple[Rule, ...] = ()
    exclude: tuple[Rule, ...] = ()
    models: tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...] = ()  # (name, family, dimensions)

    def grid(self) -> list[RunConfig]:
        """Every configuration of the grid, in axis order (PresetError when it cannot be run)."""
        try:
            return self._expand()
        except _Invalid as e:
            raise PresetError(str(self.path or self.name), _field_name(e.loc), e.problem) from None

    def _expand(self) -> list[RunConfig]:
        own = {name: (family, dims) for name, family, dims in self.models}
        for size in self.sizes:
            if size in own:
                if own[size][0] not in self.families:
                    raise _Invalid(
                        ("grid", "sizes"), f"{size!r} is a {own[size][0]} size, not of the families"
                    )
            elif not any(size in archs.sizes(f) for f in self.families):
                known = "; ".join(f"{f}: {', '.join(archs.sizes(f))}" for f in self.families)
                raise _Invalid(
                    ("grid", "sizes"), f"{size!r} exists for none of the families (allowed: {known})"
                )
        shared = {f.name: getattr(self, f.name) for f in fields(RunSettings)}
        data, weights_paths = dict(self.data), dict(self.weights_paths)
        points = []
        for family, size, task, weights, input_len, batch_size in product(
            self.families, self.sizes, self.tasks, self.weights, self.input_lens, self.batch_sizes
        ):
            exists = own[size][0] == family if size in own else size in archs.sizes(family)
            if not exists:
                continue
            arch = own[size][1] if size in own else ()
            config = RunConfig(
                family,
                size,
                input_len,
                task,
                weights,
                batch_size,
                **{**shared, "weights_path": weights_paths.get(f"{family}-{size}", self.weights_path)},
                data_path=data.get(task),
                arch=arch,
            )
            if self.include and not any(r.matches(config) for r in self.include):
                continue
            if any(r.matches(config) for r in self.exclude):
                continue
            if weights == "pretrained" and not _has_checkpoint(config):
                raise _Invalid(
                    ("grid", "weights"),
                    f"{family} {size} has no published checkpoint for task {task!r} (allowed: pretrained "
                    "for base and large, or for tiny and small on the synthetic tasks; random; "
                    f"or a [weights] entry {family}-{size})",
                )
            limit = archs.of(config)["max_encoder_positions"]
            if input_len > limit:
                raise _Invalid(
                    ("grid", "input_lens"),
                    f"{input_len} is beyond the {limit} encoder positions of {family} {size} "
                    f"(allowed: 1 to {limit}, or exclude the pair with an [[exclude]] rule)",
                )
            points.append(config)
        if not points:
            rules = "exclude" if self.exclude else "include"
            raise _Invalid((rules,), "the include and exclude rules leave no configuration to run")
        return points


def _has_checkpoint(config: RunConfig) -> bool:
    """Pretrained weights exist: published (hub id), ours (synthetic pre-training), or a local path."""
    if config.arch:  # a preset's own size: no checkpoint but a local one
        return bool(config.weights_path)
    return bool(config.weights_path or "hub_id" in archs.entry(config) or config.task.startswith("synthetic"))


def load_preset(name_or_path: str | os.PathLike[str]) -> Preset:
    """Load and validate a built-in preset by name, or a TOML file (a path, or a name ending .toml)."""
    path = _resolve(name_or_path)
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise PresetError(shown, None, f"cannot read the preset: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise PresetError(shown, None, "not UTF-8 text (a preset is a TOML file)", line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", msg)
        line = int(m[1]) if m and m[1] else (text.count("\n") + 1 if m else None)
        problem = msg[: m.start()].strip() if m else msg
        field = _field_name(_key_at(text, line)) if line else None
        raise PresetError(shown, field, f"TOML syntax error: {problem}", line) from None
    try:
        preset = _parse(data, path)
        preset._expand()
    except _Invalid as e:
        raise PresetError(shown, _field_name(e.loc), e.problem, _line_of(text, e.loc)) from None
    return preset


def builtin_presets() -> list[tuple[str, str]]:
    """(name, description) of each built-in preset, by name."""
    return [(p.stem, load_preset(p).description) for p in sorted(PRESETS_DIR.glob("*.toml"))]


def _resolve(name_or_path: str | os.PathLike[str]) -> Path:
    s = os.fspath(name_or_path)
    if isinstance(name_or_path, os.PathLike) or s.endswith(".toml") or "/" in s or os.sep in s:
        return Path(s).expanduser()
    path = PRESETS_DIR / f"{s}.toml"
    if not path.is_file():
        names = sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))
        raise PresetError(
            s,
            None,
            f"no built-in preset {s!r}{_hint(s, names)} (allowed: {', '.join(names)}, or a .toml path)",
        )
    return path


# ---- schema -------------------------------------------------------------------------------------

_Check = Callable[[Any], Any]  # returns the value normalised, or raises ValueError with the problem


def _describe(v: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a decimal number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(v), "a date or time")


def _hint(word: str, allowed: Any) -> str:
    close = difflib.get_close_matches(word, list(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _choice(allowed: tuple[str, ...]) -> _Check:
    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"expected a string, got {_describe(v)} (allowed: {', '.join(allowed)})")
        if v not in allowed:
            raise ValueError(f"unknown value {v!r}{_hint(v, allowed)} (allowed: {', '.join(allowed)})")
        return v

    return check


def _integer(minimum: int) -> _Check:
    allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"

    def check(v: Any) -> int:
        if type(v) is not int:
            raise ValueError(f"expected an integer, got {_describe(v)} (allowed: {allowed})")
        if v < minimum:
            raise ValueError(f"{v} is too small (allowed: {allowed})")
        return v

    return check


def _positive(v: Any) -> float:
    if type(v) not in (int, float):
        raise ValueError(f"expected a number, got {_describe(v)} (allowed: a positive number)")
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{v} is not a positive number (allowed: a positive number)")
    return float(v)


def _batch(v: Any) -> int | str:
    if isinstance(v, str) and v == "auto":
        return v
    if type(v) is not int or v < 1:
        raise ValueError(f"bad batch size {v!r} (allowed: a positive integer or 'auto')")
    return v


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {_describe(v)}")
    return v


def _device(v: Any) -> str:
    allowed = "cpu, cuda, cuda:N"
    if not isinstance(v, str):
        raise ValueError(f"expected a string, got {_describe(v)} (allowed: {allowed})")
    kind, colon, index = v.partition(":")
    if kind not in DEVICES or (colon and (kind != "cuda" or not index.isdigit())):
        raise ValueError(f"unknown device {v!r}{_hint(v, DEVICES)} (allowed: {allowed})")
    return v


# preset axis -> (the RunConfig field its rules match, the check of one value)
_AXES: dict[str, tuple[str, _Check]] = {
    "families": ("family", _choice(archs.FAMILIES)),
    "sizes": ("size", _choice(SIZES)),
    "weights": ("weights", _choice(WEIGHTS)),
    "tasks": ("task", _choice(TASKS)),
    "input_lens": ("input_len", _integer(1)),
    "batch_sizes": ("batch_size", _batch),
}
_REQUIRED_AXES = ("families", "sizes", "input_lens")
_RUN: dict[str, _Check] = {
    "device": _device,
    "dtype": _choice(DTYPES),
    "repetitions": _integer(1),
    "min_window_s": _positive,
    "warmup": _integer(0),
    "passes": _integer(1),
    "threads": _integer(0),
    "eval_samples": _integer(1),
    "gen_tokens": _integer(1),
    "lr": _positive,
    "seed": _integer(0),
    "memory_budget_gb": _positive,
    "weights_path": _text,
    "timeout_s": _positive,
}
RUN_SETTINGS = tuple(_RUN)  # the [run] keys of one value each, in the order a preset file writes them
_RUN_TABLES = ("phases", "budget", "optimizer")  # the [run] keys of a list or table, parsed on their own
_RUN_FIELDS = (*_RUN_TABLES, *_RUN)
GRID_AXES = tuple(_AXES)  # the [grid] keys, in the order a preset file writes them
EXECUTORS = ("local", "ray")
_SWEEP: dict[str, _Check] = {"executor": _choice(EXECUTORS)}  # [run] keys of the sweep, not of a point
_TOP = ("description", "grid", "run", "data", "weights", "include", "exclude", "models")
_MODELS = tuple(f"{f}-{s}" for f in archs.FAMILIES for s in archs.sizes(f))


def _value(loc: _Loc, check: _Check, v: Any) -> Any:
    try:
        return check(v)
    except ValueError as e:
        raise _Invalid(loc, str(e)) from None


def _table(loc: _Loc, v: Any, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Invalid(loc, f"expected a table, got {_describe(v)}")
    for key in v:
        if key not in allowed:
            raise _Invalid((*loc, key), f"unknown key{_hint(key, allowed)} (allowed: {', '.join(allowed)})")
    return v


def _values(loc: _Loc, check: _Check, v: Any) -> tuple:
    """A value or a non-empty list of distinct values, each passing check."""
    items = v if isinstance(v, list) else [v]
    if not items:
        raise _Invalid(loc, "empty list (give at least one value)")
    out = tuple(_value(loc, check, item) for item in items)
    for i, item in enumerate(out):
        if item in out[:i]:
            raise _Invalid(loc, f"{item!r} is listed twice")
    return out


def _budget(loc: _Loc, v: Any) -> Budget:
    table = _table(loc, v, BUDGET_KINDS)
    if len(table) != 1:
        raise _Invalid(loc, f"give exactly one budget kind (allowed: {', '.join(BUDGET_KINDS)})")
    ((kind, value),) = table.items()
    return Budget(kind, _value((*loc, kind), _integer(1) if kind == "steps" else _positive, value))


def _optimizer(loc: _Loc, v: Any) -> Optimizer:
    table = _table(loc, v, tuple(f.name for f in fields(Optimizer)))
    out: dict[str, Any] = {}
    if "name" in table:
        out["name"] = _value((*loc, "name"), _choice(OPTIMIZERS), table["name"])
    if "betas" in table:
        betas = table["betas"]
        if not (isinstance(betas, list) and len(betas) == 2):
            raise _Invalid((*loc, "betas"), "expected two numbers, e.g. [0.9, 0.98]")
        out["betas"] = tuple(_value((*loc, "betas"), _beta, b) for b in betas)
    for key in ("eps", "weight_decay"):
        if key in table:
            out[key] = _value((*loc, key), _positive if key == "eps" else _non_negative, table[key])
    return Optimizer(**out)


def _beta(v: Any) -> float:
    if type(v) not in (int, float) or not 0 <= v < 1:
        raise ValueError(f"{v!r} is not a number in [0, 1) (allowed: Adam's betas, e.g. [0.9, 0.98])")
    return float(v)


def _non_negative(v: Any) -> float:
    if type(v) not in (int, float) or not (math.isfinite(v) and v >= 0):
        raise ValueError(f"{v!r} is not a number >= 0 (allowed: a number >= 0)")
    return float(v)


def _data(v: Any, base: Path, phases: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """[data]: each SCROLLS task's path, made absolute, with the splits the phases read checked."""
    table = _table(("data",), v, tuple(SCROLLS_TASKS))
    splits = (("train",) if "train" in phases else ()) + (
        ("validation",) if {"infer", "eval"} & set(phases) else ()
    )
    out = []
    for task, given in table.items():
        path = base / Path(_value(("data", task), _text, given)).expanduser()
        try:
            check_local(task, path, splits)
        except ValueError as e:
            raise _Invalid(("data", task), str(e)) from None
        out.append((task, str(path)))
    return tuple(out)


def _weights(v: Any, base: Path) -> tuple[tuple[str, str], ...]:
    """[weights]: family-size to a local checkpoint (a path that exists, relative to the preset) or a
    hub id (anything else, looked up in the Hugging Face cache when the configuration is built)."""
    table = _table(("weights",), v, _MODELS)
    out = []
    for model, given in table.items():
        ref = _value(("weights", model), _text, given)
        local = base / Path(ref).expanduser()
        looks_local = ref.startswith((".", "/", "~")) or local.exists()
        if looks_local and not local.exists():
            raise _Invalid(("weights", model), f"{local} does not exist (allowed: a folder or a hub id)")
        out.append((model, str(local) if looks_local else ref))
    return tuple(out)


def _rules(name: str, v: Any) -> tuple[Rule, ...]:
    if not isinstance(v, list):
        raise _Invalid((name,), f"expected a list of tables ([[{name}]]), got {_describe(v)}")
    checks = dict(_AXES.values())
    rules = []
    for i, item in enumerate(v):
        table = _table((name, i), item, tuple(checks))
        if not table:
            raise _Invalid((name, i), f"empty rule (allowed fields: {', '.join(checks)})")
        rules.append(Rule(**{k: _values((name, i, k), checks[k], x) for k, x in table.items()}))
    return tuple(rules)


def check_key(key: str, value: Any) -> Any:
    """A value of a [grid] axis (one or a list) or a [run] key (budget: a {kind = value} table) as
    load_preset checks it, normalised; ValueError, its text the problem and what is allowed."""
    try:
        if key in _AXES:
            return _values(("grid", key), _AXES[key][1], value)
        if key == "budget":
            return _budget(("run", key), value)
        return _value(("run", key), {**_RUN, **_SWEEP}[key], value)
    except _Invalid as e:
        raise ValueError(e.problem) from None


def _parse(data: dict[str, Any], path: Path) -> Preset:
    _table((), data, _TOP)
    grid = _table(("grid",), data.get("grid", {}), tuple(_AXES))
    for axis in _REQUIRED_AXES:
        if axis not in grid:
            raise _Invalid(("grid", axis), "missing (a required grid axis)")
    run = _table(("run",), data.get("run", {}), (*_RUN_FIELDS, *_SWEEP))
    checks = {**_RUN, **_SWEEP}
    settings: dict[str, Any] = {k: _value(("run", k), checks[k], x) for k, x in run.items() if k in checks}
    if "phases" in run:
        given = _values(("run", "phases"), _choice(PHASES), run["phases"])
        settings["phases"] = tuple(p for p in PHASES if p in given)
    if "budget" in run:
        settings["budget"] = _budget(("run", "budget"), run["budget"])
    if "optimizer" in run:
        settings["optimizer"] = _optimizer(("run", "optimizer"), run["optimizer"])
    base = path.absolute().parent
    if "weights_path" in settings:
        settings["weights_path"] = str(base / Path(settings["weights_path"]).expanduser())
    settings["data"] = _data(data.get("data", {}), base, settings.get("phases", RunConfig.phases))
    settings["weights_paths"] = _weights(data.get("weights", {}), base)
    models = _models(data.get("models", {}), path)
    checks = {axis: check for axis, (_, check) in _AXES.items()}
    if models:
        checks["sizes"] = _choice(SIZES + tuple(name for name, _, _ in models))
    return Preset(
        name=path.stem,
        description=_value(("description",), _text, data.get("description", "")),
        path=path,
        **{
            axis: _values(("grid", axis), check, grid[axis]) for axis, check in checks.items() if axis in grid
        },
        **settings,
        include=_rules("include", data.get("include", [])),
        exclude=_rules("exclude", data.get("exclude", [])),
        models=models,
    )


# ---- sizes a preset defines ([models.NAME]) ----------------------------------------------------

_DIMENSIONS = ("d_model", "encoder_layers", "decoder_layers", "heads", "ffn_dim", "vocab_size")
_FAMILY_DIMENSIONS = {"led": ("attention_window",), "bigbird-pegasus": ("block_size",)}
_OPTIONAL_DIMENSIONS = {  # with their defaults: those of the built-in small sizes
    "led": {"max_encoder_positions": 4096, "max_decoder_positions": 1024},
    "bigbird-pegasus": {"num_random_blocks": 3, "max_encoder_positions": 4096, "max_decoder_positions": 4096},
}
# a Hugging Face config.json's keys for our dimensions, per family (model_type led, bigbird_pegasus)
_HF_KEYS = {
    "d_model": "d_model",
    "encoder_layers": "encoder_layers",
    "decoder_layers": "decoder_layers",
    "heads": "encoder_attention_heads",
    "ffn_dim": "encoder_ffn_dim",
    "vocab_size": "vocab_size",
    "attention_window": "attention_window",
    "block_size": "block_size",
    "num_random_blocks": "num_random_blocks",
    "max_encoder_positions": ("max_encoder_position_embeddings", "max_position_embeddings"),
    "max_decoder_positions": ("max_decoder_position_embeddings", "max_position_embeddings"),
}
_HF_FAMILIES = {"led": "led", "bigbird_pegasus": "bigbird-pegasus"}


def _models(v: Any, path: Path) -> tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...]:
    """The sizes of [models.NAME] tables, each by its dimensions or a config.json, checked."""
    tables = _table(("models",), v, tuple(v) if isinstance(v, dict) else ())
    out = []
    for name, table in tables.items():
        loc: _Loc = ("models", name)
        if name in SIZES:
            raise _Invalid(loc, f"{name!r} is a built-in size (allowed: a new name)")
        if isinstance(table, dict) and "config" in table:
            _table(loc, table, ("config",))
            family, dims = _hf_config(
                loc, path.absolute().parent / _value((*loc, "config"), _text, table["config"])
            )
        else:
            family, dims = _dimensions(loc, table)
        out.append((name, family, tuple(sorted(dims.items()))))
    return tuple(out)


def _dimensions(loc: _Loc, table: Any) -> tuple[str, dict[str, int]]:
    family = _value(
        (*loc, "family"), _choice(archs.FAMILIES), _table(loc, table, ("family", *_HF_KEYS)).get("family")
    )
    needed = (*_DIMENSIONS, *_FAMILY_DIMENSIONS[family])
    optional = _OPTIONAL_DIMENSIONS[family]
    _table(loc, table, ("family", *needed, *optional))
    dims = dict(optional)
    for key in needed:
        if key not in table:
            raise _Invalid((*loc, key), f"missing (a {family} size needs {', '.join(needed)})")
    for key in (*needed, *optional):
        if key in table:
            dims[key] = _value((*loc, key), _integer(1), table[key])
    return family, _checked(loc, family, dims)


def _checked(loc: _Loc, family: str, dims: dict[str, int]) -> dict[str, int]:
    if dims["d_model"] % dims["heads"]:
        raise _Invalid(
            (*loc, "heads"), f"d_model {dims['d_model']} is not divisible by {dims['heads']} heads"
        )
    if family == "led" and dims["attention_window"] % 2:
        raise _Invalid(
            (*loc, "attention_window"), f"{dims['attention_window']} is odd (allowed: an even window)"
        )
    return dims


def _hf_config(loc: _Loc, file: Path) -> tuple[str, dict[str, int]]:
    """A size from a Hugging Face config.json (model_type led or bigbird_pegasus)."""
    import json

    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as e:
        raise _Invalid((*loc, "config"), f"cannot read {file} as a config.json ({e})") from None
    family = _HF_FAMILIES.get(data.get("model_type"))
    if family is None:
        raise _Invalid(
            (*loc, "config"),
            f"{file}: model_type {data.get('model_type')!r} (allowed: {', '.join(_HF_FAMILIES)})",
        )
    dims = dict(_OPTIONAL_DIMENSIONS[family])
    for key in (*_DIMENSIONS, *_FAMILY_DIMENSIONS[family], *_OPTIONAL_DIMENSIONS[family]):
        names = _HF_KEYS[key] if isinstance(_HF_KEYS[key], tuple) else (_HF_KEYS[key],)
        found = next((data[n] for n in names if n in data), None)
        if isinstance(found, list):  # LED's per-layer windows
            found = max(found) if found else None
        if found is None:
            if key in dims:
                continue
            raise _Invalid((*loc, "config"), f"{file}: {names[0]} missing")
        if type(found) is not int or found < 1:
            raise _Invalid((*loc, "config"), f"{file}: {names[0]} is {found!r} (allowed: a positive integer)")
        dims[key] = found
    return family, _checked(loc, family, dims)


# ---- locating keys in the file ------------------------------------------------------------------


def _field_name(loc: _Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _lines(text: str) -> Iterator[tuple[int, _Loc, bool]]:
    """(line number, place, is a table header) for every header and key line of a TOML text."""
    table: _Loc = ()
    seen: dict[str, int] = {}
    for n, line in enumerate(text.split("\n"), 1):  # TOML's lines, as tomllib counts them
        if m := re.match(r"\s*\[\[\s*([^\]]+?)\s*\]\]", line):
            name = m[1].replace('"', "")
            seen[name] = seen.get(name, -1) + 1
            table = (name, seen[name])
            yield n, table, True
        elif m := re.match(r"\s*\[\s*([^\]]+?)\s*\]", line):
            table = tuple(p.strip().strip('"') for p in m[1].split("."))
            yield n, table, True
        elif m := re.match(r'\s*([\w"-]+(?:\s*\.\s*[\w"-]+)*)\s*=', line):
            yield n, (*table, *(p.strip().strip('"') for p in m[1].split("."))), False


def _line_of(text: str, loc: _Loc) -> int | None:
    """The line of the key that sets loc, else of the table header enclosing it, if either is found."""
    header_line = None
    for n, place, header in _lines(text):
        if header and (place == loc[: len(place)] or loc == place[: len(loc)]):
            header_line = header_line or n
        elif not header and place == loc[: len(place)]:
            return n
    return header_line


def _key_at(text: str, line: int) -> _Loc:
    """The key or table set on a line, else the table the line lies in."""
    table: _Loc = ()
    for n, place, header in _lines(text):
        if n > line:
            break
        if n == line:
            return place
        if header:
            table = place
    return table
