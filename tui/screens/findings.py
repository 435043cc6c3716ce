"""Findings: the study's three questions per task, answered on this grid and machine, with verdicts.

The findings (costmodel.findings, a bootstrap per comparison: seconds of CPU) are computed in a
thread worker from the app's current snapshot, only while the view is shown and never during a run,
whose measurements they would skew; they are drawn with the report's renderables
(tui.findings_view), one question under another at the view's full width rather than in the
report's five columns.
"""

from __future__ import annotations

from rich.console import Group
from rich.padding import Padding
from rich.rule import Rule
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, get_current_worker

from tui.screens.base import ViewScreen


class FindingsReady(Message):
    """The findings of a snapshot, from the worker that computed them: a summary line and their renderable."""

    def __init__(self, worker: Worker, summary: Text, body: Group) -> None:
        super().__init__()
        self.worker, self.summary, self.body = worker, summary, body


def summary_line(task_findings: list) -> Text:
    """How many questions agree with the study, disagree and are undecided, over every task."""
    from costmodel.findings import VERDICTS
    from tui.findings_view import VERDICT_STYLES

    verdicts = [f.verdict for tf in task_findings for f in tf.findings]
    text = Text(f"{len(task_findings)} task{'s' * (len(task_findings) != 1)}, {len(verdicts)} questions: ")
    for i, verdict in enumerate(VERDICTS):
        text.append(", " * bool(i))
        text.append(f"{verdicts.count(verdict)} {verdict}", style=VERDICT_STYLES[verdict])
    text.append(" · predicted points in italics", style="dim")
    return text


def findings_body(task_findings: list) -> Group:
    """Per task a rule, then per question: its name and verdict, the answer with its numbers, and the
    study's claim."""
    from tui.findings_view import QUESTIONS, VERDICT_STYLES, answer, claim

    parts: list = []
    for tf in task_findings:
        parts.append(Rule(f"{tf.task} ({tf.task_kind}, {tf.metric})", align="left"))
        for f in tf.findings:
            head = Text(QUESTIONS[f.question], style="bold")
            head.append("  ")
            head.append(f.verdict, style=f"bold {VERDICT_STYLES[f.verdict]}")
            study = Text("the study: ", style="dim") + claim(f)
            parts += [head, Padding(answer(f), (0, 0, 0, 2)), Padding(study, (0, 0, 1, 2))]
    return Group(*parts)


class FindingsScreen(ViewScreen):
    """The report's findings, recomputed whenever the snapshot changes."""

    VIEW = "findings"
    DEFAULT_CSS = """
    FindingsScreen {
        #summary { height: auto; padding: 0 1; color: $text-muted; }
        #scroll { height: 1fr; }
        #findings { padding: 0 1; }
    }
    """

    def compose_body(self) -> ComposeResult:
        yield Static("Computing the findings…", id="summary")
        with VerticalScroll(id="scroll"):
            yield Static(id="findings")

    def __init__(self) -> None:
        super().__init__()
        self._asked = -1  # the app version whose findings are shown or on their way

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#scroll").focus()

    def on_screen_resume(self) -> None:
        self._refresh()

    def _data_changed(self, version: int) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if not self.is_current or self.app.version == self._asked:
            return
        if self.app.run_state.running:  # the run's end refreshes the snapshot, and so the findings
            self.query_one("#summary", Static).update(
                "A run is going: the findings are computed again once it ends (their bootstrap would "
                "skew its measurements)."
            )
            return
        self._asked = self.app.version
        self._compute(self.app.snap)

    @work(thread=True, exclusive=True, group="findings", exit_on_error=False)
    def _compute(self, snap) -> None:
        """The findings of `snap`; a newer snapshot's computation cancels this one, which shows nothing."""
        from tui.workspace import no_model_reason

        worker = get_current_worker()
        try:
            found = snap.findings
        except Exception as exc:  # noqa: BLE001 - said on the view; the app goes on
            self.post_message(FindingsReady(worker, Text(f"findings: {type(exc).__name__}: {exc}"), Group()))
            return
        if found:
            summary = summary_line(found)
        elif not snap.rows:
            summary = Text(
                "No findings yet: nothing of this grid is measured on this machine (F1 Setup, ctrl+r)."
            )
        else:
            summary = Text("No findings: no measured configuration of this grid carries an accuracy metric.")
        if snap.model is None and found:
            summary.append(f"\n{no_model_reason(snap)}: findings rest on measured points only", style="dim")
        if not worker.is_cancelled:
            self.post_message(FindingsReady(worker, summary, findings_body(found)))

    @on(FindingsReady)
    def _show(self, message: FindingsReady) -> None:
        if message.worker.is_cancelled:  # a newer snapshot's findings are on their way
            return
        self.query_one("#summary", Static).update(message.summary)
        self.query_one("#findings", Static).update(message.body)
