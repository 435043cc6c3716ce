"""Snapshots of every view at 80x24 and 120x40, on fixed fake data (pytest --snapshot-update to accept)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input

from tests.test_app_fakes import DEMO, FakeRunner, make_app, settle

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def steady_cursor(monkeypatch):
    """No blinking text cursor: the same frame every time."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)


def view(*keys: str):
    """A run_before that settles the app, presses keys, settles again and clears the toasts."""

    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    "keys",
    [(), ("ctrl+r",), ("f3",), ("f4",), ("f4", "n", "n", "n", "n"), ("f5",), ("f8",)],
    ids=["setup", "run", "results", "plots", "accuracy", "recommend", "findings"],
)
def test_view(snap_compare, tmp_path, size, keys):
    failing = {DEMO.grid()[10].label(): "RuntimeError: CUDA out of memory (fake)"}
    app = make_app(tmp_path, runner=FakeRunner(fail=failing))
    assert snap_compare(app, terminal_size=size, run_before=view(*keys))


@pytest.mark.parametrize("keys", [("enter",), ("down", "down", "enter")], ids=["measured", "predicted"])
def test_row_detail(snap_compare, tmp_path, keys):
    """Enter on the first Results row (measured) and on the third (the first predicted)."""
    assert snap_compare(make_app(tmp_path), terminal_size=(120, 40), run_before=view("f3", *keys))


def test_export_dialog(snap_compare, tmp_path):
    app = make_app(tmp_path)
    app.export_dir = Path("/tmp")  # the dialog shows the path: the same in every run
    assert snap_compare(app, terminal_size=(80, 24), run_before=view("f3", "f6"))


def test_too_small(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=(70, 20), run_before=view())
