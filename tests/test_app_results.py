"""The Results table: identity columns pinned, the columns off screen named, enter shows a row in full."""

from __future__ import annotations

from textual.widgets import DataTable, Select

from tests.test_app_fakes import DEMO, FakeRunner, make_app, settle
from tui.screens.detail import DetailScreen
from tui.screens.results import PINNED


def text(widget) -> str:
    return str(widget.render())


async def test_identity_columns_stay_and_the_rest_are_named(tmp_path):
    app = make_app(tmp_path, stored=9)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#table", DataTable)
        assert table.fixed_columns == PINNED
        more = app.screen.query_one("#more")
        assert "more columns → " in text(more) and "encoder J/batch" in text(more)
        await pilot.press(*["right"] * 10)
        await settle(pilot)
        assert table.scroll_x > 0 and "columns left" in text(more)
        assert "bigbird-pegasus" in app.export_screenshot()  # the family still shows, pinned


async def test_filters_keep_their_field_and_enter_shows_the_row(tmp_path):
    failing = {DEMO.grid()[9].label(): "RuntimeError: out of memory " + "x" * 80}
    app = make_app(tmp_path, runner=FakeRunner(fail=failing))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        select = app.screen.query_one("#filter-kind", Select)
        select.value = "failed"
        await settle(pilot)
        assert any(str(w.render()) == "kind: failed" for w in select.query("Static"))
        table = app.screen.query_one("#table", DataTable)
        assert table.row_count == 1
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)  # its detail (tests/test_app_views.py)
        await pilot.press("escape")
        await pilot.pause()
        assert "x" * 80 in text(app.screen.query_one("#more"))
