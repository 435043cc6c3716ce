"""A small, safe expression language over row fields, for `--fit-on EXPR`.

    input_len <= 2048 and size != "large"
    family == "led" or (size in ["tiny", "small"])
    not input_len > 1024

The expression is parsed with `ast` (mode "eval") and walked over a whitelist of nodes: and/or, not,
comparisons (==, !=, <, <=, >, >=, in, not in, chained), field names, constants (strings, numbers,
True, False, None, with a unary minus on numbers) and lists or tuples of constants. It is never
evaluated as Python. A row that lacks a field reads it as None, which no ordering selects.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from costmodel.errors import SelectError

_COMPARE: dict[type, Callable[[object, object], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}

_ORDER = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


@dataclass(frozen=True)
class Selection:
    """A parsed expression: call it on a row to know whether the row is selected."""

    text: str
    tree: ast.Expression

    def __call__(self, row: dict) -> bool:
        return bool(self._eval(self.tree.body, row))

    def _eval(self, node: ast.AST, row: dict) -> object:
        if isinstance(node, ast.BoolOp):
            values = (self._eval(v, row) for v in node.values)
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self._eval(node.operand, row)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, row)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = self._eval(right_node, row)
                if (left is None or right is None) and type(op) in _ORDER:
                    return False  # a row lacking the field is not selected by an ordering
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError:
                    raise SelectError(
                        f"expression {self.text!r}: cannot compare {left!r} with {right!r} "
                        f"(row {row.get('key') or row.get('family')})"
                    ) from None
                left = right
            return True
        if isinstance(node, ast.Name):
            return row.get(node.id)
        if isinstance(node, ast.List | ast.Tuple):
            return [self._eval(e, row) for e in node.elts]
        return _constant(node)


def _constant(node: ast.AST) -> object:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -node.operand.value
    return node.value


def _check(node: ast.AST, fields: set[str], text: str) -> None:
    def fail(problem: str) -> SelectError:
        allowed = ", ".join(sorted(fields)) or "(none)"
        return SelectError(f"expression {text!r}: {problem}; fields: {allowed}")

    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, fields, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, fields, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        if not (isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, int | float)):
            raise fail("a minus sign goes before a number only")
    elif isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE:
                raise fail(f"operator {type(op).__name__} is not allowed")
        for part in (node.left, *node.comparators):
            _check(part, fields, text)
    elif isinstance(node, ast.Name):
        if node.id not in fields:
            raise fail(f"unknown field {node.id!r}")
    elif isinstance(node, ast.Constant):
        if not isinstance(node.value, str | int | float | bool | type(None)):
            raise fail(f"constant {node.value!r} is not allowed")
    elif isinstance(node, ast.List | ast.Tuple):
        for e in node.elts:
            if isinstance(e, ast.Name | ast.List | ast.Tuple):
                raise fail("lists hold constants only")
            _check(e, fields, text)
    else:
        raise fail(f"{type(node).__name__} is not allowed (use and, or, not, comparisons, fields, constants)")


def parse_selection(text: str, fields: Iterable[str]) -> Selection:
    """Parse `text` against the allowed field names (SelectError with one line when it cannot)."""
    fields = set(fields)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        allowed = ", ".join(sorted(fields)) or "(none)"
        raise SelectError(f"expression {text!r}: syntax error ({e.msg}); fields: {allowed}") from None
    _check(tree.body, fields, text)
    return Selection(text, tree)


def select(rows: list[dict], text: str) -> list[dict]:
    """The rows an expression selects; the fields allowed are those the rows hold."""
    selection = parse_selection(text, {k for r in rows for k in r})
    return [r for r in rows if selection(r)]
