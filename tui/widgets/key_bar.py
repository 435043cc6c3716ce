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

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        rows: tuple[list[FooterKey], list[FooterKey]] = ([], [])
        seen: set[str] = set()
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            key = FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
            rows[node is not self.app].append(key)
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
