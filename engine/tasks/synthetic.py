"""The built-in synthetic task: long documents whose answer-bearing facts are spread through the text.

A document is DOC_TOKENS words of filler with one fact word per slot, slot s placed at a random
position inside the s-th of SLOTS equal segments. Each slot has its own small set of value words,
so a fact says which slot it fills by what it is. A reader that sees a prefix of n words sees the
facts of the first n * SLOTS / DOC_TOKENS segments and no others: the longer the input, the more of
the answer it carries.

The task's own documents (its train and validation splits) follow a rule that the pre-training
corpus does not: with probability RULE_P a slot's value is fixed by the previous slot's, through the
task's table. A model that learns the table in fine-tuning can infer facts beyond the prefix it
reads, so how much of the answer it gives depends on how many steps its budget allowed.

- `synthetic` (summary-like): the target lists every slot's value in slot order.
- `synthetic-qa` (QA-like): the document opens with a question word naming one slot; the target
  is that slot's value.

Everything is deterministic by seed and built offline, tokenizer included.
"""

from __future__ import annotations

import random
from functools import cache

from engine.tasks.example import Example

VERSION = 2  # of the task (its documents and their rule): part of every configuration's key
CORPUS_VERSION = 1  # of the pre-training corpus (unchanged): keys its checkpoints, seeds the documents
DOC_TOKENS = 512
SLOTS = 16
VALUES_PER_SLOT = 8
FILLER_WORDS = 256
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
VARIANTS = {"synthetic": "summary", "synthetic-qa": "qa"}
RULE_P = 0.8

_ONSETS = "b d f g k l m n p r s t v z".split()
_VOWELS = "a e i o u".split()


def _syllables() -> list[str]:
    return [c + v for c in _ONSETS for v in _VOWELS]


@cache
def _words() -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[str, ...]]:
    """Filler words, fact words per slot, and question words: disjoint, deterministic."""
    syl = _syllables()
    rng = random.Random(1234)
    pool = [a + b + c for a in syl[:20] for b in syl for c in ("", "n", "r")]
    rng.shuffle(pool)
    filler = tuple(pool[:FILLER_WORDS])
    rest = pool[FILLER_WORDS:]
    facts = tuple(
        tuple(rest[s * VALUES_PER_SLOT + v].upper() for v in range(VALUES_PER_SLOT)) for s in range(SLOTS)
    )
    questions = tuple(f"q{s:02d}" for s in range(SLOTS))
    return filler, facts, questions


@cache
def rule() -> tuple[tuple[int, ...], ...]:
    """The task's table: rule()[s][v] is slot s's value index when slot s-1 holds value index v."""
    rng = random.Random(4321)
    return tuple(tuple(rng.randrange(VALUES_PER_SLOT) for _ in range(VALUES_PER_SLOT)) for _ in range(SLOTS))


def vocabulary() -> list[str]:
    """Every token of the task, specials first (ids 0..3)."""
    filler, facts, questions = _words()
    return [*SPECIALS, *filler, *(w for slot in facts for w in slot), *questions, "?"]


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


def _document(rng: random.Random, qa: bool, doc_tokens: int, ruled: bool) -> tuple[list[str], list[str], int]:
    filler, facts, _ = _words()
    words = [rng.choice(filler) for _ in range(doc_tokens)]
    index: list[int] = []
    for s in range(SLOTS):
        follows = ruled and s > 0 and rng.random() < RULE_P
        index.append(rule()[s][index[-1]] if follows else rng.randrange(VALUES_PER_SLOT))
    values = [facts[s][i] for s, i in enumerate(index)]
    seg = doc_tokens // SLOTS
    start = 2 if qa else 0  # keep the question's two words clear of facts
    for s, value in enumerate(values):
        lo = max(s * seg, start)
        words[rng.randrange(lo, (s + 1) * seg)] = value
    return words, values, rng.randrange(SLOTS)


def examples(task: str, split: str, n: int, seed: int = 0, doc_tokens: int = DOC_TOKENS) -> list[Example]:
    """n examples of `task` ("synthetic" or "synthetic-qa") for `split`; same arguments, same examples.

    Split "pretrain" is the pre-training corpus, whose facts are independent; the task's splits
    follow its rule. `doc_tokens` shortens documents (denser facts) for pre-training's curriculum."""
    kind = VARIANTS[task]
    rng = random.Random(f"{task}/{split}/{seed}/{doc_tokens}/v{CORPUS_VERSION}")
    _, _, questions = _words()
    out = []
    for i in range(n):
        words, values, slot = _document(rng, kind == "qa", doc_tokens, split != "pretrain")
        if kind == "qa":
            words[:2] = [questions[slot], "?"]
            target = values[slot]
        else:
            target = " ".join(values)
        out.append(Example(source=" ".join(words), target=target, kind=kind, id=f"{split}-{seed}-{i}"))
    return out


def fact_slot(word: str) -> int | None:
    """The slot a fact word fills, or None for any other word (the oracle reader's knowledge)."""
    _, facts, _ = _words()
    return next((s for s, slot in enumerate(facts) if word in slot), None)


def scrolls_rows(task: str, split: str, n: int, seed: int = 0) -> list[dict]:
    """n examples of a synthetic task as SCROLLS jsonl rows (id, pid, input, output).

    Like Qasper, every other QA example has a second reference in a row of its own with the same id
    and input: an answer that restates the question ("q03 BAKA" beside "BAKA").
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
