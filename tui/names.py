"""Human names and units of the cost model's quantities (costmodel.quantities.TABLE), for every screen."""

from __future__ import annotations

import re

from costmodel.quantities import BY_NAME


def name(quantity: str) -> str:
    return BY_NAME[quantity].label if quantity in BY_NAME else quantity


def unit(quantity: str) -> str:
    return BY_NAME[quantity].unit if quantity in BY_NAME else ""


def scale(quantity: str) -> float:
    return BY_NAME[quantity].scale if quantity in BY_NAME else 1.0


def label(quantity: str) -> str:
    """`encoder energy, J/batch`."""
    return f"{name(quantity)}, {unit(quantity)}" if unit(quantity) else name(quantity)


def plain(problem: str) -> str:
    """A cost model message, its quantity named for people: `infer_energy [..]: x` -> `encoder energy: x`."""
    match = re.match(r"(\w+) \[([^\]]*)\]: ", problem)
    if match is None or match[1] not in BY_NAME:
        return problem
    scope = match[2].split(", ")
    where = f" of task {scope[0]}" if match[1] == "accuracy" and scope else ""
    return f"{name(match[1])}{where}: {problem[match.end() :]}"


def plain_validation(line: str) -> str:
    """A fit's validation line with the term charged at a measured rate explained."""
    return re.sub(
        r"fresh_bytes at the rate measured on the machine \(([^)]*)\)",
        r"memory touched for the first time charged at \1, the page-fault rate measured on this "
        r"machine (too few rows reach 32 MiB blocks to fit it)",
        line,
    )
