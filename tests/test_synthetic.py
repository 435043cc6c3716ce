"""The synthetic task: deterministic by seed, a longer prefix carries more of the answer, and a reader
that knows more of the key-value table recalls more of it."""

from __future__ import annotations

import pytest

from collections import Counter

from engine.metrics.scoring import score
from engine.tasks import synthetic


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_same_seed_same_examples_other_seed_other_examples(task):
    a = synthetic.examples(task, "train", 4, seed=7)
    assert a == synthetic.examples(task, "train", 4, seed=7)
    assert a != synthetic.examples(task, "train", 4, seed=8)
    assert a != synthetic.examples(task, "validation", 4, seed=7)


def test_documents_hold_one_key_per_slot_in_its_segment_and_the_target_recalls_its_value():
    seg = synthetic.DOC_TOKENS // synthetic.SLOTS
    for ex in synthetic.examples("synthetic", "train", 5):
        words = ex.source.split()
        assert len(words) == synthetic.DOC_TOKENS
        slots = [(i, synthetic.fact_slot(w)) for i, w in enumerate(words)]
        keys = [(i, s) for i, s in slots if s is not None]
        assert [s for _, s in keys] == list(range(synthetic.SLOTS))
        assert all(s * seg <= i < (s + 1) * seg for i, s in keys)
        facts = [(words[i], synthetic.value_of(words[i])) for i, _ in keys]
        assert ex.target.split() == [w for fact in facts for w in fact]
        assert not {v for _, v in facts} & set(words), "no document states a value"


def test_each_value_stands_for_keys_of_mixed_frequency():
    keys = [w for w in synthetic.vocabulary() if synthetic.fact_slot(w) == 0]
    assert len(keys) == synthetic.KEYS_PER_SLOT
    per_value = Counter(synthetic.value_of(k) for k in keys)
    assert len(per_value) == synthetic.VALUES_PER_SLOT
    assert set(per_value.values()) == {synthetic.KEYS_PER_SLOT // synthetic.VALUES_PER_SLOT}
    drawn = Counter(e.target.split()[0] for e in synthetic.examples("synthetic", "train", 3000))
    assert drawn[keys[0]] > 10 * drawn[keys[-1]] > 0  # a few keys common, a long tail of rare ones


def test_tokenizer_is_word_level_and_appends_eos():
    tok = synthetic.build_tokenizer()
    ex = synthetic.examples("synthetic", "train", 1)[0]
    ids = tok(ex.source)["input_ids"]
    assert len(ids) == synthetic.DOC_TOKENS + 1 and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == ex.source


def oracle(ex, prefix: int, known: set[str] | None = None) -> str:
    """A reader that answers from exactly what it reads: the keys in the first `prefix` words, each with
    its value where it knows the key's (every key's, or those in `known`), else a guess: the value of
    its slot's commonest key."""
    words = ex.source.split()[:prefix]
    found = {synthetic.fact_slot(w): w for w in words if synthetic.fact_slot(w) is not None}
    commonest = {}
    for w in synthetic.vocabulary():  # a slot's keys are listed commonest first
        commonest.setdefault(synthetic.fact_slot(w), w)

    def fact(key: str) -> str:
        recalled = key if known is None or key in known else commonest[synthetic.fact_slot(key)]
        return f"{key} {synthetic.value_of(recalled)}"

    if ex.kind == "qa":
        slot = int(words[0][1:])
        return fact(found[slot]) if slot in found else ""
    return " ".join(fact(found[s]) for s in sorted(found))


def accuracy(task: str, examples, prefix: int, known: set[str] | None = None) -> float:
    metric = "rouge1" if task == "synthetic" else "f1"
    preds = [oracle(e, prefix, known) for e in examples]
    return score(examples[0].kind, preds, [e.target for e in examples])[metric]


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_oracle_accuracy_rises_with_the_prefix_it_reads(task):
    examples = synthetic.examples(task, "validation", 48)
    scores = [accuracy(task, examples, prefix) for prefix in (64, 128, 256, 384, 512)]
    assert scores == sorted(scores)
    assert scores[-1] == pytest.approx(1.0)
    assert scores[0] < 0.5 < scores[-1]


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_a_reader_that_knows_less_of_the_table_scores_less_at_every_length(task):
    """Knowing only the commonest keys' values (what a small model learns first) costs accuracy."""
    train = Counter(k for e in synthetic.examples("synthetic", "train", 2000) for k in e.target.split()[0::2])
    common = {k for k, _ in train.most_common(len(train) // 4)}
    examples = synthetic.examples(task, "validation", 48)
    for prefix in (128, 256, 512):
        full, partial = accuracy(task, examples, prefix), accuracy(task, examples, prefix, common)
        assert partial < full
    assert accuracy(task, examples, 512, common) < 0.95  # the full input read, the rare values missed
