"""The Textual app driven by Pilot with a fake sweep runner: setup, run, results, plots, recommend, export."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading

import pytest
from textual.widgets import DataTable, Input, Static

from engine.preset import load_preset
from tests.test_app_fakes import DEMO, FakeRunner, make_app, settle
from tui.report import fmt
from tui.screens.confirm import ConfirmScreen
from tui.screens.export import ExportScreen


def text(widget: Static) -> str:
    return str(widget.render())


def rows(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_opens_on_setup_with_the_grid_and_its_rough_cost(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.current_mode == "setup"
        summary = text(app.screen.query_one("#summary"))
        assert "12 configurations" in summary
        assert "8 measured on Fake CPU" in summary and "4 to measure" in summary
        assert "rough cost" in summary and "≈" in summary and "J" in summary
        assert app.snap.model is not None


async def test_without_a_fit_the_rough_cost_says_why(tmp_path):
    app = make_app(tmp_path, stored=2)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        summary = text(app.screen.query_one("#summary"))
        assert "rough cost: unknown" in summary and "(2 so far)" in summary


async def test_invalid_choices_are_explained_on_their_line(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        lens = screen.query_one("#input_lens", Input)
        lens.value = "128, abc"
        await pilot.pause()
        problem = screen.query_one("#input_lens-problem", Static)
        assert problem.display and "'abc' is not allowed" in text(problem)
        lens.value = "128, 99999"
        await pilot.pause()
        assert "beyond the 4096 encoder positions" in text(problem)
        assert "cannot be run" in text(screen.query_one("#summary"))
        lens.value = "128, 256"
        await pilot.pause()
        assert not problem.display
        screen.query_one("#budget-value", Input).value = "2.5"
        await pilot.pause()
        assert "allowed: a positive integer" in text(screen.query_one("#budget-problem"))
        screen.query_one("#budget-value", Input).value = "10"
        screen.query_one("#families").focus()
        await pilot.press("space", "right", "space")  # untick led, then bigbird-pegasus: none left
        await pilot.pause()
        assert "pick at least one" in text(screen.query_one("#families-problem"))
        await pilot.press("space")
        await settle(pilot)
        assert app.preset.families == ("bigbird-pegasus",)
        assert "4 configurations" in text(screen.query_one("#summary"))


async def test_save_and_load_a_preset_file(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#sizes").focus()
        await pilot.press("right", "space")  # untick small
        path = tmp_path / "mine.toml"
        screen.query_one("#file", Input).value = str(path)
        screen.query_one("#sizes").focus()
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = load_preset(path)
        assert saved.sizes == ("tiny",) and saved.input_lens == DEMO.input_lens
        assert f"saved {path}" in text(screen.query_one("#file-status"))
        path.write_text(path.read_text().replace("input_lens = [128, 256, 512]", "input_lens = [64]"))
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.preset.input_lens == (64,)
        assert screen.query_one("#input_lens", Input).value == "64"
        path.write_text("[grid]\nfamilies = ['led']\n")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "grid.sizes: missing" in text(screen.query_one("#file-problem"))


async def test_a_built_in_preset_fills_the_form(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#preset").value = "smoke"
        await settle(pilot)
        assert app.preset.name == "smoke"
        smoke = load_preset("smoke")
        assert app.screen.query_one("#input_lens", Input).value == ", ".join(map(str, smoke.input_lens))
        assert f"{len(smoke.grid())} configurations" in text(app.screen.query_one("#summary"))


async def test_a_run_shows_progress_finished_configs_and_failures_and_goes_on(tmp_path):
    failing = DEMO.grid()[9].label()
    app = make_app(tmp_path, runner=FakeRunner(fail={failing: "RuntimeError: out of memory"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.current_mode == "run"
        screen = app.screen
        finished = rows(screen.query_one("#finished", DataTable))
        assert len(finished) == 4
        assert [r[0] for r in finished].count("failed") == 1
        assert any("out of memory" in cell for r in finished for cell in r)
        assert "finished: 3 measured, 1 failed, 8 already stored" in text(screen.query_one("#state"))
        log = "\n".join(str(line.text) for line in screen.query_one("#log").lines)
        assert "8 already measured" in log and "out of memory" in log
        assert screen.query_one("#progress").percentage == 1.0
        await pilot.press("f3")
        await settle(pilot)
        kinds = [r[0] for r in rows(app.screen.query_one("#table", DataTable))]
        assert kinds.count("measured") == 11 and kinds.count("failed") == 1


async def test_keys_are_answered_while_a_run_is_going(tmp_path):
    gate = threading.Event()
    app = make_app(tmp_path, runner=FakeRunner(hold=lambda: gate.wait(10)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.run_state.running and app.current_mode == "run"
        for key, mode in (("f3", "results"), ("f4", "plots"), ("f1", "setup"), ("f2", "run")):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode and app.run_state.running
        assert "running 0/4" in app.status
        assert text(app.screen.query_one("#now")).startswith("now: ")
        gate.set()
        await settle(pilot)
        assert not app.run_state.running and app.run_state.done == 4


async def test_cancel_asks_first_then_stops_and_resume_measures_the_rest(tmp_path):
    gate, phases = threading.Event(), []

    def hold():  # the first configuration goes through, the second waits for the gate
        phases.append(1)
        if len(phases) > len(DEMO.phases):
            gate.wait(10)

    runner = FakeRunner(hold=hold)
    app = make_app(tmp_path, runner=runner)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        while app.run_state.done < 1:
            await pilot.pause(0.01)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.run_state.running
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        gate.set()
        await settle(pilot)
        assert not app.run_state.running and app.run_state.ended.startswith("cancelled")
        kept = app.run_state.done
        assert kept == 1
        assert f"{8 + kept} stored" in text(app.screen.query_one("#state"))
        runner.hold = None
        await pilot.press("r")
        await settle(pilot)
        assert app.run_state.total == 4 - kept and app.run_state.ended.startswith("finished")
        assert runner.calls[-1] == DEMO.grid()


async def test_stored_results_are_shown_when_the_app_comes_back(tmp_path):
    first = make_app(tmp_path, stored=5)
    async with first.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
    first.store.close()
    again = make_app(tmp_path, stored=0, preset=None)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.preset.name == "demo" and again.snap.measured == 12
        await pilot.press("f2")
        await pilot.pause()
        assert "All 12 configurations" in text(again.screen.query_one("#state"))


async def test_results_sort_and_filter(tmp_path):
    app = make_app(tmp_path, stored=9)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#table", DataTable)
        assert table.row_count == 12
        assert {r[0].rstrip("†") for r in rows(table)} == {"measured", "predicted"}
        table.cursor_coordinate = (0, 7)  # enc ms
        await pilot.press("s")
        values = [float(r[7].split()[0].lstrip("~")) for r in rows(table)]
        assert values == sorted(values)
        await pilot.press("s")
        values = [float(r[7].split()[0].lstrip("~")) for r in rows(table)]
        assert values == sorted(values, reverse=True)
        assert "sorted by encoder ms/batch ↓" in text(screen.query_one("#summary"))
        screen.query_one("#filter-family").value = "led"
        screen.query_one("#filter-kind").value = "measured"
        await pilot.pause()
        shown = rows(table)
        assert len(shown) == 6 and {r[1] for r in shown} == {"led"} and {r[0] for r in shown} == {"measured"}
        await pilot.press("x")
        await pilot.pause()
        assert table.row_count == 12
        predicted = next(r for r in rows(table) if r[0].startswith("predicted"))
        assert predicted[7].startswith("~") and "[" in predicted[7]


async def test_plots_draw_measured_predicted_fitted_frontier_and_parity(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        from tui import plot_data

        seen = {}
        for _ in plot_data.PLOTS:
            plot = app.screen.plot
            spec = plot_data.build(app.snap, plot, plot_data.choices(app.snap, plot)[0])
            seen[plot] = {s.kind for s in spec.series}
            await pilot.press("n")
        # 8 configurations fit energy too: latency first, then power and joules per FLOP on it
        assert seen["infer_latency"] == seen["gen_energy"] == {"measured", "predicted", "curve"}
        assert app.screen.plot == "infer_latency"
        await pilot.press("p", "p")
        assert app.screen.plot == "accuracy"
        spec = plot_data.build(app.snap, "accuracy", "synthetic")
        assert {s.kind for s in spec.series} == {"measured", "predicted", "front"}
        front = next(s for s in spec.series if s.kind == "front")
        assert front.x == sorted(front.x) and front.y == sorted(front.y)
        await pilot.press("n", "m")
        spec = plot_data.build(app.snap, "parity", "infer_energy")
        assert spec.series[0].kind == "diagonal" and any("leave-one-config-out" in n for n in spec.notes)
        assert "validation" in text(app.screen.query_one("#notes"))


async def test_recommend_explains_the_best_and_queues_what_to_measure(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        answer = text(screen.query_one("#answer"))
        assert answer.startswith("Best: ") and "Why: the most accurate of all 12" in answer
        energies = sorted(p.value("infer_energy") for p in app.snap.predictions)
        budget = energies[len(energies) // 2]
        await pilot.press("b")
        await pilot.press(*f"{budget:.4f}")
        await pilot.press("escape")
        await settle(pilot)  # the answer is computed in a worker
        answer = text(screen.query_one("#answer"))
        assert f"≤ {fmt(budget)} J/batch" in answer and "within budget" in answer
        assert screen.best.value("infer_energy") <= budget
        assert screen.query_one("#next", DataTable).row_count > 0
        await pilot.press("q")
        assert len(app.queue) == 1
        await pilot.press("a")
        assert len(app.queue) == len(screen.suggested)
        queued = list(app.queue)
        await pilot.press("f2")
        await pilot.pause()
        assert f"{len(queued)} configurations queued" in text(app.screen.query_one("#state"))
        await pilot.press("r")
        await settle(pilot)
        assert app.runner.calls[-1] == queued and not app.queue


async def test_export_writes_the_report_and_a_screenshot_and_shows_the_paths(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("f6")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one("#path", Input)
        assert field.value == str(tmp_path / "tradeoff-demo.html")
        field.value = str(tmp_path / "report.doc")
        await pilot.pause()
        assert "unknown extension" in text(app.screen.query_one("#problem"))
        await pilot.press("enter")
        assert isinstance(app.screen, ExportScreen)
        for name in ("report.html", "report.json", "report.csv", "report.txt"):
            await pilot.press("f6")
            await pilot.pause()
            app.screen.query_one("#path", Input).value = str(tmp_path / name)
            await pilot.press("enter")
            await settle(pilot)
            assert (tmp_path / name).stat().st_size > 0
        assert "Results" in (tmp_path / "report.txt").read_text()
        data = json.loads((tmp_path / "report.json").read_text())
        assert len(data["records"]) == 8 and len(data["predictions"]) == 12
        await pilot.press("f7")
        await pilot.pause()
        shot = tmp_path / "tradeoff-setup.svg"
        assert shot.read_text().startswith("<svg")
        messages = [n.message for n in app._notifications]
        assert any(str(tmp_path / "report.html") in m for m in messages)
        assert any(str(shot) in m for m in messages)


async def test_too_small_a_terminal_gets_a_clear_message(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(70, 20)) as pilot:
        await settle(pilot)
        message = app.screen.query_one("#too-small", Static)
        assert message.display and "needs at least 80x24" in text(message) and "70x20" in text(message)
        assert not app.screen.query_one("#body").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not message.display and app.screen.query_one("#body").display


async def test_every_footer_key_is_in_the_command_palette(tmp_path):
    from tui.commands import ActionCommands

    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("f1", "f2", "f3", "f4", "f5"):
            await pilot.press(key)
            await pilot.pause()
            active = app.screen.active_bindings.values()
            shown = {b.binding.action for b in active if b.binding.show and b.enabled}
            provider = ActionCommands(app.screen)
            assert {fn.args[0] for _, _, fn in provider._commands()} == shown
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Results")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.current_mode == "results"


async def test_quitting_during_a_run_asks_first(tmp_path):
    gate = threading.Event()
    app = make_app(tmp_path, runner=FakeRunner(hold=lambda: gate.wait(10)))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert app.is_running and app.run_state.running
        gate.set()
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert not app.is_running


async def test_no_color_is_respected(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color


async def test_a_failing_runner_ends_the_run_not_the_app(tmp_path):
    def broken(*args, **kwargs):
        raise RuntimeError("probe failed: no such device")

    app = make_app(tmp_path, runner=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert not app.run_state.running and "probe failed" in app.run_state.ended
        assert "stopped by an error" in text(app.screen.query_one("#state"))


def test_importing_the_app_imports_no_torch():
    code = "import sys, tui.app; print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_run_app_turns_a_bad_database_into_one_usage_line(tmp_path):
    from tui.app import run_app
    from tui.errors import UsageError

    bad = tmp_path / "not-a-db.sqlite"
    bad.write_text("hello")
    with pytest.raises(UsageError, match="not-a-db.sqlite"):
        run_app(str(bad), None, no_color=False, mouse=False)
    with pytest.raises(UsageError, match="no built-in preset"):
        run_app(str(tmp_path / "ok.sqlite"), "nope", no_color=False, mouse=False)


async def test_a_snapshot_a_newer_refresh_replaced_never_shows(tmp_path, monkeypatch):
    from dataclasses import replace

    import tui.app

    app = make_app(tmp_path)
    smaller = replace(DEMO, input_lens=DEMO.input_lens[:1])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        built, building, newer_shown = tui.app.snapshot, threading.Event(), threading.Event()

        def slow(configs, *args, **kwargs):  # the older grid's snapshot is done after the newer one
            snap = built(configs, *args, **kwargs)
            if len(configs) == len(DEMO.grid()):
                building.set()
                newer_shown.wait(30)
            return snap

        monkeypatch.setattr(tui.app, "snapshot", slow)
        app.refresh_snapshot(refit=False)
        assert await asyncio.to_thread(building.wait, 30)
        app.set_preset(smaller)
        for _ in range(300):
            await pilot.pause(0.05)
            if len(app.snap.configs) == len(smaller.grid()):
                break
        newer_shown.set()
        await settle(pilot)
        await pilot.pause(0.2)
        assert len(app.snap.configs) == len(smaller.grid()) < len(DEMO.grid())
