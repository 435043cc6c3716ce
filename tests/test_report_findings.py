"""The report's accuracy intervals and Findings section, the JSON export's findings and the HTML
export's inline figures, on records built as tests/test_report.py builds them, with per-example scores."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from tests.test_report import LENGTHS, SIZES, _config, make_record
from tui import publish
from tui.export import export, render
from tui.report import build_report
from tui.workspace import stored

EXAMPLES = 32
QUESTIONS = ("Family", "Size or length", "Fixed budget")


def with_scores(record, rng: np.random.Generator, difficulty: np.ndarray):
    """The record with 32 per-example F1 scores around its accuracy (harder examples score lower)."""
    scores = np.clip(record.metrics["f1"] - difficulty + rng.normal(0, 0.05, EXAMPLES), 0, 1)
    f1 = float(scores.mean())
    metrics = {**record.metrics, "f1": f1, "score": f1}
    return dataclasses.replace(
        record, metrics=metrics, example_scores={f"ex{i}": float(s) for i, s in enumerate(scores)}
    )


def fixture_records() -> list:
    """LED and BigBird-Pegasus, tiny and small, at three lengths, on the QA task, each scored per example."""
    rng = np.random.default_rng(1)
    difficulty = rng.normal(0, 0.15, EXAMPLES)
    configs = [_config(f, s, n, "synthetic-qa") for f, s in SIZES for n in LENGTHS]
    return [with_scores(make_record(c, rng), rng, difficulty) for c in configs]


@pytest.fixture(scope="module")
def analysis():
    return stored(fixture_records())


def _text(analysis) -> str:
    return render(publish.build(analysis, "t").renderables, ".txt", width=200)


def test_every_measured_accuracy_shows_its_90_percent_interval(analysis):
    text = _text(analysis)
    intervals = re.findall(r"90% (\d\.\d+)–(\d\.\d+)", text)
    assert len(intervals) >= len(analysis.rows)  # one per measured row, in the table
    assert all(float(lo) < float(hi) for lo, hi in intervals)


def test_without_scores_there_is_no_interval(analysis):
    text = render(build_report(title="t", rows=analysis.rows), ".txt", width=200)
    assert "90% " not in text and "Findings" not in text


def test_the_findings_section_answers_each_question_with_verdict_and_claim(analysis):
    (tf,) = analysis.findings
    assert tf.task == "synthetic-qa" and tf.metric == "f1"
    text = _text(analysis)
    assert "Findings" in text
    for question in QUESTIONS:
        assert question in text
    for f in tf.findings:
        assert f.verdict in text and f.summary.split(";")[0][:40] in " ".join(text.split())
    assert "LED consistently achieves better accuracy" in " ".join(text.split())
    assert "measured," in text and "predicted" in text


def test_the_json_export_carries_the_findings(analysis, tmp_path):
    path = export(
        tmp_path / "r.json",
        [],
        records=analysis.records,
        predictions=analysis.predictions,
        findings=analysis.findings,
    )
    data = json.loads(path.read_text())
    (tf,) = data["findings"]
    assert tf["task"] == "synthetic-qa"
    assert [tf[q]["verdict"] for q in ("family", "size_or_length", "fixed_budget")] == [
        f.verdict for f in analysis.findings[0].findings
    ]
    assert all(r["example_scores"] for r in data["records"])


def test_the_html_export_inlines_every_figure_with_an_id_per_point(analysis, tmp_path):
    from tui.figures import report_figures

    figures = report_figures(
        analysis.rows, analysis.predictions, analysis.model, analysis.findings, scores=analysis.scores
    )
    assert "accuracy-energy-synthetic-qa" in figures
    html = export(tmp_path / "r.html", [], figures=figures).read_text()
    assert "<script" not in html  # offline: nothing runs, nothing is fetched (namespaces are names only)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for name in figures:
        assert f'id="figure-{name}"' in html
    for r in analysis.rows:
        assert f'id="accuracy-energy-synthetic-qa-point-{r["key"]}"' in html


def test_matplotlib_is_imported_only_when_exporting_figures():
    from tests.test_boundaries import imported_after

    modules = "tui.cli, tui.headless, tui.workspace, tui.export, tui.findings_view, tui.app"
    loaded = imported_after(f"import {modules}")
    assert "matplotlib" not in loaded
