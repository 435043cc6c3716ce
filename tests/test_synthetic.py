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
