"""How the cost model's fit time grows with the configurations: 12, 48, 192, 768 and 1,536.

The rows are a CPU sweep's (LED and BigBird-Pegasus, tiny and small, all three phases, prefill and
decode, and accuracy),
replicated with varied input lengths and batches: each copy's measured figures are those the model's
own equations give at its features, times the log-normal noise a shared CPU shows (a neighbour's
burst now and then), so that every fit does the work a real sweep of that size asks for. Each size
is fitted with the default bootstrap (costmodel.fit.N_BOOT), intervals and validation, as fit_model
runs it (on worker processes, one per core, from costmodel.jobs.PARALLEL_ROWS rows), and the time
printed beside its ratio to the size before it, with the CPU time of this process and its workers
(on a machine other jobs share, the wall time also holds their share of the cores).

    python benchmarks/fit_scaling.py [--sizes 12 48 192 768 1536] [--boot 200]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import time
from importlib import resources

import numpy as np

from costmodel.features import features
from costmodel.fit import N_BOOT
from costmodel.predict import fit_model

SIZES = (12, 48, 192, 768, 1536)
# per-phase rates of a 2-core VM (fitted on cpu-demo records): seconds per FLOP, per layer, per token
RATES = {
    "encode": (0.004, 1 / 6e9, 1 / 2e9, 0.0, 2e-5, 3e-8),
    "infer": (0.01, 1 / 6e9, 1 / 2e9, 1 / 1e9, 2e-5, 3e-8),
    "train": (0.02, 1 / 4e9, 1 / 1.5e9, 0.0, 6e-5, 9e-8),
}
POWER_W = 28.0
STEPS = 20


def _cost(row: dict, phase: str) -> float:
    f = features(row, phase)
    t0, dense, attn, dec, layer, token = RATES[phase]
    return (
        t0 + f.f_dense * dense + f.f_attn * attn + f.f_dec * dec + f.layers * layer + f.layer_tokens * token
    )


def rows(configs: int, seed: int = 0) -> list[dict]:
    """`configs` measured configurations, three repetitions of each."""
    archs = json.loads(resources.files("engine").joinpath("data/archs.json").read_text())
    rng = np.random.default_rng(seed)
    pairs = [(f, s) for f in ("led", "bigbird-pegasus") for s in ("tiny", "small")]
    out = []
    for i in range(configs):
        family, size = pairs[i % len(pairs)]
        n, batch = int(rng.integers(128, 2049)), int(rng.integers(1, 9))  # distinct configurations
        base = {
            "key": f"k{i}",
            "family": family,
            "size": size,
            "input_len": n,
            "batch_size": batch,
            "batch_request": batch,
            "task": "synthetic",
            "weights": "random",
            "dtype": "float32",
            "device": "cpu",
            "fingerprint": "fp",
            "budget_kind": "steps",
            "budget_value": STEPS,
            "train_steps": STEPS,
            "gen_tokens": 16,
            "status": "ok",
            **{k: v for k, v in archs[family][size].items() if k != "hub_id"},
        }
        for _ in range(3):
            # a shared CPU: 3% jitter, and one timing in ten disturbed by 30%
            def noisy(x: float) -> float:
                return x * math.exp(rng.normal(0, 0.03) + (0.3 if rng.random() < 0.1 else 0.0))

            enc, gen, train = (_cost(base, p) for p in ("encode", "infer", "train"))
            first = _cost({**base, "gen_tokens": 1}, "infer")
            mem = {
                p: 300 + features(base, p).weight_bytes / 2**20 + features(base, p).act_bytes / 2**20
                for p in ("infer", "train")
            }
            z = 0.5 * (math.log(n) - 6) + 0.4 * (math.log(features(base, "infer").params) - 14)
            out.append(
                {
                    **base,
                    "infer_median_s": noisy(enc),
                    "infer_energy_j": noisy(POWER_W * enc),
                    "infer_gen_median_s": noisy(gen),
                    "infer_gen_energy_j": noisy(POWER_W * gen),
                    "infer_prefill_median_s": noisy(first),
                    "infer_prefill_energy_j": noisy(POWER_W * first),
                    "infer_decode_s_per_token": noisy((gen - first) / 15),
                    "infer_decode_energy_j_per_token": noisy(POWER_W * (gen - first) / 15),
                    "infer_peak_memory_mb": noisy(mem["infer"]),
                    "train_seconds": noisy(train) * STEPS,
                    "train_energy_j": noisy(POWER_W * train) * STEPS,
                    "train_peak_memory_mb": noisy(mem["train"]),
                    "rouge_mean": 0.6 / (1 + math.exp(-z)) + rng.normal(0, 0.01),
                }
            )
    return out


def _cpu() -> float:
    """CPU seconds of this process and of its workers that have ended."""
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + workers.ru_utime + workers.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--boot", type=int, default=N_BOOT, help=f"bootstrap resamples (default {N_BOOT})")
    args = ap.parse_args()
    before = None
    for n in args.sizes:
        data = rows(n)
        t0, c0 = time.perf_counter(), _cpu()
        model = fit_model(data, n_boot=args.boot)
        seconds, cpu = time.perf_counter() - t0, _cpu() - c0
        ratio = (
            "" if before is None else f"  x{seconds / before[1]:.2f} for x{n / before[0]:.0f} configurations"
        )
        print(
            f"{n:5d} configurations ({len(data)} rows, {len(model.fits)} fits): {seconds:7.2f} s "
            f"({cpu:6.2f} s CPU){ratio}",
            flush=True,
        )
        for line in model.problems:
            print("   could not fit:", line)
        before = (n, seconds)


if __name__ == "__main__":
    main()
