"""The selection is kept per database, on every change; a populated database opens on its own results."""

from __future__ import annotations

from textual.widgets import DataTable

from engine.preset import load_preset
from engine.store import Store
from tests.test_app_fakes import FakeRunner, fake_record, make_app, quick_fit, settle
from tui.app import TradeoffApp
from tui.preset_file import remember


def _app(db, state) -> TradeoffApp:
    return TradeoffApp(
        Store(db, create=True),
        runner=FakeRunner(),
        fitter=quick_fit,
        device_probe=lambda: ("cpu",),
        state_dir=state,
        clock=lambda: 0.0,
    )


async def test_a_populated_database_opens_on_its_own_results(tmp_path):
    demo, state = load_preset("cpu-demo"), tmp_path / "state"
    with Store(tmp_path / "demo.sqlite", create=True) as store:
        for config in demo.grid():
            store.put(fake_record(config))
    remember(load_preset("smoke"), state, tmp_path / "other.sqlite")  # another database's selection
    app = _app(tmp_path / "demo.sqlite", state)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.preset.name == "cpu-demo" and "last session" not in str(
            app.screen.query_one("#source").render()
        )
        await pilot.press("f3")
        await settle(pilot)
        kinds = [str(app.screen.query_one("#table", DataTable).get_row_at(i)[0]) for i in range(12)]
        assert kinds == ["measured"] * 12
    app.store.close()


async def test_the_selection_is_remembered_per_database_without_a_run(tmp_path):
    app = make_app(tmp_path, stored=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#sizes").focus()
        await pilot.press("right", "space")  # untick small: a change, no run
        await settle(pilot)
        assert app.preset.sizes == ("tiny",)
    app.store.close()
    again = _app(tmp_path / "results.sqlite", tmp_path / "state")
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.preset.name == "demo" and again.preset.sizes == ("tiny",)
        assert "from last session" in str(again.screen.query_one("#source").render())
    again.store.close()
    elsewhere = _app(tmp_path / "new.sqlite", tmp_path / "state")
    assert elsewhere.preset.name == "cpu-demo"  # an empty database: the default preset
    elsewhere.store.close()
