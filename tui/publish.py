"""A view's report, built once and then printed, shown or exported: the one sequence both front ends use."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import RenderableType

    from tui.workspace import Snapshot


@dataclass(frozen=True)
class Report:
    """A Snapshot's report: the Rich renderables that show it."""

    snap: Snapshot
    renderables: list[RenderableType]


def build(snap: Snapshot, title: str, notes: Sequence[str] = ()) -> Report:
    """The report of a Snapshot (tui.report renders it); `notes` head it, then the model's problems."""
    from tui.report import build_report

    rows, predictions = list(snap.rows), list(snap.predictions)
    renderables = build_report(
        title=title,
        rows=rows,
        predictions=predictions or None,
        model=snap.model,
        env=snap.env,
        notes=[*notes, *snap.problems],
        scores=snap.scores,
        task_findings=snap.findings,
        checks=snap.checks,
        fitted=list(snap.fit_rows),
    )
    return Report(snap, renderables)


def write(
    report: Report,
    paths: Sequence[Path],
    dirs: Sequence[Path] = (),
    failed: Callable[[Path, Exception], None] | None = None,
) -> list[Path]:
    """Write the report to each path (tui.export, the format by extension) and, in each of `dirs`, every
    figure as .svg too (figures need the `figures` extra: without matplotlib there are none); the
    paths written. `failed(path, error)` hears of an export that could not be
    written (OSError, ValueError), which is raised without it."""
    from tui.export import export, figure_files

    snap = report.snap
    figures = {}
    wanted = dirs or any(p.suffix.lower() == ".html" for p in paths)
    if wanted and importlib.util.find_spec("matplotlib") is not None:  # the `figures` extra
        from tui.figures import report_figures  # matplotlib: only when exporting figures

        figures = report_figures(
            list(snap.rows), list(snap.predictions), snap.model, snap.findings, scores=snap.scores
        )
    written = []
    for path in paths:
        try:
            written.append(
                export(
                    path,
                    report.renderables,
                    records=list(snap.records),
                    rows=list(snap.rows),
                    predictions=list(snap.predictions) or None,
                    findings=snap.findings,
                    figures=figures,
                )
            )
        except (OSError, ValueError) as exc:
            if failed is None:
                raise
            failed(path, exc)
    for d in dirs:
        stem = next((p.stem for p in paths if p.parent == d and p.suffix == ".html"), None)
        if stem is not None:
            written += figure_files(d, stem, figures)
    return written
