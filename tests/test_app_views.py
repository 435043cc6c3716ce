"""The views of what the app knows: Findings (F8), a Results row's detail (enter), re-measuring (m)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from textual.widgets import DataTable, Static

from engine import sweep
from engine.preset import Preset
from tests.test_app_fakes import DEMO, FakeRunner, make_app, run_to_end, settle
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.results import kind
from tui.widgets.view_bar import ViewBar


def text(widget: Static) -> str:
    return str(widget.render())


def shown(app, widget: str = "#detail") -> str:
    """A scrolling widget's whole content, as plain text at 160 columns."""
    from rich.console import Console

    console = Console(width=160, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(app.screen.query_one(widget, Static).visual._renderable)
    return console.export_text()


async def results(pilot):
    await settle(pilot)
    await pilot.press("f3")
    await settle(pilot)
    return pilot.app.screen.query_one("#table", DataTable)


async def open_row(pilot, want: str) -> str:
    """Enter on the first Results row of kind `want`; the detail modal's text."""
    app = pilot.app
    table = await results(pilot)
    row = next(i for i, p in enumerate(app.screen._shown()) if kind(p) == want)
    table.move_cursor(row=row, column=0)
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, DetailScreen)
    return shown(app)


async def test_findings_have_their_own_view(tmp_path):
    app = make_app(tmp_path, stored=12)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert app.current_mode == "findings"
        summary = text(app.screen.query_one("#summary"))
        assert "1 task, 3 questions:" in summary and "agrees" in summary
        assert "F8 Findings" in str(app.screen.query_one(ViewBar).render())
        body = shown(app, "#findings")
        for question in ("Family: LED against", "Size or length:", "Fixed budget:"):
            assert body.count(question) == 1
        assert body.count("Ang, Dhingra & Wu Wills (2022), abstract") == 3  # the study's claims, quoted
        assert "points: 12 measured, 0 predicted" in body
        assert "LED−BigBird accuracy" in body  # a comparison's numbers


async def test_findings_are_computed_only_while_shown(tmp_path, monkeypatch):
    import costmodel.findings

    computed, real = [], costmodel.findings.findings

    def counted(rows, *args, **options):
        computed.append(sum(1 for r in rows if r.get("status") == "ok"))
        return real(rows, *args, **options)

    monkeypatch.setattr(costmodel.findings, "findings", counted)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert computed == [8]
        await pilot.press("f1", "ctrl+r")  # four more measured, the snapshot refreshed after each
        await settle(pilot)
        assert computed == [8]
        await pilot.press("f8")
        await settle(pilot)
        assert computed == [8, 12]
        assert "points: 12 measured, 0 predicted" in shown(app, "#findings")


async def test_findings_of_an_empty_grid_say_why(tmp_path):
    app = make_app(tmp_path, stored=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f8")
        await settle(pilot)
        assert "nothing of this grid is measured" in text(app.screen.query_one("#summary"))


async def test_the_detail_of_a_measured_row(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_row(pilot, "measured")
        assert "Figures per phase" in body and "per repetition, s" in body and "p10–p90" in body
        assert "gen, s" in body  # the generation timing with its spread
        assert "Energy source: estimate" in body and "ESTIMATE" in body
        assert "Fake CPU" in body and "fakefp000001" in body
        assert "rouge_mean" in body
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "results" and not isinstance(app.screen, DetailScreen)


async def test_the_detail_of_a_failed_row_gives_the_whole_reason_and_measures_it_again(tmp_path):
    reason = "RuntimeError: out of memory " + "x" * 300
    runner = FakeRunner(fail={DEMO.grid()[9].label(): reason})
    app = make_app(tmp_path, runner=runner)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        body = await open_row(pilot, "failed")
        assert "Failed in phase train (error)" in body
        assert "x" * 300 in body.replace("\n", "")
        await pilot.press("m")
        await pilot.pause()
        assert "Measure 1 configuration again? The 1 stored here is forgotten first." in text(
            app.screen.query_one("#question")
        )
        await pilot.press("y")
        await settle(pilot)
        assert [c.key() for c in runner.calls[-1]] == [DEMO.grid()[9].key()]
        assert app.run_state.ended.startswith("finished: 0 measured, 1 failed, 0 already stored")


async def test_the_detail_of_a_predicted_row_names_its_fit_and_neighbours(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_row(pilot, "predicted")
        assert "Predicted by the cost model" in body and "90% interval" in body
        assert "infer_latency" in body and "train_energy" in body
        assert "LinearForm (fakefp000001 cpu float32): const" in body  # the fit's form, scope, coefficients
        assert "leave-one-config-out" in body  # its held-out errors
        assert "nearest measured configurations" in body
        assert body.count(" away") == 3


async def test_marked_rows_are_measured_again(tmp_path):
    runner = FakeRunner()
    app = make_app(tmp_path, runner=runner)
    async with app.run_test(size=(120, 40)) as pilot:
        table = await results(pilot)
        points = app.screen._shown()
        first = next(i for i, p in enumerate(points) if kind(p) == "measured")
        table.move_cursor(row=first, column=0)
        await pilot.press("space")
        await pilot.pause()
        assert "1 marked" in text(app.screen.query_one("#summary"))
        assert table.ordered_rows[first].label.plain == "●"
        key = points[first].row["key"]
        before = [r.created for r in app.store.records() if r.config.key() == key]
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "forgotten first" in text(app.screen.query_one("#question"))
        await pilot.press("y")
        await settle(pilot)
        assert [[c.key() for c in call] for call in runner.calls] == [[key]]
        assert app.run_state.ended.startswith("finished: 1 measured, 0 failed, 0 already stored")
        assert len([r for r in app.store.records() if r.config.key() == key]) == len(before) == 1
        await pilot.press("f3")
        await settle(pilot)
        assert "marked" not in text(app.screen.query_one("#summary"))


@pytest.mark.slow
async def test_a_stored_row_is_measured_again_for_real_in_a_child_process(tmp_path):
    """One tiny synthetic configuration, measured by sweep.run, then measured again from Results."""
    tiny = Preset(
        name="tiny",
        description="one tiny LED on the synthetic task, inference only",
        path=None,
        families=("led",),
        sizes=("tiny",),
        input_lens=(128,),
        weights=("random",),
        batch_sizes=(2,),
        tasks=("synthetic",),
        phases=("infer",),
        repetitions=3,
        min_window_s=0.2,
        warmup=1,
        gen_tokens=4,
    )
    config = tiny.grid()[0]
    app = make_app(tmp_path, preset=tiny, stored=0, runner=sweep.run, clock=time.monotonic)
    sweep.run([config], app.store)
    (first,) = app.store.records()
    assert first.status == "ok"
    async with app.run_test(size=(120, 40)) as pilot:
        table = await results(pilot)
        assert [str(table.get_row_at(i)[0]) for i in range(table.row_count)] == ["measured"]
        await pilot.press("m")  # no row marked: the row under the cursor
        await pilot.pause()
        await pilot.press("y")
        await run_to_end(pilot, 120)  # a child process: some seconds on two cores
        assert app.run_state.ended.startswith("finished: 1 measured, 0 failed, 0 already stored")
    (again,) = app.store.records()  # the old record was forgotten, not kept beside the new one
    assert again.status == "ok" and again.created > first.created
    assert again.env["fingerprint"] == first.env["fingerprint"]
    app.store.close()


async def test_the_detail_of_a_row_neither_measured_nor_predicted_says_why(tmp_path):
    app = make_app(tmp_path, stored=2)  # too few for a cost model
    async with app.run_test(size=(120, 40)) as pilot:
        body = await open_row(pilot, "not measured")
        assert "Not measured, and not predicted: no cost model yet" in body and "(2 so far)" in body


def test_a_detail_pairs_each_timing_with_its_spread_and_says_why_energy_fell_back():
    from rich.console import Console

    from tests.test_app_fakes import fake_record
    from tui import row_detail

    record = fake_record(DEMO.grid()[0])
    infer = record.phase("infer")
    figures = {**infer.figures, "gen_p10_s": 0.07, "gen_p90_s": 0.09, "gen_repetitions": 5}
    phases = tuple(
        dataclasses.replace(p, figures=figures) if p.phase == "infer" else p for p in record.phases
    )
    fallbacks = ["rapl: /sys/class/powercap is not readable", "nvml: no NVIDIA driver"]
    record = dataclasses.replace(record, phases=phases, env={**record.env, "energy_fallbacks": fallbacks})
    console = Console(width=160, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(row_detail.phases(record), row_detail.energy(record))
    text = console.export_text()
    gen = next(line for line in text.splitlines() if "gen, s" in line)
    assert "0.0700–0.0900" in gen and "5 repetitions" in gen
    assert "fell back because:" in text and all(reason in text for reason in fallbacks)
