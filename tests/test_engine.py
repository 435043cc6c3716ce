"""The engine on tiny models: every phase for real, records complete and plausible, failures as records."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.config import Budget, RunConfig
from engine.models import ModelUnavailable, attention_type, build, reset_attention
from engine.phases import batch as batch_mod
from engine.phases.context import PhaseContext
from engine.record import Record
from engine.runner import failure_kind, measure

QUICK = dict(
    batch_size=2,
    budget=Budget("steps", 3),
    repetitions=2,
    min_window_s=0.05,
    warmup=1,
    eval_samples=2,
    gen_tokens=8,
)


@pytest.fixture(scope="module", params=["led", "bigbird-pegasus"])
def record(request) -> Record:
    return measure(RunConfig(request.param, "tiny", 256, **QUICK), idle_w=0.5)


def test_record_holds_every_field_with_plausible_figures(record):
    assert record.status == "ok", record.failure
    row = record.flat()
    for name in (
        "family",
        "size",
        "weights",
        "d_model",
        "encoder_layers",
        "decoder_layers",
        "heads",
        "ffn_dim",
        "vocab_size",
        "n_params",
        "input_len",
        "padded_len",
        "batch_size",
        "dtype",
        "device",
        "task",
        "budget_kind",
        "budget_value",
        "seed",
    ):
        assert name in row, name
    assert row["padded_len"] == 256 and row["batch_size"] == 2
    for name in (
        "infer_median_s",
        "infer_p10_s",
        "infer_p90_s",
        "infer_gen_median_s",
        "infer_gen_tokens_per_s",
        "infer_energy_j",
        "train_energy_j",
        "train_seconds",
        "train_peak_memory_mb",
        "eval_seconds",
    ):
        assert row[name] > 0, name
    assert row["infer_p10_s"] <= row["infer_median_s"] <= row["infer_p90_s"]
    assert row["infer_repetitions"] >= 2 and row["infer_std_s"] >= 0
    assert row["train_steps"] == 3 and row["train_samples"] == 6 and row["train_final_loss"] > 0
    # the peak as a memory budget counts it: the heap the step adds to the built process, under the RSS
    assert 0 < row["train_budget_memory_mb"] < row["train_peak_memory_mb"]
    assert row["energy_source"] == "estimate"
    assert row["train_energy_above_idle_j"] <= row["train_energy_j"]
    assert 0 <= row["rouge_mean"] <= 1 and {"rouge1", "rouge2", "rougeL"} <= row.keys()
    env = record.env
    assert env["hardware"] and env["torch"] and env["transformers"] and env["fingerprint"]
    assert env["idle_power_w"] == 0.5
    # the machine's cost per byte of a block malloc maps afresh (engine.meters.faults), for the cost model
    assert 0 < row["fault_s_per_byte"] == env["fault_s_per_byte"] < 1e-6


def test_record_round_trips_through_json(record):
    again = Record.from_dict(json.loads(json.dumps(record.to_dict())))
    assert again == record


def test_attention_type_in_force_is_recorded(record):
    expected = "sliding_window" if record.config.family == "led" else "block_sparse"
    assert record.phase("infer").attention_type == expected
    # what the encoder ran, seen at its first layer (engine.encoder_facts)
    led = record.config.family == "led"
    assert (record.padded_len, record.attention, record.global_tokens) == (256, expected, 1 if led else 0)


def test_bigbird_short_input_switch_is_undone_before_the_next_phase():
    import torch

    built = build(RunConfig("bigbird-pegasus", "tiny", 256))
    model = built.model.eval()
    with torch.no_grad():
        model.get_encoder()(input_ids=torch.ones(1, 64, dtype=torch.long))  # too short for block-sparse
    assert attention_type(model, "bigbird-pegasus") == "original_full"
    reset_attention(model, "bigbird-pegasus")
    assert attention_type(model, "bigbird-pegasus") == "block_sparse"


def test_failure_is_a_record_with_its_phase():
    config = RunConfig("led", "tiny", 128, **{**QUICK, "task": "qasper"})  # no SCROLLS data here
    record = measure(config, idle_w=0.5)
    assert record.status == "failed"
    assert record.failure.phase == "build" and record.failure.kind == "error"
    assert "qasper" in record.failure.error and "[data]" in record.failure.error  # its tokenizer's text
    published = measure(dataclasses.replace(config, size="base"), idle_w=0.5)  # the hub's tokenizer
    assert "hf download allenai/led-base-16384" in published.failure.error


def test_the_machine_rates_a_sweep_hands_down_are_recorded_as_given(monkeypatch):
    import engine.meters.faults

    monkeypatch.setattr(engine.meters.faults, "fault_s_per_byte", lambda: pytest.fail("measured again"))
    config = RunConfig("led", "tiny", 128, **{**QUICK, "task": "qasper"})  # fails at build, after the env
    record = measure(config, idle_w=0.5, fault_rate=4.8e-10)
    assert record.env["fault_s_per_byte"] == 4.8e-10 and record.env["idle_power_w"] == 0.5


def test_out_of_memory_is_told_apart():
    import torch

    assert failure_kind(MemoryError()) == "oom"
    assert failure_kind(torch.OutOfMemoryError("CUDA out of memory")) == "oom"
    assert failure_kind(ValueError("bad")) == "error"


def test_pretrained_weights_absent_give_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(ModelUnavailable) as err:
        build(RunConfig("led", "base", 1024, weights="pretrained"), tokenizer=_synthetic_tokenizer())
    message = str(err.value)
    assert "\n" not in message
    assert "allenai/led-base-16384" in message and "hf download" in message


def _synthetic_tokenizer():
    from engine.tasks.synthetic import build_tokenizer

    return build_tokenizer()


def test_auto_batch_is_the_largest_that_fits(monkeypatch):
    monkeypatch.setattr(batch_mod, "memory_budget_mb", lambda ctx: 1000.0)
    monkeypatch.setattr(batch_mod, "fits", lambda ctx, b, budget: b * 37 <= budget)
    assert batch_mod.resolve_batch_size(None) == 27
    monkeypatch.setattr(batch_mod, "fits", lambda ctx, b, budget: False)
    with pytest.raises(MemoryError):
        batch_mod.resolve_batch_size(None)


def test_fits_measures_a_real_training_step_against_the_budget():
    config = RunConfig("led", "tiny", 128, **QUICK)
    built = build(config)
    ctx = PhaseContext(config, built.model, built.tokenizer, meter=None, idle_w=0.0, batch_size=0)
    assert batch_mod.fits(ctx, 2, budget_mb=10**6)
    assert not batch_mod.fits(ctx, 2, budget_mb=1.0)
    before = [p.detach().clone() for p in built.model.parameters()]
    batch_mod.fits(ctx, 2, budget_mb=10**6)
    assert all((a == b.detach()).all() for a, b in zip(before, built.model.parameters(), strict=True))


def test_auto_batch_end_to_end_respects_a_memory_budget():
    record = measure(
        RunConfig(
            "led",
            "tiny",
            128,
            **{**QUICK, "batch_size": "auto", "memory_budget_gb": 1e-6, "phases": ("infer",)},
        ),
        idle_w=0.5,
    )
    assert record.status == "failed" and record.failure.kind == "oom" and record.failure.phase == "batch"


@pytest.mark.parametrize("budget", [Budget("seconds", 3.0), Budget("joules", 40.0)], ids=lambda b: b.kind)
def test_train_stops_when_a_seconds_or_joules_budget_is_spent(budget):
    config = RunConfig("led", "tiny", 128, **{**QUICK, "budget": budget, "phases": ("train",)})
    record = measure(config, idle_w=0.0)
    train = record.phase("train")
    assert record.status == "ok", record.failure
    spent = train.seconds if budget.kind == "seconds" else train.energy.joules
    steps = train.figures["steps"]
    assert steps >= 2
    assert budget.value <= spent < budget.value + 3 * spent / steps  # it stops about one step past the budget
