"""The app runs a preset whose executor is Ray: it starts a local Ray from its sweep worker (under
Textual's output capture), measures each configuration as a Ray task, and names the node (slow)."""

from __future__ import annotations

import dataclasses
import time

import pytest
import ray
from textual.widgets import DataTable

from engine import sweep
from engine.preset import load_preset
from tests.test_app_fakes import make_app, run_to_end, settle

pytestmark = pytest.mark.slow


async def test_a_ray_preset_runs_from_the_app(tmp_path):
    assert not ray.is_initialized()  # the app starts its own, and stops it when the run ends
    preset = dataclasses.replace(load_preset("smoke"), executor="ray")
    n = len(preset.grid())
    nodes: set[str] = set()

    def runner(*args, on_event, **options):
        def seen(event) -> None:
            if isinstance(event, sweep.Start):
                nodes.add(event.node)
            on_event(event)

        return sweep.run(*args, on_event=seen, **options)

    app = make_app(tmp_path, preset=preset, stored=0, runner=runner, clock=time.monotonic)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await run_to_end(pilot, 600)  # Ray's start, then child processes on its workers
        assert app.run_state.ended.startswith(f"finished: {n} measured, 0 failed"), app.run_state.log
        finished = app.screen.query_one("#finished", DataTable)
        assert all(str(finished.get_row_at(i)[0]) == "ok" for i in range(n))
    records = list(app.store.records())
    assert len(records) == n and all(r.status == "ok" for r in records)
    assert not ray.is_initialized()
    assert len(nodes) == 1 and "" not in nodes  # the Run view names the node each configuration runs on
