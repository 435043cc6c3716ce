"""What a family's Hugging Face encoder runs for an input length: one rule, dependency-free, that the
engine records by before it has measured and the cost model predicts by where no record says.

LED pads the input to a multiple of `attention_window` and attends within a sliding window plus its
global tokens (the engine marks the first token global, the question's two for synthetic-qa).
BigBird-Pegasus runs full attention on the unpadded input when
`input_len <= (5 + 2 * num_random_blocks) * block_size` (it warns and switches to "original_full"),
else block-sparse attention on the input padded to a multiple of `block_size`
(modeling_bigbird_pegasus.BigBirdPegasusEncoder.forward, transformers 5.24).
"""

from __future__ import annotations

from collections.abc import Mapping

SLIDING = "sliding_window"
BLOCK_SPARSE = "block_sparse"
FULL = "original_full"
ATTENTIONS = (SLIDING, BLOCK_SPARSE, FULL)


def global_tokens(family: str, task: str) -> int:
    """How many leading tokens get global attention: LED's question for synthetic-qa (2), else its
    first token; none for BigBird-Pegasus."""
    if family != "led":
        return 0
    return 2 if task == "synthetic-qa" else 1


def encoder_run(family: str, dims: Mapping, input_len: int) -> tuple[int, str]:
    """(the encoder length run, after padding; the attention in force) for `dims` (attention_window,
    or block_size and num_random_blocks)."""
    if family == "led":
        w = int(dims["attention_window"])
        return -(-input_len // w) * w, SLIDING
    bs, r = int(dims["block_size"]), int(dims["num_random_blocks"])
    if input_len <= (5 + 2 * r) * bs:
        return input_len, FULL
    return -(-input_len // bs) * bs, BLOCK_SPARSE
