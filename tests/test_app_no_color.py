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
