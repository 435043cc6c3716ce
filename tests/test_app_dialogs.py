"""Dialogs over a dimmed view, a palette that finds help and one Quit, escape closing the keys panel,
every plot tab in 80 columns, and plots named for people."""

from __future__ import annotations

import html

from rich.text import Text
from textual.command import CommandList

from tests.test_app_fakes import make_app, settle
from tui import plot_data
from tui.commands import ActionCommands
from tui.screens.export import ExportScreen
from tui.screens.plots import TABS


async def test_a_dialog_dims_the_view_under_it_instead_of_blanking_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        assert app.screen.styles.background.a < 1
        shot = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "[x] bigbird-pegasus" in shot and "Export the report" in shot  # Setup, under the dialog


async def test_the_palette_finds_help_and_has_one_quit(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        ours = [name for name, _, _ in ActionCommands(app.screen)._commands()]
        system = [c.title for c in app.get_system_commands(app.screen)]
        assert sum("quit" in name.lower() for name in ours + system) == 1
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"help")
        await pilot.pause(0.5)
        found = [str(o.prompt) for o in app.screen.query_one(CommandList).options]
        assert any(name.startswith("Help: the keys of this view") for name in found)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query("HelpPanel")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")


async def test_escape_closes_the_keys_panel_and_keeps_its_own_uses(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        app.action_show_help_panel()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("HelpPanel")
        await pilot.press("b")
        assert app.focused.id == "budget-energy"
        await pilot.press("escape")  # no keys panel: escape leaves the budget, as before
        assert app.focused.id == "next"


async def test_every_plot_tab_fits_80_columns_and_names_are_human(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        tabs = app.screen.query_one("#tabs")
        rendered = Text.from_markup(str(tabs.render()))
        assert all(t in rendered.plain for t in TABS.values())
        assert rendered.cell_len <= tabs.content_size.width
        for plot in plot_data.PLOTS:
            title = str(app.screen.query_one("#title").render())
            notes = str(app.screen.query_one("#notes").render())
            assert "infer_" not in title + notes and "gen_" not in title + notes
            assert "fresh_bytes" not in notes
            shown = {b.binding.description for b in app.screen.active_bindings.values() if b.enabled}
            want = {"accuracy": "Next task", "parity": "Next quantity"}.get(plot, "Next model")
            assert want in shown and f"m: {want.lower()}" in title
            await pilot.press("n")
            await settle(pilot)
