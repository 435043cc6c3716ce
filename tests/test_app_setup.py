"""Setup's form: every problem shown at once, examples that fit the field, AUTO, saving and the cost hint."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Input, Static

from engine.config import Budget
from engine.preset import load_preset
from engine.timeouts import timeout_s
from tests.test_app_fakes import FakeRunner, make_app, settle


def text(widget: Static) -> str:
    return str(widget.render())


async def test_every_invalid_line_is_marked_at_once(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#input_lens", Input).value = "abc"
        screen.query_one("#batch_sizes", Input).value = "x"
        screen.query_one("#budget-value", Input).value = "2.5"
        await pilot.pause()
        problems = {
            f: screen.query_one(f"#{f}-problem", Static) for f in ("input_lens", "batch_sizes", "budget")
        }
        assert all(p.display for p in problems.values())
        assert "e.g. 256, 512" in text(problems["input_lens"])
        assert "e.g. 4, 8, auto" in text(problems["batch_sizes"]) and "256" not in text(
            problems["batch_sizes"]
        )
        assert "the 3 lines marked above are fixed" in text(screen.query_one("#summary"))
        screen.query_one("#input_lens", Input).value = "128"
        await pilot.pause()
        assert not problems["input_lens"].display and problems["batch_sizes"].display


async def test_auto_is_accepted_in_any_case(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.query_one("#batch_sizes", Input).value = "4, AUTO"
        await settle(pilot)
        assert not app.screen.query_one("#batch_sizes-problem").display
        assert app.preset.batch_sizes == (4, "auto")


async def test_ctrl_s_is_described_in_full(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        binding = next(b.binding for b in app.screen.active_bindings.values() if b.binding.key == "ctrl+s")
        assert binding.tooltip.endswith("named in the file line")


async def test_a_saved_edited_preset_describes_its_own_grid(tmp_path):
    app = make_app(tmp_path, preset=load_preset("smoke"), stored=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#input_lens", Input).value = "128, 256"
        path = tmp_path / "mine.toml"
        screen.query_one("#file", Input).value = str(path)
        await settle(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = load_preset(path)
    assert saved.input_lens == (128, 256)
    assert saved.description.startswith("smoke, edited: ") and "128, 256 tokens" in saved.description
    assert "about half a minute" not in saved.description


async def test_the_cost_hint_suggests_smoke_only_before_anything_is_measured(tmp_path):
    app = make_app(tmp_path, stored=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert "the smoke preset measures 2" in text(app.screen.query_one("#summary"))
    app.store.close()
    (tmp_path / "b").mkdir()
    again = make_app(tmp_path / "b", stored=2)
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        summary = text(again.screen.query_one("#summary"))
        assert (
            "(2 so far)" in summary and "smoke" not in summary and "measuring 2 more gives it one" in summary
        )


async def test_the_timeout_follows_the_budget_unless_set(tmp_path):
    runner = FakeRunner()
    app = make_app(tmp_path, preset=load_preset("smoke"), stored=0, runner=runner)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        config = app.preset.grid()[0]
        assert screen.query_one("#timeout_s", Input).value == "auto"
        assert f"timeout {timeout_s(config):,.0f} s per configuration (its budget" in text(
            screen.query_one("#summary")
        )
        screen.query_one("#timeout_s", Input).value = "-3"
        await pilot.pause()
        assert "-3 is not a positive number (allowed: a positive number); or auto" in text(
            screen.query_one("#timeout_s-problem")
        )
        screen.query_one("#timeout_s", Input).value = "90"
        await settle(pilot)
        assert app.preset.timeout_s == 90
        assert "timeout 90 s per configuration (set above)" in text(screen.query_one("#summary"))
        await pilot.press("ctrl+r")
        await settle(pilot)
    assert runner.timeouts == [90]


async def test_an_1800_s_budget_gets_a_longer_timeout_from_the_app(tmp_path):
    runner = FakeRunner()
    preset = replace(load_preset("smoke"), budget=Budget("seconds", 1800))
    app = make_app(tmp_path, preset=preset, stored=0, runner=runner)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
    assert runner.timeouts == [None]  # each configuration's own: engine.timeouts
    assert all(timeout_s(c) > 1800 for c in preset.grid())
