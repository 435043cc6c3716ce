"""The synthetic task: deterministic by seed, and a longer prefix carries more of the answer."""

from __future__ import annotations

import pytest

from engine.metrics.scoring import score
from engine.tasks import synthetic


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_same_seed_same_examples_other_seed_other_examples(task):
    a = synthetic.examples(task, "train", 4, seed=7)
    assert a == synthetic.examples(task, "train", 4, seed=7)
    assert a != synthetic.examples(task, "train", 4, seed=8)
    assert a != synthetic.examples(task, "validation", 4, seed=7)


def test_documents_hold_one_fact_per_slot_in_its_segment():
    seg = synthetic.DOC_TOKENS // synthetic.SLOTS
    for ex in synthetic.examples("synthetic", "train", 5):
        words = ex.source.split()
        assert len(words) == synthetic.DOC_TOKENS
        slots = [(i, synthetic.fact_slot(w)) for i, w in enumerate(words)]
        facts = [(i, s) for i, s in slots if s is not None]
        assert [s for _, s in facts] == list(range(synthetic.SLOTS))
        assert all(s * seg <= i < (s + 1) * seg for i, s in facts)
        assert ex.target.split() == [words[i] for i, _ in facts]


def test_tokenizer_is_word_level_and_appends_eos():
    tok = synthetic.build_tokenizer()
    ex = synthetic.examples("synthetic", "train", 1)[0]
    ids = tok(ex.source)["input_ids"]
    assert len(ids) == synthetic.DOC_TOKENS + 1 and ids[-1] == tok.eos_token_id
    assert tok.unk_token_id not in ids
    assert tok.decode(ids, skip_special_tokens=True) == ex.source


def oracle(ex, prefix: int) -> str:
    """A reader that answers from exactly what it reads: the facts in the first `prefix` words."""
    words = ex.source.split()[:prefix]
    found = {synthetic.fact_slot(w): w for w in words if synthetic.fact_slot(w) is not None}
    if ex.kind == "qa":
        slot = int(words[0][1:])
        return found.get(slot, "")
    return " ".join(found[s] for s in sorted(found))


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_oracle_accuracy_rises_with_the_prefix_it_reads(task):
    examples = synthetic.examples(task, "validation", 48)
    metric = "rouge1" if task == "synthetic" else "f1"
    scores = []
    for prefix in (64, 128, 256, 384, 512):
        preds = [oracle(e, prefix) for e in examples]
        scores.append(score(examples[0].kind, preds, [e.target for e in examples])[metric])
    assert scores == sorted(scores)
    assert scores[-1] == pytest.approx(1.0)
    assert scores[0] < 0.5 < scores[-1]


def _value_indices(words: list[str]) -> dict[int, int]:
    """Slot -> value index of each fact word among `words`."""
    _, facts, _ = synthetic._words()
    return {s: facts[s].index(w) for w in words if (s := synthetic.fact_slot(w)) is not None}


def _follows_rule(task: str, split: str) -> float:
    """The share of slots after the first whose value is the rule's, given the slot before."""
    hits = total = 0
    for ex in synthetic.examples(task, split, 200):
        index = _value_indices(ex.source.split())
        hits += sum(index[s] == synthetic.rule()[s][index[s - 1]] for s in range(1, synthetic.SLOTS))
        total += synthetic.SLOTS - 1
    return hits / total


@pytest.mark.parametrize("task", ["synthetic", "synthetic-qa"])
def test_the_tasks_splits_follow_the_rule_and_the_pretraining_corpus_does_not(task):
    chance = 1 / synthetic.VALUES_PER_SLOT
    expected = synthetic.RULE_P + (1 - synthetic.RULE_P) * chance
    for split in ("train", "validation"):
        assert _follows_rule(task, split) == pytest.approx(expected, abs=0.03)
    assert _follows_rule(task, "pretrain") == pytest.approx(chance, abs=0.03)


def test_the_pretraining_corpus_is_the_one_the_checkpoints_are_keyed_by():
    """Changing the corpus without bumping CORPUS_VERSION would reuse checkpoints made from another."""
    import hashlib

    text = "".join(
        e.source + e.target
        for task in ("synthetic", "synthetic-qa")
        for e in synthetic.examples(task, "pretrain", 8, seed=3, doc_tokens=128)
    )
    assert synthetic.CORPUS_VERSION == 1
    assert hashlib.sha256(text.encode()).hexdigest()[:16] == "8f9d319a3c573eab"


def test_a_reader_that_knows_the_rule_infers_facts_beyond_its_prefix():
    examples = synthetic.examples("synthetic", "validation", 48)
    _, facts, _ = synthetic._words()

    def inferred(ex, prefix: int) -> str:
        seen = _value_indices(ex.source.split()[:prefix])
        index = []
        for s in range(synthetic.SLOTS):
            index.append(seen[s] if s in seen else synthetic.rule()[s][index[-1]])
        return " ".join(facts[s][i] for s, i in enumerate(index))

    def accuracy(predict) -> float:
        preds = [predict(e) for e in examples]
        return score("summary", preds, [e.target for e in examples])["rouge1"]

    plain, knowing = accuracy(lambda e: oracle(e, 128)), accuracy(lambda e: inferred(e, 128))
    assert knowing > plain + 0.2
    assert accuracy(lambda e: inferred(e, 512)) == pytest.approx(1.0)
