"""The report's Findings section: the study's three questions per task, with numbers and verdicts.

Renders costmodel.findings.TaskFindings as a Rich table (one row per question: the answer with its
counts, the measured and predicted points it rests on, each comparison's numbers with their 90%
intervals, the verdict and the study's own claim), and as plain data for JSON exports.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from tui.report import PREDICTED, _compact, fmt

if TYPE_CHECKING:
    from rich.table import Table

    from costmodel.findings import Finding, TaskFindings
    from costmodel.uncertainty import Interval

QUESTIONS = {
    "family": "Family: LED against BigBird-Pegasus",
    "size_or_length": "Size or length: one step up in each",
    "fixed_budget": "Fixed budget: the smaller model",
}
VERDICT_STYLES = {"agrees": "green", "disagrees": "red", "undecided": "yellow"}


def interval_text(x: Interval | None, unit: str = "") -> str:
    """`value [low, high]` with the 90% interval, or the value alone where it has none."""
    if x is None:
        return "—"
    unit = f" {unit}" if unit else ""
    if not x.bounded:
        return f"{fmt(x.value)}{unit} [no interval]"
    if x.low == x.high:
        return f"{fmt(x.value)}{unit}"
    return f"{fmt(x.value)} [{fmt(x.low)}, {fmt(x.high)}]{unit}"


def _kind(p) -> str:
    return "" if p.kind == "measured" else " (predicted)"


def comparison_line(c) -> str:
    """One comparison's numbers, by the kind of comparison (FamilyPair, Step or BudgetPair)."""
    if hasattr(c, "led"):
        return (
            f"{c.led.size} n={c.led.input_len}: LED−BigBird accuracy {interval_text(c.accuracy)}, "
            f"energy {interval_text(c.energy, 'J')}{_kind(c.led)}{_kind(c.bigbird)} → {c.verdict}"
        )
    if hasattr(c, "start"):
        slow = f", size step slows inference {interval_text(c.slowdown)}x" if c.slowdown else ""
        return (
            f"{c.start.label}{_kind(c.start)}: size step {interval_text(c.size_gain, '/J')}, "
            f"length step {interval_text(c.length_gain, '/J')}{slow} → {c.verdict}"
        )
    return (
        f"{c.smaller.label}{_kind(c.smaller)} vs {c.larger.label}{_kind(c.larger)}: accuracy "
        f"{interval_text(c.accuracy)}, energy {interval_text(c.energy, 'J')} → {c.verdict}"
    )


def answer(f: Finding) -> Text:
    """A finding's answer: its summary, how many of its points are measured, and each comparison."""
    text = Text(f.summary)
    text.append(f"\npoints: {len(f.measured)} measured, {len(f.predicted)} predicted", style="dim")
    for c in f.comparisons:
        line = comparison_line(c)
        text.append("\n· " + line, style=PREDICTED if "(predicted)" in line else "")
    return text


def claim(f: Finding) -> Text:
    """The study's claim a finding is held against, with its source."""
    text = Text(f.claim.text, style="italic")
    text.append(f"\n— {f.claim.source}", style="dim")
    if not f.claim_applies:
        text.append(f"\n(the study claimed this for {f.claim.task_kind} tasks)", style="dim")
    return text


def findings_table(task_findings: Sequence[TaskFindings]) -> Table | None:
    """The Findings section, one row per task and question; None when there is no task to answer."""
    if not task_findings:
        return None
    table = _compact(
        "Findings: the study's questions on this grid and hardware",
        "verdict against the study's claim: agrees, disagrees, or undecided (the 90% intervals overlap) · "
        "energy is fine-tuning plus generating the evaluated examples",
    )
    for name in ("task", "question", "verdict", "answer and numbers", "the study's claim"):
        table.add_column(name, overflow="fold")
    for tf in task_findings:
        table.add_section()
        for f in tf.findings:
            table.add_row(
                f"{tf.task}\n({tf.task_kind}, {tf.metric})",
                QUESTIONS[f.question],
                Text(f.verdict, style=f"bold {VERDICT_STYLES[f.verdict]}"),
                answer(f),
                claim(f),
            )
    return table


def findings_data(task_findings: Sequence[TaskFindings]) -> list[dict]:
    """The findings as plain data (every dataclass a dict), for JSON exports."""
    return [dataclasses.asdict(tf) for tf in task_findings]
