"""Example: one document and its reference output."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """A source document, its reference target, and the task kind ("summary" or "qa")."""

    source: str
    target: str
    kind: str
