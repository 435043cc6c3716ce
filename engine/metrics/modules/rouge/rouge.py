"""ROUGE-1/2/L F-measures with the rouge_score package, as SCROLLS scores them.

Shipped with tradeoff-tui and loaded offline with ``evaluate.load(<this directory>)``.
Each prediction is scored against its reference, or against each of its references taking the
best F-measure of each ROUGE type (as SCROLLS does for inputs repeated once per reference), with
the rouge_score tokenizer (lower case, non-alphanumerics dropped) and, unless ``use_stemmer`` is
False (SCROLLS' own setting), Porter stemming; the F-measures are averaged over examples and
returned as fractions in [0, 1].
"""

import datasets
import evaluate
from rouge_score import rouge_scorer

_DESCRIPTION = "ROUGE-N and ROUGE-L F-measures (rouge_score, Porter stemmer), averaged over examples."
_CITATION = """\
@inproceedings{lin-2004-rouge,
  title = {{ROUGE}: A Package for Automatic Evaluation of Summaries},
  author = {Lin, Chin-Yew},
  booktitle = {Text Summarization Branches Out},
  year = {2004},
}
"""
_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated texts.
    references: list of reference texts, or of lists of reference texts, one per prediction.
    rouge_types: ROUGE types to compute (default rouge1, rouge2, rougeL).
    use_stemmer: apply the Porter stemmer (default True; SCROLLS scores without it).
Returns:
    dict mapping each ROUGE type to its mean F-measure in [0, 1].
"""

DEFAULT_TYPES = ("rouge1", "rouge2", "rougeL")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Rouge(evaluate.Metric):
    """Mean ROUGE F-measures over (prediction, references) pairs."""

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
            reference_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions, references, rouge_types=DEFAULT_TYPES, use_stemmer=True):
        scorer = rouge_scorer.RougeScorer(list(rouge_types), use_stemmer=use_stemmer)
        totals = dict.fromkeys(rouge_types, 0.0)
        for prediction, reference in zip(predictions, references, strict=True):
            refs = [reference] if isinstance(reference, str) else list(reference)
            scores = scorer.score_multi(refs, prediction)  # the best reference for each type
            for rouge_type in rouge_types:
                totals[rouge_type] += scores[rouge_type].fmeasure
        n = max(len(predictions), 1)
        return {rouge_type: total / n for rouge_type, total in totals.items()}
