"""Analytic features of one configuration, computed at the encoder length the model actually runs.

FLOPs count matrix multiplications only, two per multiply-accumulate, as torch.utils.flop_counter
does; softmax, norms, activations and embedding lookups are left out. The encoder length, the
attention and LED's global tokens are the row's (`padded_len`, `attention`, `global_tokens`: what a
measured record's encoder ran), else the rule the engine shares (costmodel.encoder). LED attends
within a sliding window (overlapping chunks) plus its global tokens; BigBird-Pegasus to global,
sliding and random blocks, or with full attention on the unpadded input at short lengths. Both
encoders strip the padding before the decoder, so cross-attention runs over `input_len` keys.

Phases, each for one batch: "encode" is the encoder forward alone; "infer" is generate(): the
encoder forward and `gen_tokens` decoding steps with a key/value cache; "prefill" is generate() of
one token (the time to first token); "decode" is one decoding step after the first, averaged over
the `gen_tokens` steps of a generation: infer's counts less prefill's, per step; "train" is one optimiser
step: a forward pass with a teacher-forced decoder of `target_len` tokens (default: `gen_tokens`,
as the engine pads labels to it) and a backward pass costing twice the forward.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from functools import lru_cache

from costmodel.encoder import ATTENTIONS, BLOCK_SPARSE, FULL, SLIDING, encoder_run
from costmodel.encoder import global_tokens as global_token_rule
from costmodel.errors import FeatureError

PHASES = ("encode", "infer", "prefill", "decode", "train")
FAMILIES = ("led", "bigbird-pegasus")
DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
DEFAULT_GEN_TOKENS = 32  # RunConfig.gen_tokens
TRAIN_FLOP_FACTOR = 3.0  # forward + backward (gradients of inputs and of weights)
MASK_COPIES = 4  # float copies of the dense mask alive while it is built: expanded, inverse, filled, product
# glibc malloc's largest mmap threshold: a block this large is mapped afresh at every allocation and
# each of its pages faults in on first touch (10x the per-byte cost of a reused block, measured)
MMAP_THRESHOLD = 32 * 2**20
# (batch, n, ffn_dim) tensors of a feed-forward layer: fc1 output and gelu; gelu_new's tanh formula makes 8
FFN_COPIES = {"led": 2, "bigbird-pegasus": 8}


@dataclass(frozen=True)
class Arch:
    """The dimensions of one architecture that cost depends on."""

    family: str
    d_model: int
    heads: int
    ffn_dim: int
    encoder_layers: int
    decoder_layers: int
    vocab_size: int
    max_encoder_positions: int
    max_decoder_positions: int
    attention_window: int = 0  # LED
    block_size: int = 0  # BigBird-Pegasus
    num_random_blocks: int = 0  # BigBird-Pegasus


@dataclass(frozen=True)
class Features:
    """What the fits regress on, for one configuration and phase (FLOPs for the whole batch)."""

    f_dense: float  # projections, feed-forward, cross-attention keys/values, LM head (large GEMMs)
    f_attn: float  # attention scores and context (encoder; the teacher-forced decoder in training)
    f_attn_sparse: float  # the part of f_attn run by a sparse attention (gathers, chunks, small GEMMs)
    f_dec: float  # token-by-token generation with a cache (infer only)
    params: float
    weight_bytes: float
    act_bytes: float  # activations held at the peak: a layer's working set (+ saved ones in train)
    bytes_moved: float  # weights and activations read and written
    layers: float  # layer invocations: the count behind a per-layer overhead
    layer_tokens: float  # tokens times the layers they pass: the count behind norms, residuals, activations
    sparse_layers: float  # encoder layers run by a sparse attention: the count behind its many small ops
    sparse_tokens: float  # tokens times the encoder layers run by a sparse attention: its per-token work
    prob_bytes: float  # attention probabilities the encoder writes (all layers): memory-bound traffic
    mask_bytes: float  # the dense (batch, n, n) attention mask the encoder builds once per forward
    fresh_bytes: float  # bytes of allocations too large to be reused: page-faulted in at every forward
    encoder_len: int  # the encoder length actually run
    attention: str  # costmodel.encoder.ATTENTIONS: sliding_window (LED), block_sparse or original_full

    @property
    def flops(self) -> float:
        return self.f_dense + self.f_attn + self.f_dec


def row_int(row: dict, name: str, default: int | None = None) -> int:
    """A whole-number field of a row (FeatureError when missing or not a whole number)."""
    value = row.get(name, default)
    if value is None or value == "":
        raise FeatureError(f"row {_label(row)}: field {name!r} is missing")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FeatureError(f"row {_label(row)}: field {name!r} is {value!r}, not a number") from None
    if number != int(number) or number < 0:
        raise FeatureError(f"row {_label(row)}: field {name!r} is {value!r}, not a whole number >= 0")
    return int(number)


def _label(row: dict) -> str:
    parts = (row.get("family"), row.get("size"), row.get("input_len"), row.get("batch_size"))
    return "/".join(str(p) for p in parts if p is not None) or "?"


def arch_of(row: dict) -> Arch:
    """The architecture a flat row describes (FeatureError when a dimension is missing)."""
    family = row.get("family")
    if family not in FAMILIES:
        raise FeatureError(f"row {_label(row)}: family {family!r} unknown; allowed: {', '.join(FAMILIES)}")
    common = dict(
        family=family,
        d_model=row_int(row, "d_model"),
        heads=row_int(row, "heads"),
        ffn_dim=row_int(row, "ffn_dim"),
        encoder_layers=row_int(row, "encoder_layers"),
        decoder_layers=row_int(row, "decoder_layers"),
        vocab_size=row_int(row, "vocab_size"),
        max_encoder_positions=row_int(row, "max_encoder_positions", 0),
        max_decoder_positions=row_int(row, "max_decoder_positions", 0),
    )
    if family == "led":
        return Arch(**common, attention_window=row_int(row, "attention_window"))
    return Arch(
        **common, block_size=row_int(row, "block_size"), num_random_blocks=row_int(row, "num_random_blocks")
    )


def global_tokens(row: dict) -> int:
    """LED global tokens: the row's `global_tokens`, else the rule the engine marks them by."""
    if row.get("family") != "led":
        return 0
    return row_int(row, "global_tokens", global_token_rule("led", row.get("task", "")))


def encoder_length(arch: Arch, row: dict) -> tuple[int, str]:
    """The encoder length actually run and the attention in force there: the row's record of them
    (`padded_len`, `attention`), else the rule the engine shares (costmodel.encoder)."""
    attention = row.get("attention")
    if attention:
        if attention not in ATTENTIONS:
            raise FeatureError(
                f"row {_label(row)}: attention {attention!r} unknown; allowed: {', '.join(ATTENTIONS)}"
            )
        return row_int(row, "padded_len"), attention
    dims = {
        "attention_window": arch.attention_window,
        "block_size": arch.block_size,
        "num_random_blocks": arch.num_random_blocks,
    }
    return encoder_run(arch.family, dims, row_int(row, "input_len"))


def bigbird_key_blocks(n_blocks: int, num_random_blocks: int) -> int:
    """Key blocks attended, summed over query blocks: 2 global rows, 2 edge rows, the middle band."""
    r = num_random_blocks
    return 2 * n_blocks + 2 * (4 + r) + (n_blocks - 4) * (5 + r)


def encoder_layer_flops(arch: Arch, n: int, attention: str, global_tokens: int) -> tuple[float, float]:
    """(dense, attention) FLOPs of one encoder layer on one sequence of length n."""
    d, f = arch.d_model, arch.ffn_dim
    dense = n * (8 * d * d + 4 * d * f)
    if attention == SLIDING:
        w = arch.attention_window // 2  # one-sided window; chunks of 2w overlapping by w
        attn = 8 * d * w * (n - w) + 8 * w * (n - w) + 6 * d * w * n  # QK, the padding mask, AV
        if global_tokens:
            g = global_tokens
            dense += 4 * n * d * d + 2 * g * d * d  # key_global, value_global over n; query_global
            attn += 8 * n * g * d  # tokens to global keys, global queries to all keys (QK and AV)
    elif attention == BLOCK_SPARSE:
        bs = arch.block_size
        attn = 4 * d * bs * bs * bigbird_key_blocks(n // bs, arch.num_random_blocks)
    else:
        attn = 4 * d * n * n
    return float(dense), float(attn)


def mask_elements(n: int, attention: str) -> float:
    """Elements of the dense (n, n) attention mask the encoder builds once per forward, per sequence.

    HF LED expands its padding mask to (batch, 1, n, n) floats and keeps one row of it
    (modeling_led._prepare_4d_attention_mask_inverted): a cost quadratic in n whatever the window.
    BigBird-Pegasus builds the same matrix in full attention only.
    """
    return 0.0 if attention == BLOCK_SPARSE else float(n * n)


def probability_elements(arch: Arch, n: int, attention: str, global_tokens: int) -> float:
    """Attention-probability elements one encoder layer writes for one sequence, all heads.

    LED allocates (n, 2w + 1) band scores per head plus a column per global token. HF BigBird-Pegasus
    also assembles the dense (heads, n, n) probability matrix from its blocks in block-sparse mode
    (a zero fill, then scatters), on top of the blocks it multiplies.
    """
    h = arch.heads
    if attention == SLIDING:
        w = arch.attention_window // 2
        return float(h * n * (2 * w + 1 + global_tokens))
    if attention == BLOCK_SPARSE:
        bs = arch.block_size
        return float(h * (n * n + bs * bs * bigbird_key_blocks(n // bs, arch.num_random_blocks)))
    return float(h * n * n)


def layer_allocations(arch: Arch, n: int, attention: str, g: int) -> tuple[tuple[float, int], ...]:
    """(elements per sequence, count) of the largest tensors one encoder layer allocates.

    Counted with torch.profiler on transformers 5.24: LED's sliding attention allocates five band
    tensors of (n, 2w + 1 + g) per head, the chunked query-key product and the padded probabilities
    its value product reads; block-sparse BigBird the dense probability matrix it assembles; full
    attention its scores, their scaled copy and the softmax.
    """
    h = arch.heads
    ffn = (float(n * arch.ffn_dim), FFN_COPIES[arch.family])
    if attention == SLIDING:
        w = arch.attention_window // 2
        band = float(h * n * (2 * w + 1 + g))
        return ffn, (band, 5), (float(h * (n // w - 1) * 4 * w * w), 1), (float(h * n * 3 * w), 1)
    if attention == BLOCK_SPARSE:
        return ffn, (float(h * n * n), 1)
    return ffn, (float(h * n * n), 3)


def fresh_bytes(allocations: Iterable[tuple[float, int]], batch: int, nbytes: int) -> float:
    """Bytes of the allocations (elements per sequence, count) at or above MMAP_THRESHOLD."""
    sizes = ((batch * elements * nbytes, count) for elements, count in allocations)
    return float(sum(size * count for size, count in sizes if size >= MMAP_THRESHOLD))


def decoder_forward_flops(arch: Arch, source_len: int, target_len: int) -> tuple[float, float]:
    """(dense, attention) FLOPs of a teacher-forced decoder pass and LM head on one sequence."""
    d, f, t, s = arch.d_model, arch.ffn_dim, target_len, source_len
    dense = arch.decoder_layers * (t * (12 * d * d + 4 * d * f) + 4 * s * d * d) + 2 * t * d * arch.vocab_size
    attn = arch.decoder_layers * (4 * t * t * d + 4 * t * s * d)
    return float(dense), float(attn)


def generation_flops(arch: Arch, source_len: int, tokens: int) -> tuple[float, float]:
    """(cross-attention key/value projections, token-by-token work) of generating `tokens` tokens."""
    d, f, t, s = arch.d_model, arch.ffn_dim, tokens, source_len
    once = arch.decoder_layers * 4 * s * d * d
    per_token = arch.decoder_layers * (t * (12 * d * d + 4 * d * f + 4 * s * d) + 2 * d * t * (t + 1))
    return float(once), float(per_token + 2 * d * arch.vocab_size * t)


def param_count(arch: Arch) -> int:
    """Parameters of the ...ForConditionalGeneration model (LM head tied to the embeddings)."""
    d, f = arch.d_model, arch.ffn_dim
    ffn = 2 * d * f + f + d
    if arch.family == "led":
        positions = arch.max_encoder_positions + arch.max_decoder_positions
    else:  # one max_position_embeddings for both, built from max_encoder_positions
        positions = 2 * arch.max_encoder_positions
    embed = arch.vocab_size * d + positions * d + 4 * d
    if arch.family == "led":
        enc = 7 * (d * d + d) + 4 * d + ffn  # q, k, v, q/k/v global, output
        dec = 8 * (d * d + d) + 6 * d + ffn
    else:  # BigBird-Pegasus attention projections carry no bias (use_bias false)
        enc = 4 * d * d + 4 * d + ffn
        dec = 8 * d * d + 6 * d + ffn
    return embed + arch.encoder_layers * enc + arch.decoder_layers * dec


def forward_flops(row: dict, target_len: int) -> tuple[float, float]:
    """(dense, attention) FLOPs of one forward pass of the batch: encoder plus teacher-forced decoder."""
    arch = arch_of(row)
    input_len, batch = row_int(row, "input_len"), row_int(row, "batch_size")
    n, attention = encoder_length(arch, row)
    enc_dense, enc_attn = encoder_layer_flops(arch, n, attention, global_tokens(row))
    dec_dense, dec_attn = decoder_forward_flops(arch, input_len, target_len)
    layers = arch.encoder_layers
    return batch * (layers * enc_dense + dec_dense), batch * (layers * enc_attn + dec_attn)


# counts a decoding step adds; the others (sizes, what the peak holds) are generation's own
_STEP_COUNTS = (
    "f_dense",
    "f_attn",
    "f_attn_sparse",
    "f_dec",
    "bytes_moved",
    "layers",
    "layer_tokens",
    "sparse_layers",
    "sparse_tokens",
    "prob_bytes",
    "mask_bytes",
    "fresh_bytes",
)


def _decode_step(row: dict) -> Features:
    """One decoding step after the first, averaged over a generation of gen_tokens (at least 2)."""
    t = max(row_int(row, "gen_tokens", DEFAULT_GEN_TOKENS), 2)
    whole, first = features({**row, "gen_tokens": t}, "infer"), features({**row, "gen_tokens": 1}, "infer")
    step = {name: (getattr(whole, name) - getattr(first, name)) / (t - 1) for name in _STEP_COUNTS}
    return replace(whole, **step)


# every field of a row that its features (or their errors' labels) read: rows alike in these share them
FEATURE_FIELDS = (
    *(f.name for f in fields(Arch)),
    "size",
    "input_len",
    "padded_len",
    "attention",
    "batch_size",
    "dtype",
    "gen_tokens",
    "target_len",
    "task",
    "global_tokens",
    "device",
)


def features(row: dict, phase: str) -> Features:
    """The features of a flat row for a phase of PHASES (FeatureError on missing fields).

    Computed once for the rows alike in FEATURE_FIELDS: a fit's repetitions, resamples and phases ask
    for the same configuration's features many times.
    """
    key = tuple((name, row[name]) for name in FEATURE_FIELDS if name in row)
    try:
        return _features_of(key, phase)
    except TypeError:  # an unhashable value: computed as it is (and its error reported)
        return _features(row, phase)


@lru_cache(maxsize=2**16)
def _features_of(key: tuple, phase: str) -> Features:
    return _features(dict(key), phase)


def _features(row: dict, phase: str) -> Features:
    if phase not in PHASES:
        raise FeatureError(f"phase {phase!r} unknown; allowed: {', '.join(PHASES)}")
    if phase == "prefill":
        return features({**row, "gen_tokens": 1}, "infer")
    if phase == "decode":
        return _decode_step(row)
    arch = arch_of(row)
    input_len, batch = row_int(row, "input_len"), row_int(row, "batch_size")
    if input_len < 1 or batch < 1:
        raise FeatureError(f"row {_label(row)}: input_len and batch_size must be at least 1")
    dtype = row.get("dtype", "float32")
    if dtype not in DTYPE_BYTES:
        raise FeatureError(f"row {_label(row)}: dtype {dtype!r} unknown; allowed: {', '.join(DTYPE_BYTES)}")
    nbytes = DTYPE_BYTES[dtype]
    n, attention = encoder_length(arch, row)
    d, f, h, le, ld = arch.d_model, arch.ffn_dim, arch.heads, arch.encoder_layers, arch.decoder_layers
    g = global_tokens(row)
    enc_dense, enc_attn = encoder_layer_flops(arch, n, attention, g)
    scores = h * enc_attn / (4 * d)  # attention-score elements of one encoder layer, all heads
    params = param_count(arch)
    weight_bytes = float(params * nbytes)
    gen_tokens = row_int(row, "gen_tokens", DEFAULT_GEN_TOKENS)
    probs = probability_elements(arch, n, attention, g)
    mask = mask_elements(n, attention)
    # one encoder layer's activations, its feed-forward tensors and its attention probabilities
    working = batch * (n * (4 * d + FFN_COPIES[arch.family] * f) + probs) * nbytes
    fresh = 0.0
    if row.get("device", "cpu") == "cpu":  # accelerators' caching allocators reuse their blocks
        fresh = le * fresh_bytes(layer_allocations(arch, n, attention, g), batch, nbytes)
        fresh += fresh_bytes(((mask, MASK_COPIES),), batch, nbytes)
    sparse = attention != FULL
    sparse_layers = float(le if sparse else 0)
    sparse_tokens = float(le * batch * n if sparse else 0)
    prob_bytes = le * batch * probs * nbytes
    mask_bytes = batch * mask * nbytes
    peak = working + MASK_COPIES * mask_bytes  # what the running encoder layer holds, and the mask's copies
    f_dense, f_attn, f_dec = batch * le * enc_dense, batch * le * enc_attn, 0.0
    f_attn_sparse = f_attn if sparse else 0.0
    if phase == "encode":
        act_bytes = peak
        bytes_moved = weight_bytes + le * working
        layers, layer_tokens = le, le * batch * n
    elif phase == "infer":
        t = gen_tokens
        once, per_token = generation_flops(arch, input_len, t)
        f_dense += batch * once
        f_dec = batch * per_token
        dec_weight_bytes = (ld * (6 * d * d + 2 * d * f) + arch.vocab_size * d) * nbytes  # read per token
        cache = batch * ld * 2 * (input_len + t) * d * nbytes
        act_bytes = peak + cache
        bytes_moved = weight_bytes + t * dec_weight_bytes + le * working + t * cache
        layers, layer_tokens = le + t * ld, batch * (le * n + ld * t)
    else:
        t = row_int(row, "target_len", gen_tokens)
        dec_dense, dec_attn = decoder_forward_flops(arch, input_len, t)
        f_dense = TRAIN_FLOP_FACTOR * (f_dense + batch * dec_dense)
        f_attn = TRAIN_FLOP_FACTOR * (f_attn + batch * dec_attn)
        dec_scores = ld * h * (t * t + t * input_len)
        saved = batch * (le * (n * (6 * d + 2 * f) + scores) + ld * t * (8 * d + 2 * f) + dec_scores)
        # at the peak, the activations saved by the layers before sit beside what the running one holds
        act_bytes = (saved + batch * t * arch.vocab_size) * nbytes + peak
        bytes_moved = TRAIN_FLOP_FACTOR * (weight_bytes + act_bytes)
        layers, layer_tokens = le + ld, batch * (le * n + ld * t)
        # the forward's large blocks are allocated once a step: it keeps them for the backward pass
        # (fitted on two CPU sweeps: 0.16-0.19 ns per byte counted three times, the 0.47 ns/B of a
        # fresh block counted once)
        layer_tokens, sparse_layers, sparse_tokens, prob_bytes, f_attn_sparse = (
            TRAIN_FLOP_FACTOR * v
            for v in (layer_tokens, sparse_layers, sparse_tokens, prob_bytes, f_attn_sparse)
        )
    return Features(
        f_dense=float(f_dense),
        f_attn=float(f_attn),
        f_attn_sparse=float(f_attn_sparse),
        f_dec=float(f_dec),
        params=float(params),
        weight_bytes=weight_bytes,
        act_bytes=float(act_bytes),
        bytes_moved=float(bytes_moved),
        layers=float(layers),
        layer_tokens=float(layer_tokens),
        sparse_layers=sparse_layers,
        sparse_tokens=sparse_tokens,
        prob_bytes=float(prob_bytes),
        mask_bytes=float(mask_bytes),
        fresh_bytes=float(fresh),
        encoder_len=n,
        attention=attention,
    )
