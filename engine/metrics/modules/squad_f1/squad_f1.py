"""SQuAD-style token F1 and exact match, as SCROLLS scores Qasper and QuALITY.

Shipped with tradeoff-tui and loaded offline with ``evaluate.load(<this directory>)``.
Both texts are normalised (lower case, punctuation removed, the articles a/an/the removed,
whitespace collapsed); F1 is the harmonic mean of token precision and recall over the
bag of normalised tokens. Scores are averaged over examples and returned in [0, 1].
Two texts that are both empty after normalisation score 1 on both metrics.
"""

import re
import string
from collections import Counter

import datasets
import evaluate

_DESCRIPTION = "SQuAD-style normalised token F1 and exact match, averaged over examples."
_CITATION = """\
@inproceedings{rajpurkar-etal-2016-squad,
  title = {{SQ}u{AD}: 100,000+ Questions for Machine Comprehension of Text},
  author = {Rajpurkar, Pranav and Zhang, Jian and Lopyrev, Konstantin and Liang, Percy},
  booktitle = {EMNLP},
  year = {2016},
}
"""
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of predicted answers.
    references: list of reference answers, or of lists of them, one per prediction; a prediction
        scores its best over its references (SQuAD's and SCROLLS' max over ground truths).
Returns:
    f1: mean token F1 in [0, 1].
    exact_match: share of predictions equal to their reference after normalisation.
"""

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation and articles, collapse whitespace (the SQuAD recipe)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: str, reference: str) -> float:
    """Token-level F1 between two normalised texts."""
    pred_tokens = normalize_answer(prediction).split()
    ref_tokens = normalize_answer(reference).split()
    if not pred_tokens or not ref_tokens:
        return float(pred_tokens == ref_tokens)
    same = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SquadF1(evaluate.Metric):
    """Mean token F1 and exact match over (prediction, reference) pairs."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features(
                    {
                        "predictions": datasets.Value("string"),
                        "references": datasets.Sequence(datasets.Value("string")),
                    }
                ),
                datasets.Features(
                    {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
                ),
            ],
            reference_urls=["https://rajpurkar.github.io/SQuAD-explorer/"],
        )

    def _compute(self, predictions, references):
        pairs = [
            (p, [r] if isinstance(r, str) else list(r)) for p, r in zip(predictions, references, strict=True)
        ]
        n = max(len(pairs), 1)
        f1 = sum(max(token_f1(p, r) for r in refs) for p, refs in pairs) / n
        exact = sum(max(normalize_answer(p) == normalize_answer(r) for r in refs) for p, refs in pairs) / n
        return {"f1": f1, "exact_match": exact}
