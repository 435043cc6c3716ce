"""Setup offers the devices the machine has: cuda only where torch.cuda.is_available() (faked here)."""

from __future__ import annotations

import pytest
import torch

from engine.preset import load_preset
from tests.test_app_fakes import make_app, settle
from tui.devices import available_devices, probe_devices
from tui.widgets.axis_row import AxisRow


def text(widget) -> str:
    return str(widget.render())


@pytest.mark.parametrize("cuda", [False, True])
async def test_cuda_is_offered_only_where_torch_has_it(tmp_path, monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    paper = load_preset("paper")  # selects cuda
    app = make_app(tmp_path, preset=paper, stored=0, device_probe=available_devices)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await settle(pilot)
        assert app.devices == (("cpu", "cuda") if cuda else ("cpu",))
        screen = app.screen
        row = screen.query_one("#device", AxisRow)
        problem = screen.query_one("#device-problem")
        if cuda:
            assert not row.unavailable and not problem.display
            return
        assert row.unavailable == {"cuda"} and "cuda (none here)" in text(row)
        assert problem.display and "torch.cuda.is_available() is False" in text(problem)
        assert "pick cpu" in text(problem)
        await pilot.press("ctrl+r")
        await pilot.press("f2", "r")
        await settle(pilot)
        assert app.runner.calls == [] and not app.run_state.running
        assert any("no CUDA GPU" in n.message for n in app._notifications)
        await pilot.press("f1")
        await pilot.pause()
        row.focus()
        await pilot.press("right", "space")  # cuda cannot be picked back once cpu is chosen
        await pilot.press("left", "space")
        await settle(pilot)
        assert app.preset.device == "cpu" and not problem.display
        await pilot.press("right", "space")
        await pilot.pause()
        assert row.selected == ("cpu",)


def test_the_app_asks_torch_in_a_child_process():
    assert probe_devices()[0] == "cpu"
