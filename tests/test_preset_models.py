"""Sizes a preset defines ([models.NAME]): by their dimensions or a config.json, run like built-in ones."""

import json

import pytest

from costmodel import fit_model
from engine.config import RunConfig
from engine.preset import PresetError, load_preset
from engine.runner import measure
from tests.test_costmodel import grid
from tests.test_costmodel import measure as measured_rows
from tui.cli import main

MID = """
[models.led-mid]
family = "led"
d_model = 96
encoder_layers = 3
decoder_layers = 3
heads = 4
ffn_dim = 384
vocab_size = 1024
attention_window = 64
"""
GRID = """
[grid]
families = ["led", "bigbird-pegasus"]
sizes = ["tiny", "led-mid"]
input_lens = [128, 256]
[run]
phases = ["infer"]
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_size_defined_by_its_dimensions_joins_the_grid_of_its_family(tmp_path):
    configs = load_preset(write(tmp_path, GRID + MID)).grid()
    mid = [c for c in configs if c.size == "led-mid"]
    assert {c.family for c in mid} == {"led"} and len(mid) == 2  # not paired with bigbird-pegasus
    assert dict(mid[0].arch)["d_model"] == 96 and dict(mid[0].arch)["max_encoder_positions"] == 4096
    assert len({c.key() for c in configs}) == len(configs) == 6
    tiny = next(c for c in configs if c.size == "tiny")
    assert tiny.arch == () and RunConfig.from_dict(mid[0].to_dict()) == mid[0]


def test_a_size_from_a_hugging_face_config_json(tmp_path):
    config = {
        "model_type": "bigbird_pegasus",
        "d_model": 64,
        "encoder_layers": 2,
        "decoder_layers": 1,
        "encoder_attention_heads": 2,
        "encoder_ffn_dim": 128,
        "vocab_size": 512,
        "block_size": 16,
        "num_random_blocks": 2,
        "max_position_embeddings": 1024,
    }
    (tmp_path / "bb").mkdir()
    (tmp_path / "bb" / "config.json").write_text(json.dumps(config))
    text = GRID.replace('"led-mid"', '"bb-own"') + '[models.bb-own]\nconfig = "bb/config.json"\n'
    (own,) = [c for c in load_preset(write(tmp_path, text)).grid() if c.size == "bb-own"][:1]
    dims = dict(own.arch)
    assert own.family == "bigbird-pegasus"
    assert (dims["heads"], dims["num_random_blocks"], dims["max_encoder_positions"]) == (2, 2, 1024)


@pytest.mark.parametrize(
    "change, field, problem",
    [
        (("d_model = 96", "d_model = 90"), "models.led-mid.heads", "not divisible by 4 heads"),
        (("ffn_dim = 384", "ffn_dim = 0"), "models.led-mid.ffn_dim", "0 is too small"),
        (("attention_window = 64", "attention_window = 63"), "models.led-mid.attention_window", "63 is odd"),
        (('family = "led"', 'family = "t5"'), "models.led-mid.family", "unknown value 't5'"),
        (("heads = 4\n", ""), "models.led-mid.heads", "missing"),
    ],
)
def test_bad_dimensions_get_one_line_and_exit_2(tmp_path, capsys, change, field, problem):
    path = write(tmp_path, GRID + MID.replace(*change))
    with pytest.raises(PresetError) as info:
        load_preset(path)
    assert field in str(info.value) and problem in str(info.value) and "\n" not in str(info.value)
    assert main(["predict", "--preset", str(path), "--db", str(tmp_path / "x.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and problem in err
    assert not (tmp_path / "x.sqlite").exists()


def test_a_preset_size_is_measured_on_the_random_weights_path(tmp_path):
    (config,) = [c for c in load_preset(write(tmp_path, GRID + MID)).grid() if c.size == "led-mid"][:1]
    config = RunConfig.from_dict(
        {**config.to_dict(), "repetitions": 1, "min_window_s": 0.01, "gen_tokens": 4}
    )
    record = measure(config, idle_w=0.5)
    assert record.status == "ok", record.failure
    row = record.flat()
    assert (row["d_model"], row["encoder_layers"], row["checkpoint"]) == (96, 3, "random")
    assert row["infer_median_s"] > 0


def test_leave_one_size_out_includes_a_preset_size():
    mid = {"d_model": 96, "encoder_layers": 3, "decoder_layers": 3, "heads": 4, "ffn_dim": 384}
    mid |= {
        "vocab_size": 1024,
        "attention_window": 64,
        "max_encoder_positions": 4096,
        "max_decoder_positions": 1024,
    }
    rows = measured_rows(grid(sizes=[("led", "tiny"), ("led", "small"), ("bigbird-pegasus", "small")]))
    rows += measured_rows([{**r, "size": "led-mid", **mid} for r in grid(sizes=[("led", "tiny")])], seed=1)
    fit = fit_model(rows, quantities=("infer_latency",), n_boot=20).fits[0]
    assert fit.validation.loso.folds == 4  # tiny, small, bigbird-pegasus small and led-mid each left out


def test_a_saved_preset_keeps_its_own_sizes_and_its_executor(tmp_path):
    from dataclasses import replace

    from engine.preset_file import save_preset

    preset = load_preset(write(tmp_path, GRID + 'executor = "ray"\n' + MID))
    saved = save_preset(preset, tmp_path / "saved.toml")
    assert saved.models == preset.models and saved.executor == "ray"
    assert replace(saved, name=preset.name, path=preset.path) == preset
    assert saved.grid() == preset.grid()
