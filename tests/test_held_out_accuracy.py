"""Held-out accuracy errors are absolute: a measured score of 0 counts, as a cost of 0 cannot."""

from costmodel.fit import Estimate
from costmodel.predict import Prediction, held_out_errors


def _point(quantity, value, measured):
    return Prediction({}, "measured", {quantity: Estimate(value, value - 0.2, value + 0.2, False, measured)})


def test_an_accuracy_measured_at_zero_is_a_held_out_point():
    held = held_out_errors([_point("accuracy", 0.1, 0.0), _point("accuracy", 0.5, 0.4)], "accuracy")
    assert held.points == 2 and abs(held.median - 0.1) < 1e-12 and held.coverage == 1.0


def test_a_cost_measured_at_zero_has_no_relative_error():
    held = held_out_errors(
        [_point("infer_latency", 0.1, 0.0), _point("infer_latency", 1.1, 1.0)], "infer_latency"
    )
    assert held.points == 1 and abs(held.median - 10.0) < 1e-9
