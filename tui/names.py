"""Human names and units of the cost model's quantities, for every screen: no internal identifiers."""

from __future__ import annotations

import re

QUANTITIES = {  # quantity -> (name, unit, scale from the model's unit)
    "infer_latency": ("encoder latency", "ms/batch", 1e3),
    "gen_latency": ("generation latency", "ms/batch", 1e3),
    "infer_energy": ("encoder energy", "J/batch", 1.0),
    "gen_energy": ("generation energy", "J/batch", 1.0),
    "infer_memory": ("inference peak memory", "MB", 1.0),
    "train_latency": ("training time", "s/step", 1.0),
    "train_energy": ("training energy", "J/step", 1.0),
    "train_memory": ("training peak memory", "MB", 1.0),
    "accuracy": ("accuracy", "", 1.0),
}


def name(quantity: str) -> str:
    return QUANTITIES[quantity][0] if quantity in QUANTITIES else quantity


def unit(quantity: str) -> str:
    return QUANTITIES[quantity][1] if quantity in QUANTITIES else ""


def scale(quantity: str) -> float:
    return QUANTITIES[quantity][2] if quantity in QUANTITIES else 1.0


def label(quantity: str) -> str:
    """`encoder energy, J/batch`."""
    return f"{name(quantity)}, {unit(quantity)}" if unit(quantity) else name(quantity)


def plain(problem: str) -> str:
    """A cost model message, its quantity named for people: `infer_energy [..]: x` -> `encoder energy: x`."""
    match = re.match(r"(\w+) \[([^\]]*)\]: ", problem)
    if match is None or match[1] not in QUANTITIES:
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
