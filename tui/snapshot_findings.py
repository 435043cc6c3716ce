"""The findings of an app snapshot: its rows, predictions and stored per-example scores, answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.config import RunConfig

if TYPE_CHECKING:
    from costmodel.findings import TaskFindings
    from tui.workspace import Snapshot


def example_scores(snap: Snapshot) -> dict[str, dict[str, float]]:
    """Per-example scores of the snapshot's records, by configuration key."""
    return {
        RunConfig.from_dict(r["config"]).key(): r["example_scores"]
        for r in snap.records
        if r.get("example_scores")
    }


def task_findings(snap: Snapshot) -> list[TaskFindings]:
    """The study's three questions per task, as the report states them (tui.report.report_findings)."""
    from tui.report import report_findings

    return report_findings(list(snap.rows), list(snap.predictions), example_scores(snap))
