"""The infer phase: encoder forward latency, and generation latency and throughput, at the input length."""

from __future__ import annotations

import time

from engine import tasks
from engine.meters.energy import energy_record
from engine.meters.memory import PeakMemory
from engine.meters.timing import measure_energy
from engine.models import attention_type, reset_attention
from engine.phases.context import PhaseContext
from engine.record import PhaseResult


def run(ctx: PhaseContext) -> PhaseResult:
    import torch

    c = ctx.config
    model = ctx.model
    model.eval()
    examples = tasks.load(c.task, "validation", ctx.batch_size, seed=c.seed, local_path=c.data_path)
    batch = ctx.encode(examples, with_labels=False)
    encoder = model.get_encoder()
    gen_kwargs = dict(max_new_tokens=c.gen_tokens, min_new_tokens=c.gen_tokens, do_sample=False, num_beams=1)
    window = dict(warmup=c.warmup, min_reps=c.repetitions, min_window_s=c.min_window_s, sync=ctx.sync_fn)
    t0 = time.perf_counter()
    with torch.inference_mode(), PeakMemory(c.device) as mem:
        reset_attention(model, c.family)
        enc_timing, _, enc_j, enc_s = measure_energy(lambda: encoder(**batch), ctx.meter, **window)
        gen_timing, _, gen_j, gen_s = measure_energy(
            lambda: model.generate(**batch, **gen_kwargs), ctx.meter, **window
        )
    b, n_tok = ctx.batch_size, c.gen_tokens
    per_batch = energy_record(
        enc_j / enc_timing.repetitions, enc_s / enc_timing.repetitions, ctx.meter.source, ctx.idle_w
    )
    gen_energy = energy_record(
        gen_j / gen_timing.repetitions, gen_s / gen_timing.repetitions, ctx.meter.source, ctx.idle_w
    )
    return PhaseResult(
        phase="infer",
        seconds=time.perf_counter() - t0,
        timing=enc_timing,
        energy=per_batch,
        peak_memory_mb=mem.peak_mb,
        attention_type=attention_type(model, c.family),
        figures={
            "s_per_sample": enc_timing.median_s / b,
            "samples_per_s": b / enc_timing.median_s,
            "energy_j_per_sample": per_batch.joules / b,
            "gen_median_s": gen_timing.median_s,
            "gen_p10_s": gen_timing.p10_s,
            "gen_p90_s": gen_timing.p90_s,
            "gen_std_s": gen_timing.std_s,
            "gen_repetitions": gen_timing.repetitions,
            "gen_s_per_sample": gen_timing.median_s / b,
            "gen_s_per_token": gen_timing.median_s / n_tok,
            "gen_tokens_per_s": b * n_tok / gen_timing.median_s,
            "gen_energy_j": gen_energy.joules,
            "gen_energy_above_idle_j": gen_energy.above_idle_j,
            "gen_energy_j_per_token": gen_energy.joules / (b * n_tok),
        },
    )
