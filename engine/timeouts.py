"""How long one configuration may run before it is stopped: its own work, with a margin.

The training budget is the bulk of it: its seconds; for a steps budget the steps at a
generous time per step; for a joules budget the seconds the device takes to spend them at a low
power. Build, loading and tokenising the data, the batch search, infer and eval get an allowance
on top, eval's growing with the tokens it generates. A preset's `[run] timeout_s` or the command's
`--timeout` replaces the estimate.
"""

from __future__ import annotations

from engine.config import RunConfig

BUDGET_MARGIN = 1.25  # the budget is a floor: the last step ends past it, and a slow start is normal
ALLOWANCE_S = 600.0  # build, data, batch search, infer: minutes at the study's sizes on one GPU
STEP_S = 2.0  # a generous optimiser step (LED large at 4096 tokens on one GPU is ~1 s)
LOW_POWER_W = {"cpu": 4.0, "cuda": 30.0}  # one core of the estimate; a GPU that is barely busy
TOKEN_S = 0.01  # one generated token of one eval example, generously


def budget_seconds(config: RunConfig) -> float:
    """The seconds training is expected to take under its budget (0 without a train phase)."""
    if "train" not in config.phases:
        return 0.0
    kind, value = config.budget.kind, config.budget.value
    if kind == "seconds":
        return value
    if kind == "steps":
        return value * STEP_S
    return value / LOW_POWER_W[config.device.split(":")[0]]


def timeout_s(config: RunConfig, override: float | None = None) -> float:
    """The configuration's timeout: `override` when given, else the estimate of its own work."""
    if override is not None:
        return override
    eval_s = TOKEN_S * config.eval_samples * config.gen_tokens if "eval" in config.phases else 0.0
    return BUDGET_MARGIN * budget_seconds(config) + ALLOWANCE_S + eval_s
