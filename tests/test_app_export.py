"""Export: asks before replacing, shows the full path, expands ~, and takes a directory for every format."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from tests.test_app_fakes import make_app, settle
from tui.cli import main
from tui.export import FORMATS
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen


def text(widget) -> str:
    return str(widget.render())


async def _export(app, pilot, path: str) -> None:
    await pilot.press("f6")
    await pilot.pause()
    assert isinstance(app.screen, ExportScreen)
    app.screen.query_one("#path", Input).value = path
    await pilot.pause()


async def test_export_asks_before_replacing_and_names_the_full_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        (tmp_path / "r.txt").write_text("old")
        await _export(app, pilot, "r.txt")
        assert f"writes {tmp_path / 'r.txt'} (replaces it)" in text(app.screen.query_one("#target"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert (tmp_path / "r.txt").read_text() == "old" and isinstance(app.screen, ExportScreen)
        await pilot.press("enter", "y")
        await settle(pilot)
        assert "Results" in (tmp_path / "r.txt").read_text()
        assert any(str(tmp_path / "r.txt") in n.message for n in app._notifications)


async def test_export_expands_home_and_writes_every_format_into_a_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await _export(app, pilot, "~/x.csv")
        assert text(app.screen.query_one("#problem")) == ""
        await pilot.press("enter")
        await settle(pilot)
        assert (tmp_path / "x.csv").stat().st_size > 0
        (tmp_path / "out").mkdir()
        await _export(app, pilot, str(tmp_path / "out"))
        assert "writes 5 files into" in text(app.screen.query_one("#target"))
        await pilot.press("enter")
        await settle(pilot)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        f"tradeoff-demo{e}" for e in FORMATS
    )


@pytest.mark.parametrize("trailing", ["", "/"])
def test_export_dir_on_the_command_line_writes_every_format(tmp_path, trailing):
    from engine.store import Store
    from tests.test_app_fakes import DEMO, fake_record

    with Store(tmp_path / "db.sqlite", create=True) as store:
        for config in DEMO.grid()[:8]:
            store.put(fake_record(config))
    out = tmp_path / "out"
    if not trailing:
        out.mkdir()
    else:
        out = tmp_path  # an existing directory given with a trailing slash
    assert main(["report", "--db", str(tmp_path / "db.sqlite"), "--export", f"{out}{trailing}"]) == 0
    assert {p.name for p in out.iterdir()} >= {f"tradeoff-report{e}" for e in FORMATS}
