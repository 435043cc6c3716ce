"""The engine's inference latency against a bare torch loop, on the same model and input, in one run.

Prints the median over five rounds of engine / bare latency (target <= 1.03 on a CPU) and the
coefficient of variation of the five engine measurements (target <= 3%). Engine and bare
measurements alternate, and each ratio pairs two adjacent ones, so drift in the machine's speed
falls on both sides of it; the coefficient of variation has no such shield.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from engine.config import RunConfig
from engine.meters.energy import open_meter
from engine.models import build
from engine.phases import infer
from engine.phases.context import PhaseContext
from engine.tasks import load


def bare(fn, seconds: float) -> float:
    """Median seconds per call of a plain perf_counter loop over at least `seconds`."""
    times = []
    start = prev = time.perf_counter()
    while prev - start < seconds or len(times) < 5:
        fn()
        now = time.perf_counter()
        times.append(now - prev)
        prev = now
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--family", default="led")
    ap.add_argument("--size", default="small")
    ap.add_argument("--input-len", type=int, default=512)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--window", type=float, default=2.0, help="seconds per measurement")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = RunConfig(
        args.family,
        args.size,
        args.input_len,
        batch_size=args.batch,
        repetitions=5,
        min_window_s=args.window,
        warmup=3,
        gen_tokens=4,
        phases=("infer",),
    )
    built = build(config)
    model = built.model.eval()
    meter = open_meter(config.device)
    ctx = PhaseContext(config, model, built.tokenizer, meter, idle_w=0.0, batch_size=args.batch)
    batch = ctx.encode(load(config.task, "validation", args.batch), with_labels=False)
    encoder = model.get_encoder()

    def forward():
        return encoder(**batch)

    engine_runs, bare_runs = [], []
    with torch.inference_mode():
        infer.run(ctx)  # one untimed round: lazy initialisation of generation and the allocator
        for _ in range(5):
            engine_runs.append(infer.run(ctx).timing.median_s)
            with torch.inference_mode():
                bare_runs.append(bare(forward, args.window))
    meter.close()
    ratio = statistics.median(e / b for e, b in zip(engine_runs, bare_runs, strict=True))  # adjacent pairs
    cv = statistics.stdev(engine_runs) / statistics.mean(engine_runs)
    print(
        f"model: {config.family}-{config.size}, input {args.input_len} tokens, batch {args.batch}, "
        f"threads {torch.get_num_threads()}, {args.window:g} s windows"
    )
    print("engine median s: " + " ".join(f"{t:.5f}" for t in engine_runs))
    print("bare   median s: " + " ".join(f"{t:.5f}" for t in bare_runs))
    print(f"ratio: {ratio:.3f}")
    print(f"cv: {100 * cv:.1f}%")


if __name__ == "__main__":
    main()
