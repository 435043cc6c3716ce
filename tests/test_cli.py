"""The command line: one-line errors with exit 2 and nothing written, --help without torch, exports."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.store import Store
from tests.faults import fake_record
from tui.cli import main

BAD = sorted((Path(__file__).parent / "bad_presets").glob("*.toml"))


def test_help_answers_without_importing_torch_or_textual():
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "bad = {'torch', 'textual', 'transformers'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "--preset" in out.stdout


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_preset_one_line_exit_2_nothing_written(path, tmp_path, capsys):
    db = tmp_path / "results.sqlite"
    assert main(["--preset", str(path), "--db", str(db), "--export", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--preset", "smoke", "--export", "r.pdf"], "allowed"),
        (["--preset", "smoke", "--export", "/no/such/dir/r.json"], "/no/such/dir"),
        (["--preset", "smoke", "--sample", "0"], "--sample"),
        (["--preset", "smoke", "--timeout", "-1"], "--timeout"),
        (["--preset", "no-such-preset"], "no-such-preset"),
    ],
)
def test_bad_flags_one_line_exit_2(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--db", str(tmp_path / "r.sqlite")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err
    assert list(tmp_path.iterdir()) == []


def test_foreign_database_is_refused_and_left_untouched(tmp_path, capsys):
    db = tmp_path / "notes.sqlite"
    db.write_text("not a database\n")
    assert main(["--preset", "smoke", "--db", str(db)]) == 2
    assert "notes.sqlite" in capsys.readouterr().err
    assert db.read_text() == "not a database\n"


def test_presets_lists_the_built_in_ones(capsys):
    assert main(["presets"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"smoke", "cpu-demo", "paper"} <= set(names)


@pytest.fixture
def stored(tmp_path):
    """A database holding fake records of the cpu-demo grid at a fixed batch (LED measured, BigBird
    not), and that grid's preset file."""
    from engine.preset import load_preset
    from tests.test_app_fakes import fixed_batch_demo

    db, demo = tmp_path / "r.sqlite", str(fixed_batch_demo(tmp_path))
    grid = load_preset(demo).grid()
    with Store(db, create=True) as store:
        for config in grid:
            if config.family == "led":
                store.put(
                    fake_record(config, env={"hardware": "test-cpu", "device": "cpu", "fingerprint": "fp"})
                )
    return db, grid, demo


def test_report_exports_parse_back_and_hold_the_figures(stored, tmp_path):
    db, grid, demo = stored
    outs = {ext: tmp_path / f"r.{ext}" for ext in ("json", "csv", "html", "svg", "txt")}
    argv = ["report", "--db", str(db), "--preset", demo]
    for path in outs.values():
        argv += ["--export", str(path)]
    assert main(argv) == 0
    data = json.loads(outs["json"].read_text())
    assert len(data["records"]) == sum(c.family == "led" for c in grid)
    assert {r["config"]["family"] for r in data["records"]} == {"led"}
    rows = list(csv.DictReader(outs["csv"].open()))
    assert len(rows) == len(grid)
    some = fake_record(grid[0]).flat()
    for ext in ("html", "svg", "txt"):
        text = outs[ext].read_text()
        assert "led" in text and "estimate" in text, ext
        assert f"{1000 * some['infer_median_s']:.3g}" in text.replace("&#160;", " "), ext


def test_predict_fits_on_a_subset_and_reports_held_out_error(stored, capsys):
    db, _, demo = stored
    assert main(["predict", "--db", str(db), "--preset", demo, "--fit-on", "input_len != 256"]) == 0
    out = capsys.readouterr().out
    assert "outside the fit" in out


def test_predict_bad_expression_is_a_usage_error(stored, capsys):
    db, _, demo = stored
    assert main(["predict", "--db", str(db), "--preset", demo, "--fit-on", "import os"]) == 2
    assert "--fit-on" in capsys.readouterr().err


def test_sample_measures_a_subset_and_predicts_the_rest(tmp_path, monkeypatch, capsys):
    import functools

    from engine import sweep

    monkeypatch.setattr(sweep, "run", functools.partial(sweep.run, target="tests.faults:measure_job"))
    preset = tmp_path / "grid.toml"
    preset.write_text(
        'description = "sampled"\n[grid]\nfamilies = ["led"]\nsizes = ["tiny", "small"]\n'
        'input_lens = [128, 256, 384, 512, 640, 768]\n[run]\nphases = ["infer"]\n'
    )
    db = tmp_path / "r.sqlite"
    out_json = tmp_path / "r.json"
    assert main(["--preset", str(preset), "--db", str(db), "--sample", "6", "--export", str(out_json)]) == 0
    with Store(db) as store:
        assert len(store.records()) == 6
    data = json.loads(out_json.read_text())
    kinds = [p["kind"] for p in data["predictions"]]
    assert kinds.count("measured") == 6 and kinds.count("predicted") == 6
    assert "measuring 6 and predicting the rest" in capsys.readouterr().out
