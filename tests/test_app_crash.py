"""A crash anywhere in the app ends it with exit status 1 and a message saying what to report."""

from __future__ import annotations

import pytest

from tests.test_app_fakes import make_app, settle
from tui import app as app_module
from tui.app import exit_status
from tui.screens.plots import PlotsScreen


def _boom(*args, **kwargs):
    raise RuntimeError("a bug")


async def _crash(app, *keys: str) -> None:
    with pytest.raises(Exception, match="a bug"):  # a worker's error comes wrapped in WorkerFailed
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            for key in keys:
                await pilot.press(key)
                await settle(pilot)


@pytest.mark.parametrize("where", ["screen", "worker"])
async def test_a_crash_exits_1_and_says_what_to_report(tmp_path, monkeypatch, capsys, where):
    if where == "screen":
        monkeypatch.setattr(PlotsScreen, "_draw", _boom)
    app = make_app(tmp_path)
    if where == "worker":  # the snapshot worker, after the app has started
        monkeypatch.setattr(app_module, "snapshot", _boom)
    await _crash(app, "f4")
    assert app.return_code == 1
    assert exit_status(app, tmp_path / "results.sqlite") == 1
    err = capsys.readouterr().err
    assert "this is a bug" in err and "traceback above" in err and "textual" in err
    assert str(tmp_path / "results.sqlite") in err


async def test_a_clean_quit_exits_0(tmp_path, capsys):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
    assert exit_status(app, tmp_path / "results.sqlite") == 0 and capsys.readouterr().err == ""
