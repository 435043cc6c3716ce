"""The built-in synthetic task: long documents whose answer-bearing facts are spread through the text.

A document is DOC_TOKENS words of filler with one key word per slot, slot s placed at a random
position inside the s-th of SLOTS equal segments. Each slot has its own KEYS_PER_SLOT key words,
drawn with Zipf-like frequencies (a few common, a long tail of rare ones), and each key stands for
one of the slot's VALUES_PER_SLOT value words by a fixed table that no document states. A fact's
answer is its key and the key's value ("KEY Value"): the key is read, the value recalled.

So two things limit accuracy. A reader that sees a prefix of n words sees the keys of the first
n * SLOTS / DOC_TOKENS segments and no others: the longer the input, the more of the answer it
carries. And the table has SLOTS * KEYS_PER_SLOT entries, its rare keys seen seldom: a model that
learns more of it (more capacity, or more training) recalls more values; one that knows too little
copies the key and guesses the value.

- `synthetic` (summary-like): the target lists every slot's fact in slot order.
- `synthetic-qa` (QA-like): the document opens with a question word naming one slot; the target
  is that slot's fact.

Everything is deterministic by seed and built offline, tokenizer included.
"""

from __future__ import annotations

import random
from functools import cache

from engine.tasks.example import Example

VERSION = 2
DOC_TOKENS = 512
SLOTS = 12
KEYS_PER_SLOT = 48
VALUES_PER_SLOT = 8
ZIPF = 1.0  # a key of rank r (from 1) is drawn with weight r ** -ZIPF
FILLER_WORDS = 192
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
VARIANTS = {"synthetic": "summary", "synthetic-qa": "qa"}

_ONSETS = "b d f g k l m n p r s t v z".split()
_VOWELS = "a e i o u".split()


def _syllables() -> list[str]:
    return [c + v for c in _ONSETS for v in _VOWELS]


@cache
def _words() -> tuple[
    tuple[str, ...], tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...], tuple[str, ...]
]:
    """Filler words, key words per slot, value words per slot, and question words: disjoint, deterministic."""
    syl = _syllables()
    rng = random.Random(1234)
    pool = [a + b + c for a in syl[:20] for b in syl for c in ("", "n", "r")]
    rng.shuffle(pool)
    filler = tuple(pool[:FILLER_WORDS])
    rest = iter(pool[FILLER_WORDS:])
    keys = tuple(tuple(next(rest).upper() for _ in range(KEYS_PER_SLOT)) for _ in range(SLOTS))
    values = tuple(tuple(next(rest).capitalize() for _ in range(VALUES_PER_SLOT)) for _ in range(SLOTS))
    questions = tuple(f"q{s:02d}" for s in range(SLOTS))
    return filler, keys, values, questions


@cache
def _table() -> dict[str, tuple[int, str]]:
    """Every key word's slot and value: the slot's keys in turn over a shuffle of its values, so that
    each value stands for KEYS_PER_SLOT / VALUES_PER_SLOT keys of mixed frequency."""
    _, keys, values, _ = _words()
    rng = random.Random(4321)
    table = {}
    for s in range(SLOTS):
        order = list(values[s])
        rng.shuffle(order)
        for rank, key in enumerate(keys[s]):
            table[key] = (s, order[rank % VALUES_PER_SLOT])
    return table


_WEIGHTS = tuple((rank + 1) ** -ZIPF for rank in range(KEYS_PER_SLOT))


def vocabulary() -> list[str]:
    """Every token of the task, specials first (ids 0..3)."""
    filler, keys, values, questions = _words()
    return [
        *SPECIALS,
        *filler,
        *(w for slot in keys for w in slot),
        *(w for slot in values for w in slot),
        *questions,
        "?",
    ]


def build_tokenizer():
    """A word-level tokenizer for the task, built locally with `tokenizers`, wrapped for transformers."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {w: i for i, w in enumerate(vocabulary())}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 2)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        model_max_length=1_000_000,
    )


def _document(rng: random.Random, qa: bool, doc_tokens: int) -> tuple[list[str], list[str], int]:
    """The words, each slot's fact ("KEY Value") and a slot to ask about."""
    filler, keys, _, _ = _words()
    words = [rng.choice(filler) for _ in range(doc_tokens)]
    drawn = [rng.choices(keys[s], _WEIGHTS)[0] for s in range(SLOTS)]
    seg = doc_tokens // SLOTS
    start = 2 if qa else 0  # keep the question's two words clear of facts
    for s, key in enumerate(drawn):
        lo = max(s * seg, start)
        words[rng.randrange(lo, (s + 1) * seg)] = key
    return words, [f"{k} {value_of(k)}" for k in drawn], rng.randrange(SLOTS)


def examples(task: str, split: str, n: int, seed: int = 0, doc_tokens: int = DOC_TOKENS) -> list[Example]:
    """n examples of `task` ("synthetic" or "synthetic-qa") for `split`; same arguments, same examples.

    `doc_tokens` shortens documents (denser facts) for pre-training's curriculum."""
    kind = VARIANTS[task]
    rng = random.Random(f"{task}/{split}/{seed}/{doc_tokens}/v{VERSION}")
    questions = _words()[3]
    out = []
    for i in range(n):
        words, facts, slot = _document(rng, kind == "qa", doc_tokens)
        if kind == "qa":
            words[:2] = [questions[slot], "?"]
            target = facts[slot]
        else:
            target = " ".join(facts)
        out.append(Example(source=" ".join(words), target=target, kind=kind, id=f"{split}-{seed}-{i}"))
    return out


def fact_slot(word: str) -> int | None:
    """The slot a key word fills, or None for any other word (an oracle reader's knowledge)."""
    entry = _table().get(word)
    return entry[0] if entry else None


def value_of(key: str) -> str:
    """The value word a key word stands for (KeyError for any other word)."""
    return _table()[key][1]


def scrolls_rows(task: str, split: str, n: int, seed: int = 0) -> list[dict]:
    """n examples of a synthetic task as SCROLLS jsonl rows (id, pid, input, output).

    Like Qasper, every other QA example has a second reference in a row of its own with the same id
    and input: an answer that restates the question ("q03 BAKA Tifu" beside "BAKA Tifu").
    """
    rows = []
    for i, e in enumerate(examples(task, split, n, seed)):
        ident = f"{task}-{split}-{i:03d}"
        rows.append({"id": ident, "pid": f"{ident}_0", "input": e.source, "output": e.target})
        if e.kind == "qa" and i % 2 == 0:
            question = e.source.split()[0]
            rows.append(
                {"id": ident, "pid": f"{ident}_1", "input": e.source, "output": f"{question} {e.target}"}
            )
    return rows
