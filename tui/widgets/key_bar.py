"""The footer on two lines: the app's keys (views, export, quit) above, the view's keys and palette below."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyBar(Footer):
    """Every key binding with a description, so that each action can be found without the palette."""

    DEFAULT_CSS = """
    KeyBar {
        layout: vertical;
        height: 2;
        HorizontalGroup { height: 1; }
    }
    """

    _shown: tuple = ()  # what the last compose showed

    def _keys(self) -> tuple:
        """(from the app, binding, enabled, tooltip) of each key to show, one per action."""
        out, seen = [], set()
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.show and binding.action not in seen:
                seen.add(binding.action)
                out.append((node is self.app, binding, enabled, tooltip))
        return tuple(out)

    def bindings_changed(self, screen) -> None:
        """Recompose only when the keys shown change: a view switch then costs no new widgets."""
        if not self._bindings_ready or self._keys() != self._shown:
            super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._shown = self._keys()
        rows: tuple[list[FooterKey], list[FooterKey]] = ([], [])
        for from_app, binding, enabled, tooltip in self._shown:
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            rows[not from_app].append(key)
        palette = self.screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING)
        if palette is not None and self.app.ENABLE_COMMAND_PALETTE:
            rows[1].append(
                FooterKey(
                    palette.binding.key,
                    self.app.get_key_display(palette.binding),
                    "Commands",
                    palette.binding.action,
                    classes="-command-palette",
                )
            )
        for keys in rows:
            with HorizontalGroup():
                yield from keys
