"""A tokenizer for models without one: byte-level BPE trained once on a task's training text.

A random tiny or small model on a SCROLLS task has no published tokenizer; instead of the hub's,
it reads with a BPE tokenizer trained with `tokenizers` on the first rows of the task's training
split, at the size's vocabulary. The result is cached beside the synthetic checkpoints, keyed by
the text it was trained on, so it is trained once per machine and the same text always gives the
same tokenizer (the BPE trainer is deterministic).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.checkpoints import cache_root, digest, locked

VERSION = 1
ROWS = 1000  # training rows read
CHARS_PER_ROW = 20_000  # of each row's input: BPE needs a sample of the text, not all of it
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")  # ids 0..3, as the synthetic task's own tokenizer


def task_tokenizer(task: str, vocab_size: int, local_path: str | None = None):
    """The cached tokenizer of a task's training text at `vocab_size`, trained first if absent."""
    from engine import tasks

    rows = tasks.load(task, "train", ROWS, local_path=local_path)
    texts = [r.source[:CHARS_PER_ROW] + "\n" + r.target for r in rows]
    text_hash = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    path = tokenizer_path(task, vocab_size, text_hash)
    with locked(path):
        if not path.is_file():
            tmp = path.with_suffix(".tmp")
            _train(texts, vocab_size).save(str(tmp))
            tmp.replace(path)
    return _wrap(path)


def tokenizer_path(task: str, vocab_size: int, text_hash: str) -> Path:
    return cache_root().parent / "tokenizers" / f"{task}-bpe{vocab_size}-{digest(VERSION, text_hash)}.json"


def _train(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIALS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="$A </s>", special_tokens=[("</s>", tok.token_to_id("</s>"))]
    )
    return tok


def _wrap(path: Path):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_file=str(path),
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=1_000_000,
    )
