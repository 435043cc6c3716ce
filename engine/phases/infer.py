"""The infer phase: encoder forward latency, prefill (time to first token), per-token decode and
generation latency, throughput and energy, at the input length."""

from __future__ import annotations

import statistics
import time

from engine import tasks
from engine.meters.energy import energy_record
from engine.meters.memory import PeakMemory
from engine.meters.timing import measure_energy
from engine.models import attention_type, reset_attention
from engine.phases.context import PhaseContext
from engine.record import Energy, PhaseResult


class _StepClock:
    """A logits processor that notes when each generated token's logits are ready (the device synced)."""

    def __init__(self, times: list[float], sync) -> None:
        self.times, self.sync = times, sync

    def __call__(self, input_ids, scores):
        if self.sync is not None:
            self.sync()
        self.times.append(time.perf_counter())
        return scores


def run(ctx: PhaseContext) -> PhaseResult:
    """Encoder forward, prefill (generating one token: the encoder and the first decoding step, the
    time to first token) and generation of gen_tokens tokens, each timed and metered in its own window.

    The decode step is timed inside each generate(N) call, from the first token's logits to the
    last's, per token after the first (_StepClock); its energy is the two generations' difference per
    token after the first (optimum-benchmark's split of prefill and decode). With gen_tokens 1 there
    is no decode step to measure.
    """
    import torch
    from transformers import LogitsProcessorList

    c = ctx.config
    model = ctx.model
    model.eval()
    examples = tasks.load(c.task, "validation", ctx.batch_size, seed=c.seed, local_path=c.data_path)
    batch = ctx.encode(examples, with_labels=False)
    encoder = model.get_encoder()
    window = dict(warmup=c.warmup, min_reps=c.repetitions, min_window_s=c.min_window_s, sync=ctx.sync_fn)

    steps: list[list[float]] = []  # per generate(N) call, when each token's logits were ready

    def generate(tokens: int, timed: bool = False):
        kwargs = dict(max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False, num_beams=1)
        if not timed:
            return lambda: model.generate(**batch, **kwargs)

        def call():
            steps.append([])
            processors = LogitsProcessorList([_StepClock(steps[-1], ctx.sync_fn)])
            return model.generate(**batch, **kwargs, logits_processor=processors)

        return call

    def per_call(joules: float, seconds: float, timing) -> Energy:
        n = timing.repetitions
        return energy_record(joules / n, seconds / n, ctx.meter.source, ctx.idle_w)

    t0 = time.perf_counter()
    with torch.inference_mode(), PeakMemory(c.device) as mem:
        reset_attention(model, c.family)
        enc_timing, _, enc_j, enc_s = measure_energy(lambda: encoder(**batch), ctx.meter, **window)
        pre_timing, _, pre_j, pre_s = measure_energy(generate(1), ctx.meter, **window)
        gen_timing, _, gen_j, gen_s = measure_energy(generate(c.gen_tokens, timed=True), ctx.meter, **window)
    b, n_tok = ctx.batch_size, c.gen_tokens
    per_batch = per_call(enc_j, enc_s, enc_timing)
    prefill = per_call(pre_j, pre_s, pre_timing)
    gen_energy = per_call(gen_j, gen_s, gen_timing)
    figures = {
        "s_per_sample": enc_timing.median_s / b,
        "samples_per_s": b / enc_timing.median_s,
        "energy_j_per_sample": per_batch.joules / b,
        "prefill_median_s": pre_timing.median_s,  # time to first token
        "prefill_p10_s": pre_timing.p10_s,
        "prefill_p90_s": pre_timing.p90_s,
        "prefill_energy_j": prefill.joules,
        "prefill_energy_above_idle_j": prefill.above_idle_j,
        "gen_median_s": gen_timing.median_s,
        "gen_p10_s": gen_timing.p10_s,
        "gen_p90_s": gen_timing.p90_s,
        "gen_std_s": gen_timing.std_s,
        "gen_repetitions": gen_timing.repetitions,
        "gen_s_per_sample": gen_timing.median_s / b,
        "gen_tokens_per_s": b * n_tok / gen_timing.median_s,
        "gen_energy_j": gen_energy.joules,
        "gen_energy_above_idle_j": gen_energy.above_idle_j,
    }
    if n_tok > 1:
        step_s = statistics.median((t[-1] - t[0]) / (len(t) - 1) for t in steps if len(t) > 1)
        step_j = max(gen_energy.joules - prefill.joules, 0.0) / (n_tok - 1)
        figures |= {
            "decode_s_per_token": step_s,  # one decoding step of the batch
            "decode_tokens_per_s": b / step_s if step_s > 0 else 0.0,
            "decode_energy_j_per_token": step_j,
        }
    return PhaseResult(
        phase="infer",
        seconds=time.perf_counter() - t0,
        timing=enc_timing,
        energy=per_batch,
        peak_memory_mb=mem.peak_mb,
        attention_type=attention_type(model, c.family),
        figures=figures,
    )
