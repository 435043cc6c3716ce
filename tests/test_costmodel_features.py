"""Analytic features: padding, attention regimes, growth with input length, published sizes, errors."""

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from costmodel.errors import FeatureError
from costmodel.features import Features, arch_of, encoder_length, features, forward_flops, param_count

ARCHS = json.loads((Path(__file__).resolve().parents[1] / "engine/data/archs.json").read_text())
SIZES = [(f, s) for f in ARCHS for s in ARCHS[f]]


def row(family="led", size="tiny", n=1000, batch=2, **extra):
    return {
        "family": family,
        "size": size,
        "input_len": n,
        "batch_size": batch,
        **ARCHS[family][size],
        **extra,
    }


def switch(size="tiny"):
    d = ARCHS["bigbird-pegasus"][size]
    return (5 + 2 * d["num_random_blocks"]) * d["block_size"]


def test_led_pads_to_a_multiple_of_the_window():
    r = row("led", "tiny", 1000)
    assert encoder_length(arch_of(r), r) == (1024, "sliding_window")
    assert features(row("led", "tiny", 1025), "infer").encoder_len == 1088
    assert features(row("led", "base", 1025), "infer").encoder_len == 2048


def test_bigbird_runs_full_attention_up_to_the_switch_and_block_sparse_beyond():
    limit = switch()  # (5 + 2 * 3) * 16 = 176
    assert features(row("bigbird-pegasus", "tiny", limit), "infer").attention == "original_full"
    assert features(row("bigbird-pegasus", "tiny", limit), "infer").encoder_len == limit  # not padded
    f = features(row("bigbird-pegasus", "tiny", limit + 1), "infer")
    assert (f.attention, f.encoder_len) == ("block_sparse", 192)
    assert switch("large") == 704


def test_block_sparse_attention_costs_less_than_full_at_the_switch():
    """Past the switch HF computes fewer attention FLOPs than just below it: predictions may dip there."""
    below = features(row("bigbird-pegasus", "tiny", switch()), "infer")
    above = features(row("bigbird-pegasus", "tiny", switch() + 1), "infer")
    assert above.f_attn < below.f_attn
    assert above.f_dense > below.f_dense


def test_led_global_tokens_add_global_projections_and_attention():
    one = features(row("led", "tiny", 1024), "infer")
    none = features(row("led", "tiny", 1024, global_tokens=0), "infer")
    d = ARCHS["led"]["tiny"]
    extra_dense = 2 * d["encoder_layers"] * (4 * 1024 * d["d_model"] ** 2 + 2 * d["d_model"] ** 2)
    assert one.f_dense - none.f_dense == extra_dense
    assert one.f_attn > none.f_attn


def test_a_training_step_is_three_forward_passes_and_has_no_generation():
    r = row("bigbird-pegasus", "small", 2048, target_len=64)
    train = features(r, "train")
    assert train.f_dec == 0
    assert train.f_dense + train.f_attn == pytest.approx(3 * sum(forward_flops(r, 64)))


def test_flops_scale_with_batch():
    one, four = features(row(batch=1), "infer"), features(row(batch=4), "infer")
    assert (four.f_dense, four.f_attn, four.f_dec) == (4 * one.f_dense, 4 * one.f_attn, 4 * one.f_dec)
    assert four.weight_bytes == one.weight_bytes


def test_half_precision_halves_the_bytes():
    full, half = features(row(dtype="float32"), "infer"), features(row(dtype="bfloat16"), "infer")
    assert half.weight_bytes == full.weight_bytes / 2
    assert half.flops == full.flops


@pytest.mark.parametrize(
    ("family", "size", "millions"),
    [("led", "base", 161.8), ("led", "large", 459.8), ("bigbird-pegasus", "large", 576.9)],
)
def test_published_architectures_have_their_published_parameter_counts(family, size, millions):
    assert param_count(arch_of(row(family, size))) / 1e6 == pytest.approx(millions, rel=0.01)


@given(
    arch=st.sampled_from(SIZES),
    lengths=st.tuples(st.integers(1, 8192), st.integers(1, 8192)).map(sorted),
    batch=st.integers(1, 8),
    phase=st.sampled_from(["encode", "infer", "train"]),
)
def test_features_do_not_fall_as_the_input_grows_within_an_attention_regime(arch, lengths, batch, phase):
    family, size = arch
    short, long = (features(row(family, size, n, batch), phase) for n in lengths)
    if short.attention != long.attention:
        return  # BigBird's switch to block-sparse attention: see the test above
    for name in (f.name for f in dataclasses.fields(Features) if f.name != "attention"):
        assert getattr(long, name) >= getattr(short, name), name  # every count a fit may regress on
    assert short.f_dense > 0 and short.f_attn > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"d_model": None}, "field 'd_model' is missing"),
        ({"family": "t5"}, "family 't5' unknown; allowed: led, bigbird-pegasus"),
        ({"batch_size": "four"}, "field 'batch_size' is 'four', not a number"),
        ({"input_len": 0}, "input_len and batch_size must be at least 1"),
        ({"dtype": "int8"}, "dtype 'int8' unknown"),
    ],
)
def test_feature_errors_are_one_line_and_name_the_field(change, message):
    with pytest.raises(FeatureError, match=message) as info:
        features({**row(), **change}, "infer")
    assert "\n" not in str(info.value)


def test_unknown_phase():
    allowed = "encode, infer, prefill, decode, train"
    with pytest.raises(FeatureError, match=f"phase 'eval' unknown; allowed: {allowed}"):
        features(row(), "eval")


def test_sparse_layers_count_encoder_layers_that_run_a_sparse_attention():
    layers = ARCHS["bigbird-pegasus"]["tiny"]["encoder_layers"]
    assert features(row("bigbird-pegasus", "tiny", switch()), "encode").sparse_layers == 0
    assert features(row("bigbird-pegasus", "tiny", switch() + 1), "encode").sparse_layers == layers
    assert features(row("led", "tiny", 128), "encode").sparse_layers == ARCHS["led"]["tiny"]["encoder_layers"]


def test_sparse_attention_flops_are_the_encoder_attention_run_sparse():
    full = features(row("bigbird-pegasus", "tiny", switch()), "encode")
    block = features(row("bigbird-pegasus", "tiny", switch() + 1), "encode")
    led = features(row("led", "tiny", 512), "infer")
    assert full.f_attn > 0 and full.f_attn_sparse == 0
    assert block.f_attn_sparse == block.f_attn > 0 and led.f_attn_sparse == led.f_attn > 0
    train = features(row("led", "tiny", 512), "train")  # the teacher-forced decoder attends in full
    assert train.f_attn_sparse == pytest.approx(3 * features(row("led", "tiny", 512), "encode").f_attn)
    assert train.f_attn_sparse < train.f_attn


def test_led_builds_a_dense_mask_at_its_padded_length_and_bigbird_only_in_full_attention():
    led = features(row("led", "tiny", 1000), "encode")
    assert led.mask_bytes == 2 * 1024**2 * 4  # batch 2, padded to 1024, float32
    assert features(row("led", "tiny", 1000, dtype="bfloat16"), "encode").mask_bytes == led.mask_bytes / 2
    assert features(row("led", "tiny", 1000), "train").mask_bytes == led.mask_bytes  # built once, no backward
    full = features(row("bigbird-pegasus", "tiny", switch()), "encode")
    assert full.mask_bytes == 2 * switch() ** 2 * 4
    assert features(row("bigbird-pegasus", "tiny", switch() + 1), "encode").mask_bytes == 0
    # its four float copies are alive together while it is built: at 4096 tokens they make the peak
    assert features(row("led", "tiny", 4096), "infer").act_bytes > 4 * 2 * 4096**2 * 4


def test_fresh_bytes_count_allocations_too_large_for_malloc_to_reuse():
    """Block-sparse BigBird's dense (heads, n, n) matrix reaches 32 MiB mmap threshold at 1024 tokens."""
    below = features(row("bigbird-pegasus", "tiny", 768), "encode")
    large = features(row("bigbird-pegasus", "tiny", 1024), "encode")
    assert below.fresh_bytes == 0
    assert large.fresh_bytes == 2 * 32 * 2**20  # 2 layers x batch 2 x 4 heads x 1024^2 x float32
    assert features(row("bigbird-pegasus", "tiny", 768, batch=4), "encode").fresh_bytes > 0
    assert features(row("bigbird-pegasus", "tiny", 1024, device="cuda"), "encode").fresh_bytes == 0
    assert features(row("bigbird-pegasus", "tiny", 1024), "train").fresh_bytes == large.fresh_bytes  # kept
    assert features(row("led", "tiny", 2048), "encode").fresh_bytes == 4 * 32 * 2**20  # the mask's copies
    # the dense matrix is what a block-sparse layer holds at its peak, beside its blocks
    assert large.act_bytes > 2 * ARCHS["bigbird-pegasus"]["tiny"]["heads"] * 1024**2 * 4


def test_sparse_tokens_count_tokens_in_the_layers_a_sparse_attention_runs():
    led = features(row("led", "tiny", 1000), "encode")
    assert led.sparse_tokens == ARCHS["led"]["tiny"]["encoder_layers"] * 2 * 1024  # padded, batch 2
    assert features(row("bigbird-pegasus", "tiny", switch()), "encode").sparse_tokens == 0  # full attention
    sparse = features(row("bigbird-pegasus", "tiny", 1024), "encode")
    assert sparse.sparse_tokens == ARCHS["bigbird-pegasus"]["tiny"]["encoder_layers"] * 2 * 1024
    assert features(row("bigbird-pegasus", "tiny", 1024), "train").sparse_tokens == 3 * sparse.sparse_tokens


def test_prob_bytes_grow_with_the_band_for_led_and_with_the_square_for_block_sparse_bigbird():
    def prob_bytes(family, n):
        return features(row(family, "tiny", n), "encode").prob_bytes

    heads, layers = ARCHS["led"]["tiny"]["heads"], ARCHS["led"]["tiny"]["encoder_layers"]
    window = ARCHS["led"]["tiny"]["attention_window"]
    assert prob_bytes("led", 1024) == layers * 2 * heads * 1024 * (window + 1 + 1) * 4  # band + 1 global
    assert prob_bytes("led", 2048) == pytest.approx(2 * prob_bytes("led", 1024))
    # block-sparse BigBird assembles the dense (heads, n, n) matrix besides its blocks
    assert prob_bytes("bigbird-pegasus", 2048) / prob_bytes("bigbird-pegasus", 1024) > 3.5
    assert features(row("led", "tiny", 1024), "train").prob_bytes == pytest.approx(
        3 * prob_bytes("led", 1024)
    )
