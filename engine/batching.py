"""Turn examples into model inputs: truncated or padded to the configured length exactly."""

from __future__ import annotations

from costmodel.encoder import global_tokens
from engine.tasks.example import Example


def encode(
    tokenizer,
    examples: list[Example],
    *,
    input_len: int,
    target_len: int,
    family: str,
    task: str,
    device: str,
    with_labels: bool = True,
) -> dict:
    """Tensors for one batch: input_ids padded to input_len, labels with -100 on padding."""
    enc = tokenizer(
        [e.source for e in examples],
        max_length=input_len,
        truncation=True,
        padding="max_length",
        return_tensors="pt",
    )
    batch = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    if family == "led":
        gam = batch["attention_mask"].new_zeros(batch["attention_mask"].shape)
        gam[:, : global_tokens(family, task)] = 1
        batch["global_attention_mask"] = gam
    if with_labels:
        lab = tokenizer(
            [e.target for e in examples],
            max_length=target_len,
            truncation=True,
            padding="max_length",
            return_tensors="pt",
        )["input_ids"]
        lab[lab == tokenizer.pad_token_id] = -100
        batch["labels"] = lab
    return {k: v.to(device) for k, v in batch.items()}
