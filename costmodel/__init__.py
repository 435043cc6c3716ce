"""Cost model: fits energy, latency, memory and accuracy to measured rows and predicts the rest.

Imports the standard library, numpy and scipy only (and threadpoolctl, to fit on one BLAS thread).
It reads flat rows (engine Record.flat()): plain dicts of a configuration's inputs, architecture
dimensions and measured figures.

    model = fit_model(rows)                      # every fit, with bootstrap draws and validation
    predictions = model.predict(grid, rows)      # a Prediction per grid point
    pareto_front(predictions, "infer_energy")    # accuracy against energy
    best_within(predictions, {"infer_latency": 0.5})
    next_to_measure(model, grid, rows, k=3)      # most uncertainty removed per predicted joule

Names load their submodule on first use (PEP 562), so that importing a light submodule such as
costmodel.quantities does not load numpy and scipy. The functions named like their submodules are
imported from them: costmodel.features.features, costmodel.select.select.
"""

import importlib

_EXPORTS = {
    "measuring_cost": "cost",
    "CostModelError": "errors",
    "FeatureError": "errors",
    "FitError": "errors",
    "SelectError": "errors",
    "Features": "features",
    "forward_flops": "features",
    "Estimate": "fit",
    "Fit": "fit",
    "fit_accuracy": "fit",
    "fit_cost": "fit",
    "best_within": "pareto",
    "pareto_front": "pareto",
    "Model": "predict",
    "Prediction": "predict",
    "fit_model": "predict",
    "held_out_errors": "predict",
    "predict_grid": "predict",
    "QUANTITIES": "quantities",
    "UNITS": "quantities",
    "default_metric": "quantities",
    "measured": "quantities",
    "Planner": "sample",
    "Suggestion": "sample",
    "next_to_measure": "sample",
    "parse_sample": "sample",
    "sample_configs": "sample",
    "space_filling": "sample",
    "Selection": "select",
    "parse_selection": "select",
    "HeldOut": "validate",
    "Validation": "validate",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
    return getattr(importlib.import_module(f"costmodel.{module}"), name)


def __dir__() -> list[str]:
    return __all__
