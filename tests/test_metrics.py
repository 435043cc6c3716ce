"""Metrics: values against hand-computed examples, and offline loading of the shipped modules."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.metrics import METRICS, PRIMARY_METRIC, geometric_mean, load_metric, score
from engine.metrics.scoring import MODULES_DIR

ROOT = Path(__file__).resolve().parents[1]


def test_rouge_hand_computed() -> None:
    # pred "the cat sat on the mat" (6 tokens), ref "the cat was on the mat" (6 tokens)
    # ROUGE-1: common unigrams the, cat, on, the, mat = 5 -> P = R = 5/6
    # ROUGE-2: pred bigrams the-cat cat-sat sat-on on-the the-mat, ref the-cat cat-was was-on on-the the-mat
    #          common the-cat, on-the, the-mat = 3 of 5 -> P = R = 3/5
    # ROUGE-L: LCS "the cat on the mat" = 5 -> 5/6
    # mean: (5/6 * 3/5 * 5/6) ** (1/3) = (5/12) ** (1/3)
    s = score("summary", ["the cat sat on the mat"], ["the cat was on the mat"])
    assert s["rouge1"] == pytest.approx(5 / 6)
    assert s["rouge2"] == pytest.approx(3 / 5)
    assert s["rougeL"] == pytest.approx(5 / 6)
    assert s["rouge_mean"] == pytest.approx((5 / 12) ** (1 / 3))
    assert set(s) == set(METRICS["summary"])


def test_rouge_lcs_differs_and_lengths_differ() -> None:
    # 1) pred "one two three four five", ref "one two four three five"
    #    R1 = 1; bigrams in common: one-two only, 1 of 4 -> 0.25; LCS 4 of 5 -> 0.8
    # 2) pred "the cat" (2 tokens), ref "the cat sat down" (4 tokens)
    #    R1: P = 2/2, R = 2/4 -> F = 2/3; R2: the-cat, P = 1/1, R = 1/3 -> F = 1/2; RL: LCS 2 -> 2/3
    # scores are averaged over the two examples
    s = score(
        "summary",
        ["one two three four five", "the cat"],
        ["one two four three five", "the cat sat down"],
    )
    assert s["rouge1"] == pytest.approx((1 + 2 / 3) / 2)
    assert s["rouge2"] == pytest.approx((0.25 + 0.5) / 2)
    assert s["rougeL"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert s["rouge_mean"] == pytest.approx((s["rouge1"] * s["rouge2"] * s["rougeL"]) ** (1 / 3))


def test_rouge_uses_stemmer_and_case_folding() -> None:
    # Porter stems (tokens longer than 3 chars): cats -> cat, running -> run, runs -> run
    s = score("summary", ["Cats running"], ["cat runs"])
    assert s["rouge1"] == pytest.approx(1.0)
    assert s["rouge2"] == pytest.approx(1.0)
    # without the stemmer nothing matches: cats != cat, running != runs
    raw = load_metric("rouge").compute(
        predictions=["cats running"], references=["cat runs"], use_stemmer=False
    )
    assert raw["rouge1"] == pytest.approx(0.0)


def test_rouge_no_overlap_gives_zero_mean() -> None:
    s = score("summary", ["alpha beta"], ["gamma delta"])
    assert s == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0, "rouge_mean": 0.0}


def test_qa_f1_and_exact_match_normalisation() -> None:
    predictions = ["The Cat!", "a dog", "Paris, France.", "an apple", "U.S.A.", "blue"]
    references = ["cat", "big dog", "paris   france", "the apple", "usa", "red"]
    # normalised: cat|cat (F1 1, EM 1); dog|big dog (P 1, R 1/2, F1 2/3, EM 0);
    # paris france|paris france (1, 1); apple|apple (1, 1); usa|usa (1, 1); blue|red (0, 0)
    s = score("qa", predictions, references)
    assert set(s) == {"f1", "exact_match"}
    assert s["f1"] == pytest.approx((1 + 2 / 3 + 1 + 1 + 1 + 0) / 6)
    assert s["exact_match"] == pytest.approx(4 / 6)


def test_qa_partial_overlap_counts_repeated_tokens_once_each() -> None:
    # pred "red red car" vs ref "red car car": common = min counts: red 1, car 1 -> 2
    # P = 2/3, R = 2/3 -> F1 = 2/3
    s = score("qa", ["red red car"], ["red car car"])
    assert s["f1"] == pytest.approx(2 / 3)
    assert s["exact_match"] == 0.0


def test_qa_empty_after_normalisation_matches_empty() -> None:
    # "The." and "a" both normalise to "": a match; "" against "x" scores 0
    s = score("qa", ["The.", ""], ["a", "x"])
    assert s["f1"] == pytest.approx(0.5)
    assert s["exact_match"] == pytest.approx(0.5)


def test_geometric_mean() -> None:
    assert geometric_mean([0.5, 0.5, 0.5]) == pytest.approx(0.5)
    assert geometric_mean([0.8, 0.2, 0.5]) == pytest.approx(0.08 ** (1 / 3))
    assert geometric_mean([0.9, 0.0, 0.4]) == 0.0
    assert geometric_mean([1.0, 1.0, 1.0]) == 1.0
    with pytest.raises(ValueError):
        geometric_mean([])
    with pytest.raises(ValueError):
        geometric_mean([0.5, -0.1])


def test_bad_calls() -> None:
    with pytest.raises(ValueError, match="unknown task kind"):
        score("translation", ["a"], ["a"])
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        score("qa", ["a", "b"], ["a"])
    with pytest.raises(ValueError, match="no predictions"):
        score("summary", [], [])
    with pytest.raises(ValueError, match="shipped modules: rouge, squad_f1"):
        load_metric("bleu")


def test_modules_are_cached_and_primary_metrics_exist() -> None:
    assert load_metric("rouge") is load_metric("rouge")
    for kind, primary in PRIMARY_METRIC.items():
        assert primary in METRICS[kind]
    assert sorted(p.name for p in MODULES_DIR.iterdir() if p.is_dir() and not p.name.startswith("_")) == [
        "rouge",
        "squad_f1",
    ]


_OFFLINE_SCRIPT = """
import json, socket, sys, time

def refuse(*args, **kwargs):
    raise OSError("network access attempted")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
t0 = time.perf_counter()
from engine.metrics import load_metric, score
load_metric("rouge"); load_metric("squad_f1")
elapsed = time.perf_counter() - t0
out = {"summary": score("summary", ["a b c"], ["a b c"]), "qa": score("qa", ["x"], ["x"]), "s": elapsed}
print("RESULT " + json.dumps(out))
"""


@pytest.mark.slow
def test_modules_load_offline_in_a_fresh_process(tmp_path: Path) -> None:
    """HF_HUB_OFFLINE, no sockets, an empty HF_HOME: modules load, and only HF_HOME is written."""
    hf_home = tmp_path / "hf"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE"))}
    env.update(
        HF_HOME=str(hf_home),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    out = json.loads(line.removeprefix("RESULT "))
    assert out["summary"]["rouge_mean"] == pytest.approx(1.0)
    assert out["qa"] == {"f1": 1.0, "exact_match": 1.0}
    assert math.isfinite(out["s"])
    assert list(cwd.iterdir()) == []  # nothing written in the working directory
    copied = {p.name for p in (hf_home / "modules" / "evaluate_modules" / "metrics").iterdir() if p.is_dir()}
    assert copied == {"rouge", "squad_f1"}
