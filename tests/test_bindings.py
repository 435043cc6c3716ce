"""Every key binding of the app has an id (Textual's keymap names it so), and no two share one."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding
from textual.dom import DOMNode

import tui
import tui.screens
import tui.widgets


def _own_bindings() -> dict[str, list]:
    """The BINDINGS each class of tui declares itself, by class name."""
    modules = ["tui.app"] + [
        f"{package.__name__}.{m.name}"
        for package in (tui.screens, tui.widgets)
        for m in pkgutil.iter_modules(package.__path__)
    ]
    found = {}
    for name in modules:
        for cls_name, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == name and "BINDINGS" in cls.__dict__:
                found[f"{name}.{cls_name}"] = list(cls.__dict__["BINDINGS"])
    return found


def test_every_binding_has_an_id_and_no_two_share_one():
    found = _own_bindings()
    assert {"tui.app.TradeoffApp", "tui.screens.results.ResultsScreen"} <= set(found)
    ids = []
    for owner, bindings in found.items():
        for b in bindings:
            assert isinstance(b, Binding) and b.id, f"{owner}: {b!r} has no id"
            ids.append(b.id)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
