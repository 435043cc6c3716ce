"""Generation at any output length: prefill (time to first token) plus decoding steps, each fitted."""

import math

import numpy as np
import pytest

from costmodel import fit_model
from costmodel.features import features
from tests.test_costmodel import config

RATES = {"const": 0.01, "f_dense": 1 / 2e10, "f_attn": 1 / 5e9, "f_dec": 1 / 1e9, "layers": 2e-4}
POWER_W = 30.0
SIZES = [("led", "tiny"), ("led", "small"), ("bigbird-pegasus", "tiny"), ("bigbird-pegasus", "small")]


def generation_s(row, tokens):
    f = features({**row, "gen_tokens": tokens}, "infer")
    return RATES["const"] + sum(getattr(f, k) * v for k, v in RATES.items() if k != "const")


def measured(rows, noise=0.02, seed=0):
    """Rows as the infer phase records them: generate(1), generate(T) and the decode step between."""
    rng = np.random.default_rng(seed)
    out = []
    for row in rows:
        t = row["gen_tokens"]
        first = generation_s(row, 1) * math.exp(rng.normal(0, noise))
        whole = generation_s(row, t) * math.exp(rng.normal(0, noise))
        step = (whole - first) / (t - 1)
        out.append(
            {
                **row,
                "status": "ok",
                "infer_prefill_median_s": first,
                "infer_prefill_energy_j": POWER_W * first,
                "infer_gen_median_s": whole,
                "infer_gen_energy_j": POWER_W * whole,
                "infer_decode_s_per_token": step,
                "infer_decode_energy_j_per_token": POWER_W * step,
            }
        )
    return out


QUANTITIES = (
    "gen_latency",
    "gen_energy",
    "prefill_latency",
    "prefill_energy",
    "decode_latency",
    "decode_energy",
)


@pytest.fixture(scope="module")
def model():
    grid = [
        config(f, s, n, b, gen_tokens=t)
        for f, s in SIZES
        for n in (256, 512, 1024, 2048)
        for b in (1, 4)
        for t in (8, 16)
    ]
    return fit_model(measured(grid), quantities=QUANTITIES, n_boot=40)


@pytest.mark.parametrize("tokens", [128, 512])
def test_generation_at_a_length_never_measured_is_prefill_plus_its_decoding_steps(model, tokens):
    rows = [config(f, s, n, 2, gen_tokens=tokens) for f, s in SIZES for n in (384, 1536)]
    predictions = model.predict(rows)
    errors = []
    for row, p in zip(rows, predictions, strict=True):
        est, truth = p.get("gen_latency"), generation_s(row, tokens)
        prefill, step = p.get("prefill_latency"), p.get("decode_latency")
        assert est.value == pytest.approx(prefill.value + (tokens - 1) * step.value)
        assert est.low <= truth <= est.high
        assert est.extrapolated  # beyond the 8 and 16 tokens measured
        errors.append(abs(est.value - truth) / truth)
        energy = p.get("gen_energy")
        assert energy.low <= POWER_W * truth <= energy.high
    assert np.median(errors) < 0.05


def test_at_a_measured_length_the_generation_fit_answers(model):
    (p,) = model.predict([config("led", "small", 768, 2, gen_tokens=16)])
    direct = model.fit_for("gen_latency", p.row).estimate([p.row])[0]
    assert p.get("gen_latency") == direct


def test_the_decode_step_has_no_encoder_in_it(model):
    fit = model.fit_for("decode_latency", config("led", "small", 768, 2, gen_tokens=16))
    assert "f_dense" not in fit.form.names and "f_attn" not in fit.form.names
    assert fit.validation.loco.median < 10.0  # a difference of two timings: their noise, amplified
