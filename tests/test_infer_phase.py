"""The infer phase measures prefill (time to first token) and the decode step apart, with their energy."""

import pytest

from engine.config import RunConfig
from engine.runner import measure
from tests.test_engine import QUICK


@pytest.fixture(scope="module")
def row():
    record = measure(RunConfig("led", "tiny", 256, **{**QUICK, "phases": ("infer",)}), idle_w=0.5)
    assert record.status == "ok", record.failure
    return record.flat()


def test_prefill_decode_and_generation_are_recorded_with_their_energy(row):
    for name in (
        "infer_prefill_median_s",
        "infer_prefill_energy_j",
        "infer_gen_median_s",
        "infer_gen_energy_j",
        "infer_decode_s_per_token",
        "infer_decode_tokens_per_s",
        "infer_decode_energy_j_per_token",
    ):
        assert row[name] > 0, name
    assert row["infer_prefill_p10_s"] <= row["infer_prefill_median_s"] <= row["infer_prefill_p90_s"]
    step = row["infer_decode_s_per_token"]  # timed step by step inside the generate calls
    assert step * (row["gen_tokens"] - 1) < row["infer_gen_median_s"]
    assert row["infer_decode_tokens_per_s"] == pytest.approx(row["batch_size"] / step)
    assert "infer_gen_s_per_token" not in row  # the whole call over its tokens is no per-token cost
