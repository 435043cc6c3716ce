"""Recommend: the best configuration within a budget and why; the next ones worth measuring, to queue.

The answer (at every change of a budget, the task or the cost) and the suggestions (at every new
snapshot) are computed in exclusive thread workers, so typing never waits on them, and a newer
computation replaces the one in flight, whose result is never shown.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Label, Select, Static
from textual.worker import Worker, get_current_worker

from engine.config import RunConfig
from tui import names
from tui.format import fmt
from tui.points import metrics_by_task, row_label, scores_shown
from tui.screens.base import ViewScreen
from tui.widgets.axis_row import AxisRow
from tui.workspace import missing_reason, no_model_reason

SUGGESTIONS = 5
BUDGETS = {"energy": "energy ≤", "latency": "latency ≤", "memory": "infer peak ≤"}  # budget -> its label
COSTS = ("encoder", "generation")
NEXT_TITLE = "Next configurations worth measuring (most uncertainty removed per joule):"


def _quantity(cost: str, budget: str) -> str:
    if budget == "memory":
        return "infer_memory"
    return f"{'infer' if cost == 'encoder' else 'gen'}_{budget}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def answer(snap, budgets: dict[str, float], task, cost: str) -> tuple[str, object]:
    """The best configuration of `task` within `budgets` (by quantity, in the model's units) and why,
    its cost counted as `cost` ("encoder" or "generation"); and its Prediction (None: no best)."""
    if snap.model is None:
        then = "the best configuration within a budget then shows here"
        if snap.todo():
            return f"{_sentence(no_model_reason(snap))}.\nMeasure the grid (F2, r); {then}.", None
        return (
            f"{_sentence(no_model_reason(snap))}.\nEvery configuration of this grid is measured: "
            f"choose a larger one on Setup (F1, e.g. the cpu-demo preset) and run it; {then}."
        ), None
    from costmodel.pareto import best_within, cheapest_tied, pareto_front

    energy = _quantity(cost, "energy")
    preds = [p for p in snap.predictions if str(p.row.get("task")) == task]
    rated = [p for p in preds if p.value("accuracy") is not None and all(p.get(q) for q in budgets)]
    if not rated:
        lacking = next((q for q in ("accuracy", *budgets) if not any(p.get(q) for p in preds)), "accuracy")
        reason = names.plain(missing_reason(snap, lacking, str(task)))
        return (
            f"No configuration of task {task} can be compared: none has a predicted or measured "
            f"{names.name(lacking)}.\nWhy: {reason}."
        ), None
    scores = {p.value("accuracy") for p in rated}
    if len(rated) > 1 and len(scores) == 1:
        measured = sum(1 for p in rated if p.kind == "measured")
        return (
            f"No configuration of task {task} can be compared: all {len(rated)} score "
            f"{fmt(scores.pop())} ({measured} measured, the rest predicted from them).\n"
            "Why: accuracy cannot tell them apart; train longer or from pre-trained weights."
        ), None
    best = best_within(preds, budgets)
    if best is None:
        lows = [
            f"the least {names.name(q)} is {fmt(min(p.value(q) for p in rated) * names.scale(q))} "
            f"{names.unit(q)}"
            for q in budgets
        ]
        return "Nothing fits the budget: " + "; ".join(lows) + ". Loosen a limit.", None
    fits = [p for p in rated if best_within([p], budgets) is not None]
    ranked = sorted(fits, key=lambda p: -p.value("accuracy"))
    lines = [
        f"[b]Best: {row_label(best.row)}[/b] — {best.kind}" + (", extrapolated" if best.extrapolated else "")
    ]
    acc = best.get("accuracy")
    acc_text = f"accuracy {fmt(acc.best)}"
    if acc.measured is None:
        acc_text += f" [{fmt(acc.low)}–{fmt(acc.high)}]"
    figures = [acc_text]
    for q in dict.fromkeys([energy, _quantity(cost, "latency"), *budgets]):
        est = best.get(q)
        if est is not None:
            limit = f" ≤ {fmt(budgets[q] * names.scale(q))}" if q in budgets else ""
            figures.append(f"{names.name(q)} {fmt(est.best * names.scale(q))}{limit} {names.unit(q)}")
    lines.append(" · ".join(figures))
    if budgets:
        why = f"Why: the most accurate of the {len(fits)} configurations within budget (of {len(rated)})"
    else:
        why = f"Why: the most accurate of all {len(rated)} configurations (no budget yet: b types one)"
    if len(ranked) > 1:
        second = ranked[1]
        why += (
            f"; next is {row_label(second.row)} at {fmt(second.value('accuracy'))}"
            f" for {fmt(second.value(energy))} J/batch"
        )
    lines.append(why + ".")
    shown = scores_shown(snap.rows, snap.scores, metrics_by_task(snap.rows))
    tie = cheapest_tied(best, fits, lambda p: p.value(energy), lambda p: shown.get(str(p.row.get("key"))))
    if tie is not None:
        lines.append(
            f"[b]Tied within noise: {row_label(tie.row)}[/b] at {fmt(tie.value('accuracy'))} for "
            f"{fmt(tie.value(energy))} J/batch, {fmt(best.value(energy) / tie.value(energy))}× less "
            "energy: the paired 90% interval of their accuracy difference covers 0, and it is the "
            "cheapest such."
        )
    on_front = best in pareto_front(preds, energy) if best.get(energy) else False
    lines.append(
        ("On" if on_front else "Not on")
        + " the accuracy–energy frontier."
        + (" Predicted, not measured: w queues it to confirm." if best.kind == "predicted" else "")
    )
    return "\n".join(lines), best


class AnswerReady(Message):
    """The answer for the budgets, task and cost given, and the recommended Prediction (None: none)."""

    def __init__(self, worker: Worker, text: str, best) -> None:
        super().__init__()
        self.worker, self.text, self.best = worker, text, best


class SuggestionsReady(Message):
    """The configurations worth measuring next, each with its Suggestion, or why there are none."""

    def __init__(self, worker: Worker, suggestions: list, why_none: str) -> None:
        super().__init__()
        self.worker, self.suggestions, self.why_none = worker, suggestions, why_none


class RecommendScreen(ViewScreen):
    """Budgets are typed in the top line; the answer and the suggestions follow as they change."""

    VIEW = "recommend"
    DEFAULT_CSS = """
    RecommendScreen {
        .line { height: 1; padding: 0 1; }
        .line Label { width: auto; padding-right: 1; }
        .line Input { width: 8; margin-right: 1; }
        .unit { width: auto; margin-right: 1; color: $text-muted; }
        #task { width: 28; }
        #cost { width: 1fr; padding: 0 0 0 2; }
        #budget-problem { color: $error; height: auto; padding: 0 1; display: none; }
        #answer { height: auto; padding: 0 1; margin: 1 0; border: round $primary; }
        #next-title { height: auto; padding: 0 1; text-style: bold; }
        #next { height: 1fr; }
    }
    """
    BINDINGS = [
        Binding(
            "b",
            "focus_budget",
            "Budget",
            tooltip="Type an energy, latency or memory budget",
            id="recommend.focus-budget",
        ),
        Binding(
            "q",
            "queue",
            "Queue",
            tooltip="Queue the suggestion under the cursor for the Run view",
            id="recommend.queue",
        ),
        Binding(
            "a",
            "queue_all",
            "Queue all",
            tooltip="Queue every suggestion for the Run view",
            id="recommend.queue-all",
        ),
        Binding(
            "w",
            "queue_best",
            "Queue best",
            tooltip="Queue the recommended configuration, if predicted",
            id="recommend.queue-best",
        ),
        Binding("escape", "leave_budget", "Done", show=False, id="recommend.leave-budget"),
    ]

    def compose_body(self) -> ComposeResult:
        with Horizontal(classes="line"):
            for name, label in BUDGETS.items():
                yield Label(label)
                yield Input(placeholder="none", id=f"budget-{name}", compact=True)
                yield Static(names.unit(_quantity(COSTS[0], name)), classes="unit")
        with Horizontal(classes="line"):
            yield Label("task")
            yield Select([], prompt="task", allow_blank=True, compact=True, id="task")
            yield AxisRow("cost of", COSTS, ("encoder",), multiple=False, id="cost")
        yield Static("", id="budget-problem")
        yield Static(id="answer")
        yield Static(NEXT_TITLE, id="next-title")
        table = DataTable(id="next", cursor_type="row", zebra_stripes=True)
        table.add_columns("#", "configuration", "predicted cost J", "uncertainty removed", "per joule")
        yield table

    def __init__(self) -> None:
        super().__init__()
        self.best = None  # the recommended Prediction
        self.suggestions: list = []  # (RunConfig, costmodel.sample.Suggestion) worth measuring next
        self.suggested: list[RunConfig] = []

    def on_mount(self) -> None:
        self.query_one("#next", DataTable).focus()

    def _data_changed(self, version: int) -> None:
        tasks = sorted({str(p.row.get("task")) for p in self.app.snap.points})
        select = self.query_one("#task", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options([(t, t) for t in tasks])
            if current in tasks:
                select.value = current
            elif tasks:
                select.value = tasks[0]
        self._suggest(self.app.snap)
        self._update()

    @on(Input.Changed)
    @on(Select.Changed)
    @on(AxisRow.Changed)
    def _inputs_changed(self) -> None:
        self._update()

    def _budgets(self) -> dict[str, float]:
        """Limits in the model's units, by quantity (ValueError: one line)."""
        cost = self.query_one("#cost", AxisRow).selected[0]
        out = {}
        for name in BUDGETS:
            quantity = _quantity(cost, name)
            text = self.query_one(f"#budget-{name}", Input).value.strip()
            if not text:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1.0
            if not value > 0:
                unit = names.unit(quantity)
                raise ValueError(f"{name}: {text!r} is not a positive number of {unit} (blank: no limit)")
            out[quantity] = value / names.scale(quantity)
        return out

    def _update(self) -> None:
        problem = self.query_one("#budget-problem", Static)
        try:
            budgets = self._budgets()
        except ValueError as exc:
            problem.update(str(exc))
            problem.display = True
            return
        problem.display = False
        task = self.query_one("#task", Select).value
        cost = self.query_one("#cost", AxisRow).selected[0]
        self._answer(self.app.snap, budgets, task, cost)

    @work(thread=True, exclusive=True, group="answer")
    def _answer(self, snap, budgets: dict[str, float], task, cost: str) -> None:
        worker = get_current_worker()
        text, best = answer(snap, budgets, task, cost)
        if not worker.is_cancelled:
            self.post_message(AnswerReady(worker, text, best))

    @on(AnswerReady)
    def _show_answer(self, message: AnswerReady) -> None:
        if message.worker.is_cancelled:  # newer budgets or a newer snapshot: their answer is on its way
            return
        self.best = message.best
        self.query_one("#answer", Static).update(message.text)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="suggest")
    def _suggest(self, snap) -> None:
        from costmodel.sample import next_to_measure

        worker = get_current_worker()
        found: list = []
        why_none = ""
        if snap.model is None:
            why_none = no_model_reason(snap)
        else:
            configs = {c.key(): c for c in snap.configs}
            grid = [p.row for p in snap.predictions]
            ok = [r for r in snap.rows if r.get("status") == "ok"]
            for s in next_to_measure(snap.model, grid, ok, SUGGESTIONS):
                if (config := configs.get(s.row.get("key"))) is not None:
                    found.append((config, s))
            if not found and not snap.todo():
                why_none = "every configuration of the grid is measured"
            elif not found:
                why_none = (
                    f"the cost model has no prediction with an interval for the {len(snap.todo())} left"
                )
        if not worker.is_cancelled:
            self.post_message(SuggestionsReady(worker, found, why_none))

    @on(SuggestionsReady)
    def _show_suggestions(self, message: SuggestionsReady) -> None:
        if message.worker.is_cancelled:  # a newer snapshot's suggestions are on their way
            return
        self.suggestions = message.suggestions
        title = NEXT_TITLE if self.suggestions else f"{NEXT_TITLE} none — {message.why_none}"
        self.query_one("#next-title", Static).update(title)
        self._draw_suggestions()

    def _draw_suggestions(self) -> None:
        table = self.query_one("#next", DataTable)
        table.clear()
        self.suggested = [config for config, _ in self.suggestions]
        for i, (config, s) in enumerate(self.suggestions, 1):
            queued = " (queued)" if config in self.app.queue else ""
            table.add_row(str(i), config.label() + queued, fmt(s.cost_j), fmt(s.removed), fmt(s.score))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("queue", "queue_all"):
            return True if self.suggested else None
        if action == "queue_best":
            return True if self.best is not None and self.best.kind == "predicted" else None
        return True

    def _queue(self, configs: list[RunConfig]) -> None:
        added = [c for c in configs if c not in self.app.queue]
        self.app.queue.extend(added)
        self._draw_suggestions()
        self.notify(f"Queued {len(added)} ({len(self.app.queue)} in all): F2 then r measures them.")

    def action_focus_budget(self) -> None:
        self.query_one("#budget-energy", Input).focus()

    def action_leave_budget(self) -> None:
        self.query_one("#next", DataTable).focus()

    def action_queue(self) -> None:
        row = self.query_one("#next", DataTable).cursor_row
        if 0 <= row < len(self.suggested):
            self._queue([self.suggested[row]])

    def action_queue_all(self) -> None:
        self._queue(list(self.suggested))

    def action_queue_best(self) -> None:
        configs = {c.key(): c for c in self.app.snap.configs}
        if self.best is not None and self.best.row.get("key") in configs:
            self._queue([configs[self.best.row["key"]]])
