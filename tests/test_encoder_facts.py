"""What the encoder ran: recorded by the engine from the model itself, equal to the rule the cost model
shares for points not measured, read by the features in place of the rule."""

from __future__ import annotations

import dataclasses

import pytest

from costmodel.encoder import encoder_run, global_tokens
from costmodel.features import features
from engine import archs
from engine.batching import encode
from engine.config import RunConfig
from engine.encoder_facts import EncoderWatch
from engine.models import build, reset_attention
from engine.record import Record
from engine.rows import config_row
from engine.tasks import load


@pytest.mark.parametrize(
    ("family", "task", "n"),
    [
        ("led", "synthetic", 200),  # padded to the window, 64
        ("led", "synthetic-qa", 256),  # the question's two global tokens
        ("bigbird-pegasus", "synthetic", 176),  # at the switch: full attention, unpadded
        ("bigbird-pegasus", "synthetic", 100),
        ("bigbird-pegasus", "synthetic", 200),  # block-sparse, padded to the block, 16
    ],
)
def test_the_watch_sees_what_the_shared_rule_says(family, task, n):
    import torch

    config = RunConfig(family, "tiny", n, task=task, batch_size=2)
    built = build(config)
    model = built.model.eval()
    reset_attention(model, family)
    batch = encode(
        built.tokenizer,
        load(task, "validation", 2, seed=0),
        input_len=n,
        target_len=8,
        family=family,
        task=task,
        device="cpu",
        with_labels=False,
    )
    watch = EncoderWatch(model, family)
    with torch.no_grad():
        model.get_encoder()(**batch)
        model.get_encoder()(**batch)  # the hook is gone after the first forward
    assert watch.facts == archs.encoder_plan(config, built.dims)
    padded, attention = encoder_run(family, built.dims, n)
    assert watch.facts == {
        "padded_len": padded,
        "attention": attention,
        "global_tokens": global_tokens(family, task),
    }
    assert not model.get_encoder().layers[0]._forward_pre_hooks


def test_a_planned_row_and_an_old_record_carry_the_shared_rule():
    config = RunConfig("bigbird-pegasus", "tiny", 100)
    row = config_row(config)
    assert (row["padded_len"], row["attention"], row["global_tokens"]) == (100, "original_full", 0)
    old = Record(config, archs.of(config), 112, 2).to_dict()  # padded to the block, as stored before
    for name in ("attention", "global_tokens"):
        del old[name]
    again = Record.from_dict(old)
    assert (again.padded_len, again.attention, again.global_tokens) == (100, "original_full", 0)
    qa = dataclasses.replace(config, family="led", task="synthetic-qa")
    assert config_row(qa)["global_tokens"] == 2 and config_row(qa)["attention"] == "sliding_window"


def test_the_features_read_what_the_record_says_the_encoder_ran():
    row = config_row(RunConfig("led", "tiny", 200, batch_size=2))
    assert features(row, "encode").encoder_len == 256
    ran = features({**row, "padded_len": 192, "global_tokens": 3}, "encode")
    assert ran.encoder_len == 192 and ran.f_dense > features({**row, "padded_len": 192}, "encode").f_dense
    unknown = {**row, "padded_len": 999, "attention": ""}  # not recorded: the rule
    assert features(unknown, "encode") == features(row, "encode")
