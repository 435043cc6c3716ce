"""The app without colour (NO_COLOR=1): every plot draws, and its legend tells series apart by marker."""

from __future__ import annotations

from tests.test_app_fakes import make_app, settle
from tui import plot_data


async def test_plots_draw_under_no_color_with_a_marker_per_model(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        await pilot.press("f4")
        await settle(pilot)
        for plot in plot_data.PLOTS:
            assert app.screen.plot == plot and app.is_running
            legend = str(app.screen.query_one("#legend").render())
            spec = plot_data.build(app.snap, plot, plot_data.choices(app.snap, plot)[0])
            markers = [s.marker for s in spec.series if s.marker]
            assert len(set(markers)) == len(markers) and all(m in legend for m in markers)
            await pilot.press("n")
            await settle(pilot)
        assert app.return_code is None and app.is_running
    spec = plot_data.build(app.snap, "infer_latency", "all")
    names = [label for _, _, label in spec.legend]
    assert len(names) == 4 and len({glyphs for glyphs, _, _ in spec.legend}) == 4


async def test_every_screen_draws_under_no_color(tmp_path, monkeypatch):
    import threading

    from tests.test_app_fakes import FakeRunner
    from tui.screens.confirm import ConfirmScreen
    from tui.screens.export import ExportScreen

    monkeypatch.setenv("NO_COLOR", "1")
    gate = threading.Event()
    app = make_app(tmp_path, runner=FakeRunner(hold=lambda: gate.wait(10)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        seen = []
        for key in ("f1", "f3", "f4", *["n"] * len(plot_data.PLOTS), "f5", "f6"):
            await pilot.press(key)
            await pilot.pause()
            app.save_screenshot(str(tmp_path / f"{len(seen)}.svg"))  # draws the whole screen
            seen.append(type(app.screen).__name__)
        assert isinstance(app.screen, ExportScreen)
        await pilot.press("escape", "f1", "ctrl+r")  # a run: the Run view, then the cancel question
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        app.save_screenshot(str(tmp_path / "confirm.svg"))
        await pilot.press("n")
        app.action_show_help_panel()
        await pilot.pause()
        app.save_screenshot(str(tmp_path / "keys.svg"))
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        app.save_screenshot(str(tmp_path / "palette.svg"))
        await pilot.press("escape")
        await pilot.resize_terminal(60, 20)
        await pilot.pause()
        app.save_screenshot(str(tmp_path / "small.svg"))
        gate.set()
        await settle(pilot)
        assert app.is_running and app.return_code is None
    assert {"SetupScreen", "ResultsScreen", "PlotsScreen", "RecommendScreen", "ExportScreen"} <= set(seen)
