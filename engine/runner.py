"""Measure one configuration: build, resolve the batch size, run its phases, return one Record."""

from __future__ import annotations

from collections.abc import Callable

from engine import archs
from engine.config import RunConfig
from engine.record import Failure, PhaseResult, Record, utc_now

PhaseHook = Callable[[str], None]


def failure_kind(exc: BaseException) -> str:
    """ "oom" for out-of-memory of the device or the host, "error" for anything else."""
    if isinstance(exc, MemoryError):
        return "oom"
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return "oom"
    except ImportError:
        pass
    return "oom" if "out of memory" in str(exc).lower() else "error"


def measure(
    config: RunConfig,
    *,
    idle_w: float | None = None,
    fault_rate: float | None = None,
    on_phase: PhaseHook | None = None,
) -> Record:
    """Every phase of `config`, measured for real. A failure is returned as a record, never raised.

    `idle_w` and, on the CPU, `fault_rate` (engine.meters.faults) are the machine's, measured once by
    a sweep's probe; measured here when not given.
    """
    from engine import env as environment
    from engine.encoder_facts import EncoderWatch
    from engine.meters.energy import measure_idle, open_meter
    from engine.meters.faults import fault_s_per_byte
    from engine.meters.memory import heap_mb
    from engine.models import build, inference_dtype, reset_attention, weights_mb
    from engine.phases import evaluate, infer, train
    from engine.phases.batch import resolve_batch_size
    from engine.phases.context import PhaseContext

    notify = on_phase or (lambda phase: None)
    dims = archs.of(config)
    batch = config.batch_size if isinstance(config.batch_size, int) else None
    env: dict = {}
    results: list[PhaseResult] = []
    metrics: dict[str, float] = {}
    scores: dict[str, float] = {}
    phase = "setup"
    meter = watch = None
    try:
        env = environment.describe(config.device, config.threads)
        if config.device == "cpu":
            env["fault_s_per_byte"] = fault_s_per_byte() if fault_rate is None else fault_rate
        meter = open_meter(config.device)
        env["energy_source"] = meter.source
        env["energy_fallbacks"] = meter.fallbacks
        if idle_w is None:
            notify("idle")
            idle_w = measure_idle(meter, 1.0)
        env["idle_power_w"] = idle_w
        phase = "build"
        notify(phase)
        built = build(config)
        dims = built.dims
        watch = EncoderWatch(built.model, config.family)
        base_mb = 0.0 if config.device.startswith("cuda") else heap_mb() - weights_mb(built.model)
        ctx = PhaseContext(config, built.model, built.tokenizer, meter, idle_w, batch, base_mb)
        if config.batch_size == "auto":
            phase = "batch"
            notify(phase)
            ctx.batch_size = batch = resolve_batch_size(ctx)
        runners = {"train": train.run, "infer": infer.run, "eval": evaluate.run}
        for phase in config.phases:
            notify(phase)
            if phase != "train":
                inference_dtype(built.model, config)  # mixed precision trains; half precision infers
            reset_attention(built.model, config.family)
            out = runners[phase](ctx)
            if phase == "eval":
                out, metrics, scores = out
            results.append(out)
        failure = None
    except Exception as exc:  # noqa: BLE001 - every failure becomes a record
        failure = Failure(phase=phase, kind=failure_kind(exc), error=f"{type(exc).__name__}: {exc}".strip())
    finally:
        if meter is not None:
            meter.close()
        if watch is not None:
            watch.close()
    return Record(
        config=config,
        dims=dims,
        **(watch and watch.facts or archs.encoder_plan(config, dims)),
        batch_size=batch,
        phases=tuple(results),
        metrics=metrics,
        example_scores=scores,
        env=env,
        failure=failure,
        created=utc_now(),
    )
