"""Numbers and empty answers that say the truth: elapsed time, auto batches, why nothing is predicted."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable, Static

from engine.preset import load_preset
from tests.test_app_fakes import DEMO, fake_record, make_app, settle


def text(widget: Static) -> str:
    return str(widget.render())


async def test_elapsed_stops_when_the_run_ends(tmp_path):
    now = [0.0]
    app = make_app(tmp_path, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        now[0] = 19.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        now[0] = 200.0
        app.screen._tick()
        timing = text(app.screen.query_one("#timing"))
        assert "took 0 s" in timing and "3:" not in timing and "elapsed" not in timing


async def test_a_grid_on_another_device_says_its_measurements_are_elsewhere(tmp_path):
    demo = load_preset("cpu-demo")
    app = make_app(tmp_path, preset=demo, stored=12, device_probe=lambda: ("cpu", "cuda"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.snap.model is not None  # fitted on the 12 cpu records
        app.screen.query_one("#preset").value = "paper"  # cuda, batch auto
        await settle(pilot)
        assert app.preset.name == "paper" and app.snap.model is None
        summary = text(app.screen.query_one("#summary"))
        assert "with cuda" in summary and "(0 so far)" in summary and "12 on cpu (Fake CPU)" in summary
        await pilot.press("f3")
        await settle(pilot)
        table = app.screen.query_one("#table", DataTable)
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        assert {r[0] for r in cells} == {"not measured"}  # not "predicted" with every cell empty
        assert {r[5] for r in cells} == {"auto"}  # the batch the sweep chooses, not 0
        assert "12 on cpu (Fake CPU)" in text(app.screen.query_one("#summary"))
        await pilot.press("f5")
        await settle(pilot)
        assert "12 on cpu (Fake CPU)" in text(app.screen.query_one("#answer"))
        assert "none — no cost model yet" in text(app.screen.query_one("#next-title"))


async def test_recommend_says_why_no_accuracy_can_be_compared(tmp_path):
    app = make_app(tmp_path, stored=0)
    for config in DEMO.grid()[:8]:
        app.store.put(dataclasses.replace(fake_record(config), metrics={"rouge_mean": 0.0}))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        answer = text(app.screen.query_one("#answer"))
        assert "No configuration of task synthetic can be compared: all " in answer
        assert "score 0 (8 measured, the rest predicted from them)" in answer
        assert "Why: accuracy cannot tell them apart" in answer and "Best" not in answer


async def test_nothing_left_to_measure_says_so(tmp_path):
    app = make_app(tmp_path, stored=12)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        title = text(app.screen.query_one("#next-title"))
        assert "none — every configuration of the grid is measured" in title


async def test_budgets_that_nothing_meets_name_the_quantity_and_unit(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("b", *"0.000001")
        await settle(pilot)  # the answer is computed in a worker
        answer = text(app.screen.query_one("#answer"))
        assert "the least encoder energy is" in answer and "J/batch" in answer and "infer_" not in answer


def test_figures_are_headed_as_in_the_report_and_memory_says_which():
    from tui.report import COLUMNS, HEADERS
    from tui.screens import run
    from tui.screens.results import FIGURES

    report = {HEADERS[n] for n in COLUMNS}
    app_only = {"generate\nJ/batch", "infer peak\nMB"}  # columns the report does not have
    assert {f.header for f in FIGURES} - {"accuracy"} - app_only <= report
    assert {c for c in run.COLUMNS if "/" in c} <= report
    assert "peak MB\nany phase" in report and "infer peak\nMB" not in report


async def test_the_run_names_models_as_every_other_view(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        table = app.screen.query_one("#finished", DataTable)
        labels = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert labels and all(label.startswith(("led-", "bigbird-pegasus-")) for label in labels)
