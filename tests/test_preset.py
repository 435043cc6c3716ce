"""Presets: the built-in ones, grid expansion, and bad presets (a corpus and generated ones)."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import PHASES, Budget
from engine.preset import PRESETS_DIR, Preset, PresetError, builtin_presets, load_preset

BAD = Path(__file__).parent / "bad_presets"
BAD_FILES = sorted(BAD.glob("*.toml"))


def write(tmp_path: Path, text: str, name: str = "p.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


GRID = '[grid]\nfamilies = ["led", "bigbird-pegasus"]\nsizes = ["tiny"]\ninput_lens = [256, 512]\n'


# ---- built-in presets ---------------------------------------------------------------------------


def test_builtin_presets_are_listed_with_a_description() -> None:
    listed = builtin_presets()
    assert [name for name, _ in listed] == ["cpu-demo", "paper-cpu", "paper", "smoke"]
    assert all(desc and "\n" not in desc for _, desc in listed)


def test_smoke() -> None:
    grid = load_preset("smoke").grid()
    assert 2 <= len(grid) <= 3
    assert {c.family for c in grid} == {"led", "bigbird-pegasus"}
    assert all(c.size == "tiny" and c.input_len <= 512 and c.device == "cpu" for c in grid)
    assert all(c.phases == PHASES and c.budget.kind == "steps" and c.budget.value <= 50 for c in grid)


def test_cpu_demo() -> None:
    grid = load_preset("cpu-demo").grid()
    assert len(grid) >= 12
    models = {(c.family, c.size) for c in grid}
    assert models == {(f, s) for f in ("led", "bigbird-pegasus") for s in ("tiny", "small")}
    lengths = {m: sorted(c.input_len for c in grid if (c.family, c.size) == m) for m in models}
    assert all(len(ls) >= 3 for ls in lengths.values()), "each model is measured at three lengths at least"
    assert {c.task for c in grid} == {"synthetic"}
    assert all(c.phases == PHASES and c.device == "cpu" and c.weights == "pretrained" for c in grid)
    # the study's fixed budget: seconds, and the largest batch that fits a memory budget
    assert all(c.budget.kind == "seconds" and c.batch_size == "auto" and c.memory_budget_gb for c in grid)


def test_paper() -> None:
    grid = load_preset("paper").grid()
    assert {(c.family, c.size) for c in grid} == {
        ("led", "base"),
        ("led", "large"),
        ("bigbird-pegasus", "large"),
    }
    assert {c.input_len for c in grid} == {1024, 2048, 3072, 4096}
    assert {c.task for c in grid} == {"gov_report", "summ_screen_fd", "qmsum", "qasper"}
    assert len(grid) == 3 * 4 * 4
    assert all(c.batch_size == "auto" and c.device == "cuda" and c.weights == "pretrained" for c in grid)
    assert all(c.lr == 2e-5 and c.gen_tokens == 128 and c.budget.kind == "seconds" for c in grid)
    assert all(c.memory_budget_gb == 48 for c in grid)  # the study's A6000, on any GPU


@pytest.mark.parametrize("name", ["smoke", "cpu-demo", "paper", "paper-cpu"])
def test_keys_are_unique_and_name_and_path_agree(name: str) -> None:
    preset = load_preset(name)
    keys = [c.key() for c in preset.grid()]
    assert len(keys) == len(set(keys))
    assert (
        load_preset(str(PRESETS_DIR / f"{name}.toml")) == preset == load_preset(PRESETS_DIR / f"{name}.toml")
    )
    assert preset.name == name and preset.path == PRESETS_DIR / f"{name}.toml"


def test_unknown_name_lists_the_builtin_presets() -> None:
    with pytest.raises(PresetError, match=r"did you mean 'smoke'.*cpu-demo, paper, paper-cpu, smoke"):
        load_preset("smok")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match=re.escape(str(tmp_path / "nope.toml")) + ": cannot read"):
        load_preset(str(tmp_path / "nope.toml"))


# ---- grid semantics -----------------------------------------------------------------------------


def test_exclude_removes_matching_points(tmp_path: Path) -> None:
    preset = load_preset(
        str(write(tmp_path, GRID + '[[exclude]]\nfamily = "bigbird-pegasus"\ninput_len = 256\n'))
    )
    assert [(c.family, c.input_len) for c in preset.grid()] == [
        ("led", 256),
        ("led", 512),
        ("bigbird-pegasus", 512),
    ]


def test_include_keeps_points_matching_any_rule(tmp_path: Path) -> None:
    rules = (
        '[[include]]\nfamily = "led"\ninput_len = [256]\n'
        '[[include]]\nfamily = "bigbird-pegasus"\ninput_len = 512\n'
    )
    preset = load_preset(str(write(tmp_path, GRID + rules)))
    assert [(c.family, c.input_len) for c in preset.grid()] == [("led", 256), ("bigbird-pegasus", 512)]


def test_missing_family_size_pairs_are_skipped(tmp_path: Path) -> None:
    text = '[grid]\nfamilies = ["led", "bigbird-pegasus"]\nsizes = ["base", "large"]\ninput_lens = 1024\n'
    grid = load_preset(str(write(tmp_path, text))).grid()
    assert [(c.family, c.size) for c in grid] == [
        ("led", "base"),
        ("led", "large"),
        ("bigbird-pegasus", "large"),
    ]


def test_lengths_beyond_positions_may_be_excluded(tmp_path: Path) -> None:
    text = '[grid]\nfamilies = "led"\nsizes = ["tiny", "base"]\ninput_lens = [1024, 8192]\n'
    with pytest.raises(PresetError, match="8192 is beyond the 4096 encoder positions of led tiny"):
        load_preset(str(write(tmp_path, text)))
    preset = load_preset(str(write(tmp_path, text + '[[exclude]]\nsize = "tiny"\ninput_len = 8192\n')))
    assert [(c.size, c.input_len) for c in preset.grid()] == [("tiny", 1024), ("base", 1024), ("base", 8192)]


def test_run_settings_reach_every_config(tmp_path: Path) -> None:
    run = (
        '[run]\nphases = ["eval", "train"]\nbudget = { seconds = 3 }\ndevice = "cuda"\ndtype = "bfloat16"\n'
        "repetitions = 2\nmin_window_s = 1\nwarmup = 0\neval_samples = 3\ngen_tokens = 8\nlr = 1e-3\n"
        'seed = 5\nmemory_budget_gb = 12\nweights_path = "ckpt/led"\n'
    )
    grid = load_preset(
        str(write(tmp_path, GRID.replace("[grid]\n", '[grid]\nbatch_sizes = [2, "auto"]\n') + run))
    ).grid()
    assert len(grid) == 8
    c = grid[0]
    assert c.phases == ("train", "eval")  # in the order phases run
    assert c.budget == Budget("seconds", 3.0) and c.device == "cuda" and c.dtype == "bfloat16"
    assert (c.repetitions, c.min_window_s, c.warmup, c.eval_samples, c.gen_tokens) == (2, 1.0, 0, 3, 8)
    assert (c.lr, c.seed, c.memory_budget_gb) == (1e-3, 5, 12.0)
    assert c.weights_path == str(tmp_path / "ckpt" / "led")  # relative to the preset file
    assert {c.batch_size for c in grid} == {2, "auto"}


def test_a_preset_built_in_code_is_checked_by_grid() -> None:
    preset = Preset("mine", "", None, families=("led",), sizes=("tiny",), input_lens=(99999,))
    with pytest.raises(PresetError, match=r"^mine: grid.input_lens: 99999 is beyond"):
        preset.grid()


# ---- the corpus of bad presets ------------------------------------------------------------------


def test_the_corpus_covers_many_error_classes() -> None:
    assert len(BAD_FILES) >= 15


@pytest.mark.parametrize("source", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_preset(tmp_path: Path, source: Path) -> None:
    """Each file's first line says what its one-line error names: `# expect field=F line=N text=T`."""
    m = re.match(rb"# expect field=(\S*) line=(\d+) text=(.+)\n", source.read_bytes())
    assert m, f"{source.name} lacks its expectation line"
    field, line, text = (g.decode() for g in m.groups())
    path = tmp_path / source.name
    shutil.copy(source, path)
    before = path.read_bytes()
    with pytest.raises(PresetError) as err:
        load_preset(str(path))
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: ")
    if field:
        assert f": {field}: " in message
    assert text.lower() in message.lower()
    assert (err.value.field or "") == field and err.value.line == int(line)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [source.name]


# ---- generated bad presets ----------------------------------------------------------------------

GOOD: dict[str, Any] = tomllib.loads((PRESETS_DIR / "cpu-demo.toml").read_text())
GOOD["exclude"] = [{"family": "led", "size": "small", "input_len": 512}]


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def dump(data: dict[str, Any]) -> str:
    """TOML text for a preset-shaped dict: scalars first, then [tables], then [[arrays of tables]]."""
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {
        k: v for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    }
    q = toml_value
    lines = [f"{q(k)} = {q(v)}" for k, v in data.items() if k not in tables and k not in arrays]
    for name, table in tables.items():
        lines += [f"[{q(name)}]", *(f"{q(k)} = {q(v)}" for k, v in table.items())]
    for name, items in arrays.items():
        for item in items:
            lines += [f"[[{q(name)}]]", *(f"{q(k)} = {q(v)}" for k, v in item.items())]
    return "\n".join(lines) + "\n"


def test_dump_round_trips_the_good_preset(tmp_path: Path) -> None:
    assert tomllib.loads(dump(GOOD)) == GOOD
    whole = len(load_preset("cpu-demo").grid())
    assert len(load_preset(str(write(tmp_path, dump(GOOD)))).grid()) == whole - len(GOOD["grid"]["tasks"])


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), text)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
not_str = st.one_of(
    st.booleans(), st.integers(), st.floats(), st.just({}), st.lists(st.integers(), min_size=1, max_size=2)
)
not_int = st.one_of(st.booleans(), st.floats(), text, st.just({"a": 1}))
not_number = st.one_of(
    st.booleans(), text, st.just({"a": 1}), st.lists(st.integers(), min_size=1, max_size=2)
)
not_table = st.one_of(st.booleans(), st.integers(), st.floats(), text, st.lists(st.integers(), max_size=2))
non_positive = st.one_of(st.integers(max_value=0), st.floats(max_value=0.0), st.just(float("nan")))

CHOICES = {
    ("grid", "families"): ("led", "bigbird-pegasus"),
    ("grid", "sizes"): ("tiny", "small", "base", "large"),
    ("grid", "weights"): ("random", "pretrained"),
    ("grid", "tasks"): (
        "synthetic",
        "synthetic-qa",
        "gov_report",
        "summ_screen_fd",
        "qmsum",
        "qasper",
        "quality",
    ),
    ("run", "phases"): PHASES,
    ("run", "device"): ("cpu", "cuda"),
    ("run", "dtype"): ("float32", "bfloat16", "float16"),
}
POSITIVE_INTS = [
    ("grid", "input_lens"),
    ("run", "repetitions"),
    ("run", "eval_samples"),
    ("run", "gen_tokens"),
]
POSITIVE_NUMBERS = [("run", "min_window_s"), ("run", "lr"), ("run", "memory_budget_gb")]
ALLOWED_KEYS = {
    (): ("description", "grid", "run", "include", "exclude"),
    ("grid",): ("families", "sizes", "weights", "tasks", "input_lens", "batch_sizes"),
    ("run",): ("phases", "budget", "device", "dtype", "repetitions", "min_window_s", "warmup", "eval_samples")
    + ("gen_tokens", "lr", "seed", "memory_budget_gb", "weights_path"),
    ("run", "budget"): ("steps", "seconds", "joules"),
}


def put(data: dict[str, Any], place: tuple[str, ...], value: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(data))
    table = out
    for part in place[:-1]:
        table = table.setdefault(part, {})
    table[place[-1]] = value
    return out


@st.composite
def bad_presets(draw: st.DrawFn) -> dict[str, Any]:
    """The good preset with one mutation that always makes it invalid."""
    kind = draw(
        st.sampled_from(["unknown key", "wrong type", "unknown value", "non-positive", "empty", "drop"])
    )
    if kind == "unknown key":
        table = draw(st.sampled_from(list(ALLOWED_KEYS)))
        key = draw(text.filter(lambda k: k not in ALLOWED_KEYS[table]))
        return put(GOOD, (*table, key), draw(values))
    if kind == "wrong type":
        place, bad = draw(
            st.sampled_from(
                [(p, not_str) for p in CHOICES]
                + [(p, not_int) for p in POSITIVE_INTS]
                + [(p, not_number) for p in POSITIVE_NUMBERS]
                + [(("grid", "batch_sizes"), st.one_of(not_int, text.filter(lambda s: s != "auto")))]
                + [
                    (("run", "budget"), not_table),
                    (("grid",), not_table),
                    (("run",), not_table),
                    (("description",), not_str),
                ]
            )
        )
        return put(GOOD, place, draw(bad))
    if kind == "unknown value":
        place = draw(st.sampled_from(list(CHOICES)))
        return put(GOOD, place, [draw(text.filter(lambda s: s not in CHOICES[place]))])
    if kind == "non-positive":
        place = draw(st.sampled_from(POSITIVE_INTS + POSITIVE_NUMBERS + [("run", "budget")]))
        value = draw(non_positive if place in POSITIVE_NUMBERS else st.integers(max_value=0))
        return put(GOOD, place, {"steps": value} if place == ("run", "budget") else value)
    if kind == "empty":
        return put(
            GOOD, draw(st.sampled_from([*CHOICES, ("grid", "input_lens"), ("grid", "batch_sizes")])), []
        )
    data = json.loads(json.dumps(GOOD))
    del data["grid"][draw(st.sampled_from(["families", "sizes", "input_lens"]))]
    return data


def load_text(path: Path, text: str | bytes) -> Preset | PresetError:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    try:
        return load_preset(str(path))
    except PresetError as e:
        message = str(e)
        assert "\n" not in message and message.startswith(str(path))
        return e


SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(data=bad_presets())
def test_generated_bad_presets_always_give_preset_error(tmp_path: Path, data: dict[str, Any]) -> None:
    assert isinstance(load_text(tmp_path / "gen.toml", dump(data)), PresetError)


@SETTINGS
@given(place=st.sampled_from([(*t, k) for t, keys in ALLOWED_KEYS.items() for k in keys]), value=values)
def test_any_value_anywhere_gives_a_preset_or_preset_error(
    tmp_path: Path, place: tuple[str, ...], value: Any
) -> None:
    result = load_text(tmp_path / "gen.toml", dump(put(GOOD, place, value)))
    if isinstance(result, Preset):
        assert result.grid()


@SETTINGS
@given(cut=st.integers(0, 2000), insert=st.text(max_size=5) | st.binary(max_size=5))
def test_edited_text_gives_a_preset_or_preset_error(tmp_path: Path, cut: int, insert: str | bytes) -> None:
    good = dump(GOOD).encode()
    cut %= len(good)
    edited = (
        good[:cut]
        + (insert if isinstance(insert, bytes) else insert.encode("utf-8", "surrogatepass"))
        + good[cut + 1 :]
    )
    result = load_text(tmp_path / "gen.toml", edited)
    if isinstance(result, Preset):
        assert result.grid()


def test_the_run_settings_are_runconfigs_each_with_a_check() -> None:
    from dataclasses import MISSING, fields

    from engine.config import RunConfig
    from engine.preset import _RUN, _RUN_TABLES, RunSettings, check_key

    own = {f.name for f in fields(RunConfig)} - {f.name for f in fields(RunSettings)}
    assert own == {"family", "size", "input_len", "task", "weights", "batch_size", "data_path", "arch"}
    for f in fields(RunSettings):  # a new RunConfig setting needs its check in _RUN
        assert f.name in _RUN or f.name in _RUN_TABLES, f"{f.name}: no check in engine.preset._RUN"
        default = next(g for g in fields(RunConfig) if g.name == f.name)
        assert f.default == (
            default.default if default.default_factory is MISSING else default.default_factory()
        )
    assert Preset("p", "", None, ("led",), ("tiny",), (256,)).grid()[0] == RunConfig("led", "tiny", 256)
    assert check_key("batch_sizes", [4, "auto"]) == (4, "auto")
    with pytest.raises(ValueError, match=r"^0 is too small \(allowed: a positive integer\)$"):
        check_key("repetitions", 0)
