"""The HTML report in a real headless browser (Debian's chromium): it loads offline, shows every
figure, and each drawn point's id matches a record. Skipped without chromium, except in CI."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.test_report_findings import fixture_records
from tui import publish
from tui.export import export
from tui.figures import report_figures
from tui.workspace import stored

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("chromium is not installed (CI installs it)", allow_module_level=True)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    assert CHROMIUM, "chromium is required in CI"
    a = stored(fixture_records())
    figures = report_figures(a.rows, a.predictions, a.model, a.findings, scores=a.scores)
    renderables = publish.build(a, "t").renderables
    path = export(tmp_path_factory.mktemp("html") / "report.html", renderables, figures=figures)
    return path, a, figures


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, *args], capture_output=True, text=True, timeout=120)


def test_the_report_loads_and_shows_every_figure_and_point(page):
    path, a, figures = page
    dom = _chromium("--dump-dom", path.as_uri()).stdout
    assert "Findings" in dom
    for name in figures:
        assert f'id="figure-{name}"' in dom
    for r in a.rows:
        assert f'id="accuracy-energy-synthetic-qa-point-{r["key"]}"' in dom
    drawn = {k for k in dom.split('"') if k.startswith("accuracy-energy-synthetic-qa-point-")}
    assert drawn == {f"accuracy-energy-synthetic-qa-point-{r['key']}" for r in a.rows}


def test_a_screenshot_of_the_report_is_not_blank(page, tmp_path):
    path, _, _ = page
    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,2400", path.as_uri())
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000
