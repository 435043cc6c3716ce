"""RunState: progress counts measurements, results count configurations, when a sweep runs in passes."""

import dataclasses

from engine.config import RunConfig
from engine.record import Failure
from engine.sweep import Done, Probe, Skip, Start
from tests.faults import fake_record
from tui.screens.run_state import RunState


def test_passes_count_as_measurements_and_configurations_once():
    a, b = (RunConfig("led", "tiny", n, passes=2) for n in (128, 256))
    state = RunState(requested=3)
    state.apply(Probe(3, "probing"), 0.0)
    state.apply(Skip(2, "1 already measured"), 0.0)
    failed = dataclasses.replace(fake_record(b), failure=Failure("infer", "oom", "out of memory"))
    steps = [
        (a, fake_record(a), "pass 1/2", 4),
        (b, failed, "pass 1/2", 3),
        (a, fake_record(a), "pass 2/2", 3),
    ]
    for i, (config, record, note, total) in enumerate(steps):
        state.apply(Start(i, total, config, note), float(i))
        assert state.note == note
        state.apply(Done(i, total, config, record, note), i + 0.5)
    assert state.skipped == 1 and state.total == 3 and state.done == 3
    assert state.measured == 1 and state.failed == 1
    assert [f.note for f in state.finished] == ["pass 1/2", "pass 1/2", "pass 2/2"]


def test_elapsed_counts_until_the_run_ends_then_stops():
    state = RunState(requested=1, started=10.0, running=True)
    assert state.elapsed(40.0) == 30.0
    state.running, state.ended_at = False, 29.0
    assert state.elapsed(500.0) == 19.0


async def test_the_run_view_names_the_node_a_configuration_runs_on(tmp_path):
    from textual.widgets import Static

    from tests.test_app_fakes import make_app, settle

    app = make_app(tmp_path)
    config = RunConfig("led", "tiny", 128)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await settle(pilot)
        state = RunState(requested=1, started=app.clock(), running=True)
        state.apply(Start(0, 1, config, node="gpu-node-3:a1b2c3"), app.clock())
        app.run_state = state
        app.run_version += 1
        await settle(pilot)
        now = str(app.screen.query_one("#now", Static).render())
        assert now.startswith(f"now: {config.label()} on gpu-node-3:a1b2c3 · start")
