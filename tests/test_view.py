"""One view model for both front ends: `report`, `predict` and the app's snapshot agree on a database
that holds two machines, each fitted on its own records."""

from __future__ import annotations

import dataclasses
import json

import pytest

from costmodel.predict import fit_model
from engine.preset import load_preset
from engine.store import Store
from tests.test_app_fakes import ENV, fake_record, fixed_batch_demo
from tui.cli import main
from tui.workspace import fit_rows, machine_records, snapshot

FAST = {**ENV, "hardware": "Fast CPU", "fingerprint": "fastfp000001"}
SLOW = {**ENV, "hardware": "Slow CPU", "fingerprint": "slowfp000001"}
SLOWER = 3.0  # the slow machine takes this many times longer, and as much more energy


def _slower(record, k: float):
    """The record as a machine k times slower would measure it (latency and energy times k)."""

    def timing(t):
        return t and dataclasses.replace(t, median_s=k * t.median_s, p10_s=k * t.p10_s, p90_s=k * t.p90_s)

    def energy(e):
        return e and dataclasses.replace(e, joules=k * e.joules, above_idle_j=k * e.above_idle_j)

    phases = tuple(
        dataclasses.replace(
            p,
            seconds=k * p.seconds,
            timing=timing(p.timing),
            energy=energy(p.energy),
            figures={n: (k * v if n.startswith("gen_") else v) for n, v in p.figures.items()},
        )
        for p in record.phases
    )
    return dataclasses.replace(record, phases=phases)


@pytest.fixture(scope="module")
def two_machines(tmp_path_factory):
    """An SQLite file on disk: the cpu-demo grid (at a fixed batch) measured on a slow machine, then on
    a fast one, and that grid's preset file."""
    folder = tmp_path_factory.mktemp("view")
    db, demo = folder / "two.sqlite", str(fixed_batch_demo(folder))
    grid = load_preset(demo).grid()
    with Store(db, create=True) as store:
        for config in grid:
            store.put(_slower(fake_record(config, env=SLOW), SLOWER))
        for config in grid:
            store.put(dataclasses.replace(fake_record(config, env=FAST), created="2026-01-02T00:00:00"))
    return db, demo, len(grid)


def _app_snapshot(db, preset: str):
    """The snapshot the app builds for a preset (TradeoffApp._snapshot, the fit made in process)."""
    configs = load_preset(preset).grid()
    with Store(db) as store:
        records, env, elsewhere = machine_records(store, configs[0].device)
    return snapshot(configs, records, env, fit_model(fit_rows(records)), elsewhere)


def _predictions(path) -> dict[str, dict[str, float]]:
    data = json.loads(path.read_text())
    return {p["key"]: {q: e["value"] for q, e in p["estimates"].items()} for p in data["predictions"]}


def _values(snap) -> dict[str, dict[str, float]]:
    return {p.row["key"]: {q: e.value for q, e in p.estimates.items()} for p in snap.predictions}


def test_report_and_predict_give_the_apps_numbers_on_a_two_machine_database(two_machines, tmp_path):
    db, demo, configs = two_machines
    app = _app_snapshot(db, demo)
    assert app.env["fingerprint"] == FAST["fingerprint"] and len(app.fit_rows) == configs
    report, predict = tmp_path / "report.json", tmp_path / "predict.json"
    assert main(["report", "--db", str(db), "--preset", demo, "--export", str(report)]) == 0
    assert main(["predict", "--db", str(db), "--preset", demo, "--export", str(predict)]) == 0
    expected = _values(app)
    assert expected and all("infer_latency" in v for v in expected.values())
    assert _predictions(report) == expected
    assert _predictions(predict) == expected
    records = json.loads(report.read_text())["records"]
    assert {r["env"]["fingerprint"] for r in records} == {FAST["fingerprint"]}


def test_stored_records_are_reported_per_machine_each_fitted_on_its_own(two_machines, tmp_path, capsys):
    db, _, configs = two_machines
    out = tmp_path / "stored.json"
    assert main(["report", "--db", str(db), "--export", str(out)]) == 0
    text = capsys.readouterr().out
    assert "stored records of Slow CPU (slowfp000001)" in text
    assert "stored records of Fast CPU (fastfp000001)" in text
    fast = _predictions(tmp_path / "stored-fastfp000001.json")
    slow = _predictions(tmp_path / "stored-slowfp000001.json")
    assert fast.keys() == slow.keys() and len(fast) == configs
    for key in fast:  # measured on both: each machine's figures, not a median across them
        ratio = slow[key]["infer_latency"] / fast[key]["infer_latency"]
        assert ratio == pytest.approx(SLOWER, rel=0.01)


def test_predict_fits_on_this_machines_records_outside_the_grid(two_machines, capsys):
    """The smoke grid holds none of the cpu-demo configurations: `predict` and `report` predict it from
    them, as the app does."""
    db = two_machines[0]
    app = _app_snapshot(db, "smoke")
    for command in ("predict", "report"):
        assert main([command, "--db", str(db), "--preset", "smoke"]) == 0
        text = capsys.readouterr().out
        assert "2 predicted" in text and "no successful measurement" not in text, command
    assert len(app.predictions) == 2 and all(p.get("infer_latency") for p in app.predictions)


def test_every_fit_on_example_of_the_help_runs(two_machines, capsys):
    import re

    from tui.cli import _predict_parser

    examples = re.findall(r"'([^']+)'", _predict_parser()._option_string_actions["--fit-on"].help)
    assert examples
    for expression in examples:
        assert (
            main(["predict", "--db", str(two_machines[0]), "--preset", "smoke", "--fit-on", expression]) == 0
        )
        out = capsys.readouterr().out
        assert "unknown field" not in out and "2 predicted" in out, expression
