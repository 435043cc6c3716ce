"""Cost model: fits energy, latency, memory and accuracy to measured rows and predicts the rest.

Imports the standard library, numpy and scipy only. It reads flat rows (engine Record.flat()):
plain dicts of a configuration's inputs, architecture dimensions and measured figures.

    model = fit_model(rows)                      # every fit, with bootstrap draws and validation
    predictions = model.predict(grid, rows)      # a Prediction per grid point
    pareto_front(predictions, "infer_energy")    # accuracy against energy
    best_within(predictions, {"infer_latency": 0.5})
    next_to_measure(model, grid, rows, k=3)      # most uncertainty removed per predicted joule
"""

from costmodel.errors import CostModelError, FeatureError, FitError, SelectError
from costmodel.features import Features, features, forward_flops
from costmodel.fit import Estimate, Fit, fit_accuracy, fit_cost
from costmodel.pareto import best_within, pareto_front
from costmodel.predict import Model, Prediction, fit_model, held_out_errors, predict_grid
from costmodel.quantities import QUANTITIES, UNITS, default_metric, measured
from costmodel.sample import Suggestion, next_to_measure, parse_sample, sample_configs, space_filling
from costmodel.select import Selection, parse_selection, select
from costmodel.validate import HeldOut, Validation

__all__ = [
    "QUANTITIES",
    "UNITS",
    "CostModelError",
    "Estimate",
    "FeatureError",
    "Features",
    "Fit",
    "FitError",
    "HeldOut",
    "Model",
    "Prediction",
    "SelectError",
    "Selection",
    "Suggestion",
    "Validation",
    "best_within",
    "default_metric",
    "features",
    "fit_accuracy",
    "fit_cost",
    "fit_model",
    "forward_flops",
    "held_out_errors",
    "measured",
    "next_to_measure",
    "pareto_front",
    "parse_sample",
    "parse_selection",
    "predict_grid",
    "sample_configs",
    "select",
    "space_filling",
]
