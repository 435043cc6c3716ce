"""One axis of the grid on one line: its choices, toggled from the keyboard."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

LABEL_WIDTH = 13


class AxisRow(Widget, can_focus=True):
    """Choices of one axis: left and right move, space or enter toggles (or picks, when single)."""

    DEFAULT_CSS = """
    AxisRow {
        height: auto;
        width: 1fr;
        padding: 0 1;
        &:focus { background: $boost; }
    }
    """
    BINDINGS = [
        Binding("left", "move(-1)", "Previous", show=False, id="axis-row.previous"),
        Binding("right", "move(1)", "Next", show=False, id="axis-row.next"),
        Binding("space,enter", "toggle", "Toggle", show=False, id="axis-row.toggle"),
    ]

    cursor = reactive(0)

    class Changed(Message):
        """The selection changed."""

        def __init__(self, row: AxisRow) -> None:
            super().__init__()
            self.row = row

        @property
        def control(self) -> AxisRow:
            return self.row

    def __init__(
        self,
        label: str,
        choices: tuple[str, ...],
        selected: tuple[str, ...],
        *,
        multiple: bool = True,
        id: str,
    ) -> None:
        super().__init__(id=id)
        self.label, self.choices, self.multiple = label, choices, multiple
        self._selected = [c for c in choices if c in selected]
        self.unavailable: frozenset[str] = frozenset()  # shown, marked and not choosable

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(self._selected)

    def select(self, values: tuple[str, ...]) -> None:
        """Set the selection without posting Changed."""
        self._selected = [c for c in self.choices if c in values]
        self.refresh()

    def set_unavailable(self, choices: frozenset[str]) -> None:
        """Mark choices this machine cannot use: they stay visible, dimmed, and cannot be picked."""
        self.unavailable = choices
        self.refresh(layout=True)

    def _lines(self, width: int) -> Text:
        """The label, then the choices; a choice that does not fit starts a line under the first."""
        text = Text(self.label.ljust(LABEL_WIDTH), style="bold")
        column = LABEL_WIDTH
        for i, choice in enumerate(self.choices):
            on = choice in self._selected
            mark = ("[x]" if on else "[ ]") if self.multiple else ("(•)" if on else "( )")
            chip = f"{mark} {choice}" + (" (none here)" if choice in self.unavailable else "")
            if column > LABEL_WIDTH:
                if column + 2 + len(chip) > width:
                    text.append("\n" + " " * LABEL_WIDTH)
                    column = LABEL_WIDTH
                else:
                    text.append("  ")
                    column += 2
            style = "reverse" if self.has_focus and i == self.cursor else ""
            text.append(chip, style=f"{style} dim" if choice in self.unavailable else style)
            column += len(chip)
        return text

    def render(self) -> Text:
        return self._lines(self.content_size.width or 1000)

    def get_content_width(self, container, viewport) -> int:
        return self._lines(1000).cell_len

    def get_content_height(self, container, viewport, width: int) -> int:
        return len(self._lines(width).split())

    def action_move(self, step: int) -> None:
        self.cursor = (self.cursor + step) % len(self.choices)

    def action_toggle(self) -> None:
        choice = self.choices[self.cursor]
        if choice in self.unavailable:
            self.app.bell()
            return
        if not self.multiple:
            self._selected = [choice]
        elif choice in self._selected:
            self._selected.remove(choice)
        else:
            self._selected = [c for c in self.choices if c in self._selected or c == choice]
        self.refresh()
        self.post_message(self.Changed(self))

    def watch_cursor(self) -> None:
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
