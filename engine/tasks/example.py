"""Example: one document and its reference output(s)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """A source document, its reference target, and the task kind ("summary" or "qa").

    `id` is the SCROLLS id (rows sharing one repeat an input once per reference); `references`
    holds every reference of a merged example, empty when `target` is the only one.
    """

    source: str
    target: str
    kind: str
    id: str = ""
    references: tuple[str, ...] = ()

    @property
    def all_references(self) -> tuple[str, ...]:
        return self.references or (self.target,)
