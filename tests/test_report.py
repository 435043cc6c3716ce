"""The Rich report and its exports: figures, measured and predicted rows, sources, formats, boundaries.

Records are built from the engine's dataclasses with figures generated from the analytic features,
so that the cost model fitted on them gives real predictions for the grid points not measured.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from costmodel import Estimate, Prediction, fit_model, held_out_errors, pareto_front
from costmodel.features import features
from engine import archs
from engine.config import Budget, RunConfig
from engine.record import Energy, Failure, PhaseResult, Record, Timing
from engine.rows import grid_rows
from tui.export import check_export_path, export, prediction_dict, render
from tui.points import Point, batch_label, row_label
from tui.report import build_report, fmt

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "hardware": "Test CPU 9000",
    "device": "cpu",
    "threads": 2,
    "cores": 4,
    "idle_power_w": 12.5,
    "python": "3.11.9",
    "torch": "2.9.0",
    "transformers": "5.24.0",
    "fingerprint": "fp0123456789",
}
STEPS = 10
SIZES = [("led", "tiny"), ("led", "small"), ("bigbird-pegasus", "tiny"), ("bigbird-pegasus", "small")]
LENGTHS = (256, 512, 1024)
ERROR = "RuntimeError: CPU out of memory: tried to allocate 2.00 GiB\n" + "x" * 200 + " END OF ERROR"


def _config(family: str, size: str, n: int, task: str = "synthetic") -> RunConfig:
    return RunConfig(family, size, n, task=task, batch_size=2, budget=Budget("steps", STEPS))


def _timing(median: float) -> Timing:
    return Timing(median, 0.95 * median, 1.1 * median, 0.05 * median, 7, 1.0)


def _energy(joules: float, seconds: float) -> Energy:
    idle = ENV["idle_power_w"]
    return Energy(joules, joules - idle * seconds, "estimate", joules / seconds, idle, seconds)


def make_record(config: RunConfig, rng: np.random.Generator) -> Record:
    """A successful record whose figures follow the cost model's forms, with a little noise."""
    dims = archs.dims(config.family, config.size)
    row = {**dims, "family": config.family, "input_len": config.input_len, "batch_size": config.batch_size}

    def noisy(x: float) -> float:
        return x * math.exp(rng.normal(0, 0.02))

    enc, gen, train = (features(row, phase) for phase in ("encode", "infer", "train"))
    enc_s = noisy(0.002 + enc.f_dense / 2e10 + enc.f_attn / 5e9)
    gen_s = noisy(0.01 + gen.f_dense / 2e10 + gen.f_attn / 5e9 + gen.f_dec / 1e9)
    step_s = noisy(0.02 + train.f_dense / 1.5e10 + train.f_attn / 4e9)
    z = (0.3 if config.family == "led" else -0.3) + 1.5 * (math.log(config.input_len) - 6.2)
    z += 0.8 * (math.log(enc.params) - 13.5)
    accuracy = 0.6 / (1 + math.exp(-z)) + rng.normal(0, 0.005)
    metrics = (
        {"f1": accuracy, "exact_match": accuracy / 2}
        if config.task == "synthetic-qa"
        else {
            "rouge1": accuracy * 1.2,
            "rouge2": accuracy * 0.8,
            "rougeL": accuracy,
            "rouge_mean": accuracy,
        }
    )
    phases = (
        PhaseResult(
            "train",
            step_s * STEPS,
            None,
            _energy(noisy(30 * step_s * STEPS), step_s * STEPS),
            noisy(200 + 4e-6 * train.weight_bytes + 1e-6 * train.act_bytes),
            figures={"steps": STEPS, "final_loss": 3.2},
        ),
        PhaseResult(
            "infer",
            1.5,
            _timing(enc_s),
            _energy(noisy(25 * enc_s), enc_s),
            noisy(150 + 1e-6 * enc.weight_bytes + 2e-6 * gen.act_bytes),
            "sliding",
            {
                "gen_median_s": gen_s,
                "gen_p10_s": 0.9 * gen_s,
                "gen_p90_s": 1.2 * gen_s,
                "gen_energy_j": noisy(25 * gen_s),
            },
        ),
        PhaseResult("eval", 2.0, None, _energy(60.0, 2.0), 160.0, "sliding", {"samples": 8, **metrics}),
    )
    return Record(
        config, dims, config.input_len, 2, phases, metrics, ENV, created="2026-01-01T00:00:00+00:00"
    )


def failed_record(config: RunConfig) -> Record:
    return Record(
        config,
        archs.dims(config.family, config.size),
        config.input_len,
        2,
        env=ENV,
        failure=Failure("train", "oom", ERROR),
    )


@pytest.fixture(scope="module")
def data() -> dict:
    """Measured and failed records, the grid (measured points, longer inputs, a larger size) and a fit."""
    rng = np.random.default_rng(0)
    measured = [_config(f, s, n) for f, s in SIZES for n in LENGTHS]
    measured += [_config("led", s, n, "synthetic-qa") for s in ("tiny", "small") for n in (256, 1024)]
    failed = _config("led", "small", 2048)
    records = [make_record(c, rng) for c in measured] + [failed_record(failed)]
    rows = [r.flat() for r in records]
    grid_configs = measured + [_config(f, s, 2048) for f, s in SIZES] + [_config("led", "base", 1024)]
    grid = grid_rows(grid_configs, ENV)
    model = fit_model([r for r in rows if r["status"] == "ok"], n_boot=30)
    predictions = model.predict(grid, rows)
    return {"records": records, "rows": rows, "grid": grid, "model": model, "predictions": predictions}


@pytest.fixture(scope="module")
def report(data) -> list:
    return build_report(
        title="preset test",
        rows=data["rows"],
        predictions=data["predictions"],
        model=data["model"],
        env=ENV,
        notes=["resumed: 3 configurations were already stored"],
    )


@pytest.fixture(scope="module")
def text(report) -> str:
    return render(report, ".txt")  # the exports' default width, 140


def _exported(tmp_path: Path, name: str, report, data) -> str:
    path = export(
        tmp_path / name,
        report,
        records=[r.to_dict() for r in data["records"]],
        rows=data["rows"],
        predictions=data["predictions"],
    )
    assert path == tmp_path / name and not list(tmp_path.glob(".*.tmp"))
    return path.read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (0.0, "0"),
        (12.34, "12.3"),
        (13.0, "13.0"),
        (0.5, "0.500"),
        (999.7, "1,000"),
        (1234.5, "1,230"),
        (12345, "12.3k"),
        (4.567e6, "4.57M"),
        (1.5e-4, "1.50e-04"),
    ],
)
def test_numbers_have_three_significant_figures(value, shown):
    assert fmt(value) == shown


# ----------------------------------------------------------------------------------------- content


def test_header_names_hardware_counts_versions_and_says_the_energy_is_an_estimate(text):
    assert "preset test" in text and "Test CPU 9000" in text
    assert "an ESTIMATE, not a measurement" in text
    assert "12.5 W" in text
    assert "21 points: 16 measured, 5 predicted; 1 failed when measured" in text
    assert "torch 2.9.0" in text and "transformers 5.24.0" in text
    assert "resumed: 3 configurations were already stored" in text


def test_measured_rows_show_their_figures_with_the_spread(data, text):
    row = next(r for r in data["rows"] if r["status"] == "ok" and r["task"] == "synthetic")
    for value in (
        row["infer_median_s"] * 1e3,
        row["infer_p10_s"] * 1e3,
        row["infer_p90_s"] * 1e3,
        row["infer_gen_median_s"] * 1e3,
        row["train_seconds"],
        row["train_energy_j"],
        row["infer_energy_j"],
        row["rouge_mean"],
    ):
        assert fmt(value) in text, value
    assert "measured" in text and "estimate" in text
    assert "accuracy: rouge_mean (synthetic), f1 (synthetic-qa)" in text


def test_predicted_rows_show_the_model_value_interval_and_extrapolation(data, report, text):
    point = next(p for p in data["predictions"] if p.row["size"] == "base")
    assert point.kind == "predicted" and point.extrapolated
    est = point.get("infer_latency")
    assert f"~{fmt(est.value * 1e3)}†" in text
    assert f"{fmt(est.low * 1e3)}–{fmt(est.high * 1e3)}" in text
    assert "predicted" in text and "extrap." in text
    wide = render(report, ".txt", width=220)  # status and source cells on one line
    assert "not measured" in wide and "of estimate" in wide


def test_failed_rows_show_their_reason_truncated_and_their_prediction(text):
    assert "failed [1]" in text and "train oom" in text
    assert "[1] led-small synthetic n=2048 b=2: train: oom: RuntimeError: CPU out of memory" in text
    assert "END OF ERROR" not in text


def test_validation_pareto_and_held_out_checks(data, text):
    assert "Cost model validation" in text
    for fit in data["model"].fits:
        assert fit.quantity in text
    loco = data["model"].fits[0].validation.loco
    assert f"{fmt(loco.median)}%" in text
    assert "Pareto frontier" in text and "J/sample" in text and "ms/sample" in text


def test_a_rate_measured_on_the_machine_is_marked_where_a_fit_uses_it(data):
    rows = [{**r, "fault_s_per_byte": 4.8e-10} for r in data["rows"] if r["status"] == "ok"]
    model = fit_model(rows, n_boot=20)  # no row holds a block of 32 MiB: the rate is not fitted
    out = render(build_report(title="t", rows=data["rows"], predictions=[], model=model), ".txt")
    assert re.search(r"infer_latency\*?‡", out) and "measured on the machine (0.48 ns/B)" in out
    assert "‡" not in render(build_report(title="t", rows=data["rows"], model=data["model"]), ".txt")


def test_nothing_is_cut_short_at_the_default_width(text):
    assert max(len(line) for line in text.splitlines()) <= 140
    assert text.count("…") == 1  # the failed row's long error only


def test_a_narrow_console_gets_one_block_per_point_with_every_figure(data, report):
    narrow = render(report, ".txt", width=80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert narrow.count("…") == 1
    row = next(r for r in data["rows"] if r["status"] == "ok")
    assert f"{fmt(row['infer_median_s'] * 1e3)} {fmt(row['infer_p10_s'] * 1e3)}–" in narrow
    est = next(p for p in data["predictions"] if p.row["size"] == "base").get("infer_energy")
    assert f"~{fmt(est.value)}† {fmt(est.low)}–{fmt(est.high)}" in narrow
    words = " ".join(narrow.split())  # heading lines may wrap
    assert "led base n=1024 b=2 synthetic · predicted, extrap., low conf. · not measured" in words
    assert "· ok · energy: estimate" in words
    assert "· failed [1] train oom · energy: model of estimate" in words


def test_predictions_at_measured_points_not_fitted_on_are_checked(data):
    fit_rows = [r for r in data["rows"] if r["status"] == "ok" and r["input_len"] != 512]
    predictions = fit_model(fit_rows, n_boot=20).predict(data["grid"], data["rows"])
    out = render(build_report(title="t", rows=data["rows"], predictions=predictions), ".txt")
    assert "Predictions checked against measurements the model was not fitted on" in out
    held = held_out_errors(predictions, "infer_latency")
    assert held.points == 4
    assert re.search(
        rf"infer_latency\W+4\W+{re.escape(fmt(held.median))}%\W+{re.escape(fmt(held.worst))}%", out
    )


@pytest.mark.parametrize(("unit", "quantity"), [("J/sample", "infer_energy"), ("ms/sample", "infer_latency")])
def test_the_pareto_section_lists_the_cost_models_frontier(data, text, unit, quantity):
    synthetic = [p for p in data["predictions"] if p.row["task"] == "synthetic"]
    expected = [row_label(p.row) for p in pareto_front(synthetic, quantity)]
    section = text[text.index("Pareto frontier") :]
    listed = re.findall(rf"^ (led-\S+ synthetic n=.+? b=2) +\w+ +[\d.]+ +[\d.,]+ {unit} *$", section, re.M)
    assert listed == expected and len(listed) >= 3


def test_fits_that_could_not_be_made_are_listed_once(data):
    model = fit_model([r for r in data["rows"] if r["status"] == "ok" and r["family"] == "led"][:3], n_boot=5)
    assert model.problems
    out = render(
        build_report(title="t", rows=data["rows"][:3], model=model, notes=list(model.problems)),
        ".txt",
        width=200,
    )
    assert out.count(model.problems[0][:60]) == 1
    assert "could not fit" in out


def test_a_report_without_predictions_shows_measured_rows_only(data):
    out = render(build_report(title="stored", rows=data["rows"]), ".txt", width=200)
    assert "17 points: 16 measured; 1 failed when measured" in out
    assert " failed     " in out and "[1] led-small synthetic n=2048 b=2: train: oom" in out
    assert "~" not in out and "Cost model validation" not in out
    assert "Pareto frontier" in out


def test_build_report_prints_nothing(data, capsys):
    build_report(title="t", rows=data["rows"], predictions=data["predictions"], model=data["model"])
    assert capsys.readouterr() == ("", "")


# ----------------------------------------------------------------------------------------- exports


def test_text_html_and_svg_exports_contain_the_figures(tmp_path, report, data):
    row = data["rows"][0]
    figures = (fmt(row["infer_median_s"] * 1e3), fmt(row["infer_energy_j"]), "estimate", "predicted")
    for name in ("r.txt", "r.html", "r.svg"):
        out = _exported(tmp_path, name, report, data)
        for figure in figures:
            assert figure in out, (name, figure)
    html = _exported(tmp_path, "again.html", report, data)
    assert html.lstrip().startswith("<!DOCTYPE html>") and "font-style: italic" in html
    assert "<svg" in _exported(tmp_path, "again.svg", report, data)


def test_json_export_holds_the_full_records_and_the_predictions(tmp_path, report, data):
    out = json.loads(_exported(tmp_path, "r.json", report, data))
    assert set(out) == {"generated", "records", "predictions", "findings"}
    assert len(out["records"]) == len(data["records"])
    assert [Record.from_dict(r) for r in out["records"]] == data["records"]
    assert len(out["predictions"]) == len(data["grid"])
    first = data["predictions"][0]
    got = out["predictions"][0]
    assert got["key"] == first.row["key"] and got["kind"] == first.kind
    est = first.get("infer_latency")
    assert got["estimates"]["infer_latency"] == {
        "value": est.value,
        "low": est.low,
        "high": est.high,
        "extrapolated": est.extrapolated,
        "measured": est.measured,
    }
    assert got["batch_request"] == first.row.get("batch_request") and got["batch"] is None  # a fixed batch


def test_json_export_holds_the_batch_predicted_for_an_auto_point():
    row = {"key": "a", "family": "led", "batch_request": "auto", "batch_size": None}
    p = Prediction(row, "predicted", {}, batch=Estimate(7.6, 5.2, 9.8, extrapolated=False))
    got = prediction_dict(p)
    assert got["batch_request"] == "auto" and got["batch_size"] is None
    assert got["batch"] == {"value": 7.6, "low": 5.2, "high": 9.8, "extrapolated": False, "measured": None}


def test_json_export_of_rows_alone_and_non_finite_numbers(tmp_path):
    rows = [{"key": "a", "family": "led", "status": "ok", "infer_median_s": float("nan")}]
    path = export(tmp_path / "r.json", [], rows=rows)
    out = json.loads(path.read_text())
    assert out["records"] == [] and out["predictions"] == []
    assert out["rows"] == [{**rows[0], "infer_median_s": None}]


def test_csv_export_has_one_line_per_grid_point(tmp_path, report, data):
    lines = list(csv.DictReader(io.StringIO(_exported(tmp_path, "r.csv", report, data))))
    assert len(lines) == len(data["grid"])
    kinds = [line["kind"] for line in lines]
    assert kinds.count("measured") == 16 and kinds.count("predicted") == 5
    by_key = {line["key"]: line for line in lines}
    measured = next(r for r in data["rows"] if r["status"] == "ok")
    assert float(by_key[measured["key"]]["infer_median_s"]) == measured["infer_median_s"]
    failed = next(r for r in data["rows"] if r["status"] == "failed")
    assert by_key[failed["key"]]["failure_kind"] == "oom"
    assert by_key[failed["key"]]["kind"] == "predicted"
    point = next(p for p in data["predictions"] if p.row["size"] == "base")
    line = by_key[point.row["key"]]
    assert float(line["predicted_infer_energy"]) == point.get("infer_energy").value
    assert line["predicted_infer_energy_extrapolated"] == "True"
    assert line["infer_median_s"] == ""


def test_a_bad_extension_raises_one_line_naming_the_formats(tmp_path):
    for name in ("report.xlsx", "report", "report.json.bak"):
        with pytest.raises(ValueError, match=r"allowed: \.html, \.svg, \.txt, \.json, \.csv") as info:
            export(tmp_path / name, [])
        assert "\n" not in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_check_export_path_validates_without_creating_anything(tmp_path):
    check_export_path(tmp_path / "r.HTML")
    with pytest.raises(ValueError, match="does not exist"):
        check_export_path(tmp_path / "missing" / "r.txt")
    (tmp_path / "d.txt").mkdir()
    with pytest.raises(ValueError, match="is a directory"):
        check_export_path(tmp_path / "d.txt")
    assert [p.name for p in tmp_path.iterdir()] == ["d.txt"]


def test_export_replaces_an_existing_file(tmp_path, report, data):
    path = tmp_path / "r.txt"
    path.write_text("old")
    assert "Results" in _exported(tmp_path, "r.txt", report, data)


def test_report_and_export_import_no_torch_textual_or_transformers():
    """They share costmodel.quantities (standard library only), never the fits' numpy and scipy."""
    code = (
        "import sys, tui.report, tui.export; "
        "bad = sorted({'torch', 'textual', 'transformers', 'engine', 'numpy', 'scipy'} "
        "& {m.split('.')[0] for m in sys.modules}); assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_header_says_how_many_passes_were_combined_and_how_far_they_disagreed(data, text):
    rows = [
        {**r, "infer_passes": 3, "infer_pass_spread": 0.1 * (i % 3 + 1)} if r["status"] == "ok" else r
        for i, r in enumerate(data["rows"])
    ]
    out = render(build_report(title="t", rows=rows), ".txt", width=200)
    assert "3 interleaved passes per configuration, median kept" in out
    assert re.search(r"infer time differed between passes by a median \d+% \(worst 30%\)", out)
    assert "interleaved passes" not in text  # one pass each: nothing to say


def test_a_gpu_run_metered_on_the_cpu_only_says_so_and_why(data):
    """estimate-cpu-only is an estimate (engine.record.is_estimate), named as missing the GPU, and the
    sources the meter could not use are listed."""
    rows = [
        {**r, "energy_source": "estimate-cpu-only", "energy_estimated": True} if r["status"] == "ok" else r
        for r in data["rows"]
    ]
    env = {**ENV, "energy_fallbacks": ["nvml-counter: NVML not found", "rapl: /sys/class/powercap absent"]}
    out = render(build_report(title="gpu", rows=rows, env=env), ".txt", width=200)
    assert "an ESTIMATE of the CPU only (TDP x utilisation): the GPU's energy is MISSING" in out
    assert "not used: nvml-counter: NVML not found; rapl: /sys/class/powercap absent" in out
    assert "unknown source" not in out


def test_flat_rows_say_whether_their_energy_is_estimated(data):
    rows = [r for r in data["rows"] if r["status"] == "ok"]
    assert rows and all(r["energy_source"] == "estimate" and r["energy_estimated"] for r in rows)


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(tmp_path, report, data):
    rows = [{**data["rows"][0], "error": '=HYPERLINK("http://x","y")', "task": "@SUM(A1)"}]
    path = export(tmp_path / "r.csv", report, rows=rows)
    line = next(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert line["error"] == '\'=HYPERLINK("http://x","y")' and line["task"] == "'@SUM(A1)"
    assert float(line["infer_median_s"]) == data["rows"][0]["infer_median_s"]


def test_a_batch_reads_as_run_as_predicted_for_auto_or_as_asked():
    auto = {"family": "led", "size": "tiny", "input_len": 512, "batch_request": "auto", "batch_size": None}
    predicted = Prediction(auto, "predicted", {}, batch=Estimate(7.6, 5.2, 9.8, extrapolated=False))
    assert batch_label(Point(auto, predicted)) == "auto ~8 [5–10]"
    assert batch_label(Point(auto)) == "auto"  # nothing predicted it
    assert batch_label(Point({**auto, "batch_size": 6, "status": "ok"})) == "6 auto"
    assert batch_label(Point({**auto, "batch_request": 4, "batch_size": 4})) == "4"
