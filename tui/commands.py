"""The command palette's entries: every key the footer shows, for the app and the view it was opened on."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ActionCommands(Provider):
    """One command per described binding, so every action can be found by name as well as by key."""

    def _commands(self) -> list[tuple[str, str, object]]:
        out, seen = [], set()
        for node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or not binding.description or not enabled or binding.action in seen:
                continue
            seen.add(binding.action)
            name = tooltip or binding.description
            help_text = f"key: {self.app.get_key_display(binding)}"
            out.append((name, help_text, partial(self.app.run_action, binding.action, node)))
        return out

    async def discover(self) -> Hits:
        for name, help_text, run in self._commands():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, run in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
