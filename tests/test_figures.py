"""Figures on constructed rows: the SVG parses, has one id per drawn point, and the ids are the rows' keys."""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

pytest.importorskip("matplotlib")

from costmodel.findings import findings, points  # noqa: E402
from costmodel.predict import fit_model  # noqa: E402
from tests.test_costmodel import config, measure  # noqa: E402
from tests.test_findings import size_length_case  # noqa: E402
from tui import figures  # noqa: E402

LENGTHS = (256, 512, 1024)


def ids(svg: str, prefix: str) -> list[str]:
    """Every id in the SVG that starts with `prefix` (the SVG must parse)."""
    root = ET.fromstring(svg)
    return [e.get("id") for e in root.iter() if (e.get("id") or "").startswith(prefix)]


def point_keys(svg: str) -> list[str]:
    return [i.removeprefix("point-") for i in ids(svg, "point-")]


@pytest.fixture(scope="module")
def cost_rows():
    grid = [config(f, s, n, 2) for f, s in (("led", "tiny"), ("led", "small")) for n in LENGTHS]
    rows = measure(grid, seed=4)
    for i, r in enumerate(rows):
        r["key"] = f"k{i}"
        r["status"] = "ok"
        r["infer_gen_p10_s"] = 0.9 * r["infer_gen_median_s"]
        r["infer_gen_p90_s"] = 1.2 * r["infer_gen_median_s"]
    return rows


@pytest.fixture(scope="module")
def model(cost_rows):
    return fit_model(cost_rows[:-1], quantities=("gen_latency", "gen_energy"), n_boot=30)


def test_accuracy_energy_draws_one_id_per_point_with_its_interval_and_the_front(tmp_path):
    rows, scores = size_length_case(30, 110.0, 14, 200.0)
    ps = points(rows, metric="rouge_mean", scores=scores)
    svg = figures.accuracy_energy(ps, metric="rouge_mean", path=tmp_path / "a.svg")
    assert sorted(point_keys(svg)) == sorted(r["key"] for r in rows)
    assert sorted(ids(svg, "interval-")) == sorted(f"interval-{r['key']}" for r in rows)
    assert ids(svg, "front") == ["front"]
    assert (tmp_path / "a.svg").read_text() == svg
    figures.accuracy_energy(ps, path=tmp_path / "a.png")
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figures.accuracy_energy(ps, metric="rouge_mean") == svg  # the same figure gives the same SVG


def test_the_pareto_front_keeps_the_points_no_other_beats():
    rows, scores = size_length_case(30, 110.0, 14, 200.0)
    ps = points(rows, metric="rouge_mean", scores=scores)
    assert [(p.size, p.input_len) for p in figures.front(ps)] == [("tiny", 256), ("small", 256)]


def test_a_point_without_per_example_scores_has_no_bar():
    rows, _ = size_length_case(30, 110.0, 14, 200.0)
    svg = figures.accuracy_energy(points(rows, metric="rouge_mean"))
    assert len(point_keys(svg)) == 3 and ids(svg, "interval-") == []


def test_cost_against_length_draws_the_measured_points_the_fit_its_band_and_the_extrapolated_region(
    cost_rows, model
):
    svg = figures.cost_against_length(cost_rows, model, family="led", size="small", quantity="gen_latency")
    mine = [r["key"] for r in cost_rows if r["size"] == "small"]
    assert sorted(point_keys(svg)) == sorted(mine)
    assert sorted(ids(svg, "interval-")) == sorted(f"interval-{k}" for k in mine)
    assert ids(svg, "fit") == ["fit-b2"] and ids(svg, "band") == ["band-b2"]
    assert ids(svg, "extrapolated") == ["extrapolated"]  # beyond 1024, the longest measured
    energy = figures.cost_against_length(cost_rows, model, family="led", size="tiny", quantity="gen_energy")
    assert sorted(point_keys(energy)) == sorted(r["key"] for r in cost_rows if r["size"] == "tiny")
    assert ids(energy, "interval-") == []  # energy has no p10-p90 spread


def test_under_an_auto_batch_each_batch_is_a_curve_of_its_own():
    """Batch "auto" gives each length its own batch: one point per batch, each with its own fit."""
    batches = dict(zip(LENGTHS, (8, 4, 2), strict=True))
    rows = measure([config("led", s, n, batches[n]) for s in ("tiny", "small") for n in LENGTHS], seed=5)
    for i, r in enumerate(rows):
        r["key"], r["status"] = f"a{i}", "ok"
    fitted = fit_model(rows, quantities=("gen_latency",), n_boot=30)
    svg = figures.cost_against_length(rows, fitted, family="led", size="tiny", quantity="gen_latency")
    assert sorted(point_keys(svg)) == sorted(r["key"] for r in rows if r["size"] == "tiny")
    assert sorted(ids(svg, "fit")) == ["fit-b2", "fit-b4", "fit-b8"]
    assert sorted(ids(svg, "band")) == ["band-b2", "band-b4", "band-b8"]


def test_parity_draws_the_held_out_points_only(cost_rows, model):
    predictions = model.predict([dict(r) for r in cost_rows], cost_rows)
    held = [p.row["key"] for p in predictions if not p.in_fit]
    assert held == [cost_rows[-1]["key"]]
    svg = figures.parity(predictions, "gen_latency", model=model)
    assert point_keys(svg) == held
    assert "held-out" in svg


def test_parity_without_held_out_points_draws_each_configuration_as_a_refit_without_it_predicts_it(cost_rows):
    fitted = fit_model(cost_rows, quantities=("gen_latency",), n_boot=30)
    predictions = fitted.predict([dict(r) for r in cost_rows], cost_rows)
    assert all(p.in_fit for p in predictions)
    (fit,) = fitted.fits
    loco = {h.key: h for h in fit.validation.loco.by_row}
    assert sorted(loco) == sorted(r["key"] for r in cost_rows)
    assert all(h.predicted != h.measured for h in loco.values())
    svg = figures.parity(predictions, "gen_latency", model=fitted)
    assert sorted(point_keys(svg)) == sorted(loco)
    banded = [k for k, h in loco.items() if h.low is not None]
    assert banded and sorted(i.removeprefix("interval-") for i in ids(svg, "interval-")) == sorted(banded)
    assert "refit without its configuration" in svg


def test_size_or_length_arrows_start_at_each_configuration():
    rows, scores = size_length_case(30, 110.0, 14, 200.0)
    finding = findings(rows, scores=scores)[0].size_or_length
    svg = figures.size_or_length_arrows(finding)
    assert sorted(point_keys(svg)) == sorted(r["key"] for r in rows)
    start = rows[0]["key"]
    assert ids(svg, "size-") == [f"size-{start}"] and ids(svg, "length-") == [f"length-{start}"]


def test_an_empty_figure_says_why():
    svg = figures.accuracy_energy([])
    assert point_keys(svg) == [] and "no point has" in svg


def test_importing_the_figures_module_loads_no_matplotlib():
    code = "import sys, tui.figures; assert 'matplotlib' not in sys.modules, 'matplotlib loaded'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_report_figures_draw_every_task_model_and_held_out_quantity(cost_rows, model):
    rows = [{**r, "eval_samples": 8, "rouge_mean": 0.1 * i} for i, r in enumerate(cost_rows)]
    predictions = model.predict([dict(r) for r in rows], rows)
    out = figures.report_figures(rows, predictions, model, findings(rows, predictions))
    assert set(out) == {
        "accuracy-energy-synthetic",
        "size-or-length-synthetic",
        *(f"{q}-led-{s}" for q in ("gen_latency", "gen_energy") for s in ("tiny", "small")),
        "parity-gen_latency",
        "parity-gen_energy",
    }
    # every configuration is drawn once on accuracy against energy, by its key
    assert sorted(point_keys(out["accuracy-energy-synthetic"])) == sorted(r["key"] for r in rows)


def test_inlined_figures_keep_their_ids_apart_and_their_references_resolved():
    rows, scores = size_length_case(30, 110.0, 14, 200.0)
    ps = points(rows, metric="rouge_mean", scores=scores)
    finding = findings(rows, scores=scores)[0].size_or_length
    page = "<div>" + figures.inline_svg(figures.accuracy_energy(ps), "a")
    page += figures.inline_svg(figures.size_or_length_arrows(finding), "b") + "</div>"
    root = ET.fromstring(page)
    every = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(every) == len(set(every))
    assert sorted(i for i in every if i.startswith("a-point-")) == sorted(f"a-point-{r['key']}" for r in rows)
    assert sorted(i for i in every if i.startswith("b-point-")) == sorted(f"b-point-{r['key']}" for r in rows)
    refs = {v.removeprefix("#") for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")}
    refs |= set(re.findall(r"url\(#([^)]+)\)", page))
    assert refs and refs <= set(every)
