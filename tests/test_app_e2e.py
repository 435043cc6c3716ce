"""The whole flow on the smoke preset, measured for real in child processes on the CPU (slow)."""

from __future__ import annotations

import json
import time

import pytest
from textual.widgets import DataTable, Input

from engine import sweep
from engine.preset import load_preset
from tests.test_app_fakes import make_app, run_to_end, settle

pytestmark = pytest.mark.slow


async def test_smoke_preset_load_run_results_plots_export(tmp_path):
    smoke = load_preset("smoke")
    n = len(smoke.grid())
    app = make_app(tmp_path, stored=0, runner=sweep.run, clock=time.monotonic)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.screen.query_one("#preset").value = "smoke"  # load the built-in preset from the form
        await settle(pilot)
        assert app.preset.name == "smoke"
        await pilot.press("ctrl+r")
        await run_to_end(pilot, 300)  # child processes: about a minute on two cores
        assert app.run_state.ended.startswith(f"finished: {n} measured, 0 failed"), app.run_state.log
        finished = app.screen.query_one("#finished", DataTable)
        assert finished.row_count == n
        assert all(str(finished.get_row_at(i)[0]) == "ok" for i in range(n))

        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#table", DataTable)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["measured"] * n
        assert {str(table.get_row_at(i)[14]) for i in range(n)} == {"estimate"}  # energy source

        await pilot.press("f4")
        await settle(pilot)
        assert "filled: measured" in str(app.screen.query_one("#notes").render())
        assert "●○ " in str(app.screen.query_one("#legend").render())

        await pilot.press("f6")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(tmp_path / "smoke.json")
        await pilot.press("enter")
        await settle(pilot)
        data = json.loads((tmp_path / "smoke.json").read_text())
        assert len(data["records"]) == n and all(r["status"] == "ok" for r in data["records"])
        await pilot.press("f7")
        await pilot.pause()
        assert (tmp_path / "tradeoff-plots.svg").stat().st_size > 0
