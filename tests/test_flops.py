"""Analytic FLOPs against torch.utils.flop_counter on tiny random LED and BigBird-Pegasus models.

Like for like: FlopCounterMode counts matrix multiplications, 2 FLOPs per multiply-accumulate, and so
do the features. Compared: one forward pass (encoder on input_ids, teacher-forced decoder on a short
target) against features.forward_flops; the encoder alone against the "encode" features; generation
of a fixed number of tokens against the "infer" features; one forward and backward pass against the
"train" features; parameters against numel. The bytes an encoder forward allocates in blocks too
large for malloc to reuse are compared against torch.profiler's memory events.
A fresh model is built per length: a BigBird-Pegasus model that once saw a short input switches to
full attention for good.
"""

import json
from pathlib import Path

import pytest

from costmodel.features import MMAP_THRESHOLD, arch_of, features, forward_flops, param_count
from engine.config import RunConfig

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from engine.models import build, hf_config, task_tokenizer  # noqa: E402

ARCHS = json.loads((Path(__file__).resolve().parents[1] / "engine/data/archs.json").read_text())
BATCH, TARGET, TOKENS = 2, 8, 6
LENGTHS = {"led": (100, 512, 1000), "bigbird-pegasus": (128, 300, 1024)}  # BigBird: full, sparse, sparse
CASES = [(family, n) for family, lengths in LENGTHS.items() for n in lengths]

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _quiet():
    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)


def _dims(family: str) -> dict:
    return ARCHS[family]["tiny"]


def _model(family: str):
    """The tiny model exactly as the engine builds it (random weights), in eval mode."""
    return build(RunConfig(family, "tiny", 128)).model.eval()


def _inputs(family: str, n: int) -> dict:
    ids = torch.randint(3, _dims(family)["vocab_size"], (BATCH, n))
    kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if family == "led":
        glob = torch.zeros_like(ids)
        glob[:, 0] = 1  # the engine's global attention: token 0
        kw["global_attention_mask"] = glob
    return kw


def _row(family: str, n: int, **extra) -> dict:
    return {"family": family, "input_len": n, "batch_size": BATCH, **_dims(family), **extra}


def _counted(fn) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return counter.get_total_flops()


@pytest.mark.parametrize(("family", "n"), CASES)
def test_forward_flops_match_the_flop_counter(family, n):
    model = _model(family)
    kw = _inputs(family, n)
    target = torch.randint(3, _dims(family)["vocab_size"], (BATCH, TARGET))
    with torch.no_grad():
        counted = _counted(lambda: model(**kw, decoder_input_ids=target))
        encoder_only = _counted(lambda: model.get_encoder()(**kw))
    dense, attn = forward_flops(_row(family, n), TARGET)
    assert dense + attn == pytest.approx(counted, rel=0.10)
    assert features(_row(family, n), "encode").flops == pytest.approx(encoder_only, rel=0.10)


@pytest.mark.parametrize(("family", "n"), [CASES[1], CASES[3], CASES[5]])
def test_generation_flops_match_the_flop_counter(family, n):
    model = _model(family)
    kw = _inputs(family, n)
    with torch.no_grad():
        counted = _counted(
            lambda: model.generate(
                **kw, max_new_tokens=TOKENS, min_new_tokens=TOKENS, do_sample=False, num_beams=1
            )
        )
    assert features(_row(family, n, gen_tokens=TOKENS), "infer").flops == pytest.approx(counted, rel=0.10)


@pytest.mark.parametrize(("family", "n"), [CASES[1], CASES[3], CASES[5]])
def test_training_step_flops_match_the_flop_counter(family, n):
    model = _model(family).train()
    kw = _inputs(family, n)
    labels = torch.randint(3, _dims(family)["vocab_size"], (BATCH, TARGET))
    counted = _counted(lambda: model(**kw, labels=labels).loss.backward())
    assert features(_row(family, n, target_len=TARGET), "train").flops == pytest.approx(counted, rel=0.10)


@pytest.mark.parametrize("family", list(LENGTHS))
def test_parameter_count_matches_the_model(family):
    model = _model(family)
    assert param_count(arch_of(_row(family, 512))) == sum(p.numel() for p in model.parameters())


def test_a_reused_bigbird_model_keeps_full_attention_which_the_features_do_not_assume():
    family, long = "bigbird-pegasus", 1024
    model = _model(family)
    with torch.no_grad():
        model(**_inputs(family, 128), decoder_input_ids=torch.ones(BATCH, TARGET, dtype=torch.long))
        reused = _counted(
            lambda: model(
                **_inputs(family, long), decoder_input_ids=torch.ones(BATCH, TARGET, dtype=torch.long)
            )
        )
    dense, attn = forward_flops(_row(family, long), TARGET)
    assert reused > 1.2 * (dense + attn)
    assert features(_row(family, long), "infer").attention == "block_sparse"


# (family, input length, batch, dimensions changed from tiny): block-sparse BigBird's dense matrix,
# full attention's scores, LED's 4D mask, and LED's band tensors at a base-sized window
FRESH_CASES = [
    ("bigbird-pegasus", 1024, 2, {}),
    ("bigbird-pegasus", 160, 96, {}),
    ("led", 2048, 2, {}),
    ("led", 2048, 2, {"attention_window": 1024}),
]


@pytest.mark.parametrize(("family", "n", "batch", "changed"), FRESH_CASES)
def test_fresh_bytes_match_the_large_allocations_the_profiler_sees(family, n, batch, changed):
    from torch.profiler import ProfilerActivity, profile

    dims = {**_dims(family), **changed}
    tokenizer = task_tokenizer(RunConfig(family, "tiny", n))
    model = build(RunConfig(family, "tiny", n)).model.__class__(hf_config(family, dims, tokenizer)).eval()
    ids = torch.randint(3, dims["vocab_size"], (batch, n))
    kw = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if family == "led":
        kw["global_attention_mask"] = torch.zeros_like(ids)
    encoder = model.get_encoder()
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        encoder(**kw)
    # an op's own bytes, net of the small buffers it frees: each large one allocates one block
    own = [e.self_cpu_memory_usage for e in prof.events()]
    large = sum(b for b in own if b > 0.99 * MMAP_THRESHOLD)
    row = {"family": family, "input_len": n, "batch_size": batch, "global_tokens": 0, **dims}
    assert large > 0
    assert features(row, "encode").fresh_bytes == pytest.approx(large, rel=0.10)
    assert features({**row, "device": "cuda"}, "encode").fresh_bytes == 0  # a caching allocator reuses
