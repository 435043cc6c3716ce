"""Measured records and a grid in, the cost model's fit and a prediction for every grid point out."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Analysis:
    records: list[dict]  # the full records (Record.to_dict), for JSON exports
    rows: list[dict]  # flat rows of the measured records (ok and failed)
    grid: list[dict]  # flat rows of every grid point
    predictions: list = field(default_factory=list)  # costmodel Prediction per grid point
    model: object | None = None  # costmodel Model
    problems: list[str] = field(default_factory=list)  # fits that could not be made, one line each
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # row key -> per-example scores
    findings: list = field(default_factory=list)  # costmodel.findings TaskFindings, per task


def analyse(records: list, configs: list | None = None, *, fit_on: str | None = None) -> Analysis:
    """Fit on the successful records (those matching fit_on) and predict every configuration of the grid.

    Without configs the grid is the measured configurations themselves. Raises
    costmodel.errors.SelectError for a bad fit_on expression.
    """
    from costmodel.predict import fit_model
    from costmodel.select import select
    from engine.rows import grid_rows, record_rows
    from tui.report import report_findings

    rows = record_rows(records)
    grid = grid_rows(configs) if configs else [dict(r) for r in rows]
    fit_rows = [r for r in rows if r["status"] == "ok"]
    if fit_on:
        fit_rows = select(fit_rows, fit_on)
    out = Analysis(records=[r.to_dict() for r in records], rows=rows, grid=grid)
    out.scores = {r.config.key(): r.example_scores for r in records if r.example_scores}
    if not fit_rows:
        out.problems.append("no successful measurement to fit the cost model on")
    else:
        model = fit_model(fit_rows)
        out.model, out.problems = model, list(model.problems)
        if model.fits:
            out.predictions = model.predict(grid, rows)
    out.findings = report_findings(rows, out.predictions, out.scores)
    return out
