"""The eval phase: accuracy of real greedy generation on held-out examples, scored as SCROLLS does.

The examples are one per unique id with all its references, the same for every configuration of a
sweep (tasks.eval_examples); each prediction scores its best over its references. SCROLLS tasks are
scored with SCROLLS' settings (ROUGE without stemming); `score` is the task's primary metric.
"""

from __future__ import annotations

from engine import tasks
from engine.meters.energy import energy_record
from engine.meters.memory import PeakMemory
from engine.metrics.scoring import example_scores, score
from engine.models import attention_type, reset_attention
from engine.phases.context import PhaseContext, metered
from engine.record import PhaseResult


def generate(ctx: PhaseContext, examples) -> list[str]:
    """Greedy generation for examples, in batches, inputs truncated or padded exactly as in training."""
    import torch

    c = ctx.config
    out: list[str] = []
    with torch.inference_mode():
        for i in range(0, len(examples), ctx.batch_size):
            chunk = examples[i : i + ctx.batch_size]
            batch = ctx.encode(chunk, with_labels=False)
            ids = ctx.model.generate(**batch, max_new_tokens=c.gen_tokens, do_sample=False, num_beams=1)
            out.extend(ctx.tokenizer.batch_decode(ids, skip_special_tokens=True))
    return out


def run(ctx: PhaseContext) -> tuple[PhaseResult, dict[str, float], dict[str, float]]:
    """The eval phase's result, its metrics, and each example's primary score by example id."""
    c = ctx.config
    ctx.model.eval()
    examples = tasks.eval_examples(c.task, c.eval_samples, c.seed + 1, c.data_path)
    with PeakMemory(c.device) as mem:
        reset_attention(ctx.model, c.family)
        predictions, joules, seconds = metered(ctx, lambda: generate(ctx, examples))
    references = [e.all_references for e in examples]
    stemmer = c.task.startswith("synthetic")
    metrics = score(tasks.kind(c.task), predictions, references, stemmer=stemmer)
    primary = tasks.primary_metric(c.task)
    per_example = example_scores(tasks.kind(c.task), primary, predictions, references, stemmer=stemmer)
    metrics["score"] = metrics[primary]
    result = PhaseResult(
        phase="eval",
        seconds=seconds,
        energy=energy_record(joules, seconds, ctx.meter.source, ctx.idle_w),
        peak_memory_mb=mem.peak_mb,
        attention_type=attention_type(ctx.model, c.family),
        figures={
            "samples": len(examples),
            "examples": len({e.id for e in examples}),
            "references": sum(len(e.all_references) for e in examples),
            **metrics,
        },
    )
    return result, metrics, {e.id: s for e, s in zip(examples, per_example, strict=True)}
