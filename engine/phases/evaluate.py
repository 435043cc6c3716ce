"""The eval phase: accuracy of real greedy generation on held-out examples."""

from __future__ import annotations

from engine import tasks
from engine.meters.energy import energy_record
from engine.meters.memory import PeakMemory
from engine.metrics.scoring import score
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


def run(ctx: PhaseContext) -> tuple[PhaseResult, dict[str, float]]:
    c = ctx.config
    ctx.model.eval()
    examples = tasks.load(c.task, "validation", c.eval_samples, seed=c.seed + 1)
    with PeakMemory(c.device) as mem:
        reset_attention(ctx.model, c.family)
        predictions, joules, seconds = metered(ctx, lambda: generate(ctx, examples))
    metrics = score(tasks.kind(c.task), predictions, [e.target for e in examples])
    result = PhaseResult(
        phase="eval",
        seconds=seconds,
        energy=energy_record(joules, seconds, ctx.meter.source, ctx.idle_w),
        peak_memory_mb=mem.peak_mb,
        attention_type=attention_type(ctx.model, c.family),
        figures={"samples": len(examples), **metrics},
    )
    return result, metrics
