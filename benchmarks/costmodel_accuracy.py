"""How well the cost model predicts configurations it did not see, on a grid measured once on this CPU.

With --preset FILE [FILE ...], each grid is that preset's (any grid, sizes it defines included), and
the figures are those of reaching out: fitted on all but the longest input length, the median error
(and its signed median: a bias a missing term would show) and the share inside the 90% interval at
the longest, per quantity (accuracy in its own units), and leave-one-size-out, every size (a preset's
own too) left out in turn; each beside its aim (AIMS). Where the preset measures in several passes,
the repeat-to-repeat spread of the same configurations is printed too: an error within it is noise.
The shipped grids the project did not tune on: benchmarks/untuned.toml and benchmarks/untuned2.toml.

    python benchmarks/costmodel_accuracy.py --preset benchmarks/untuned.toml benchmarks/untuned2.toml

--points prints each configuration's signed error at the longest length, by family and size, with
the attention its encoder ran.

Without it:

Measures (or reuses, with --db) a grid of 50 CPU configurations: LED and BigBird-Pegasus tiny and
small at eight input lengths from 128 to 4096 tokens (batch 2) and at 256 and 768 tokens with
batches 1 and 4, and LED base at 1024 and 2048 tokens; inference phase, random weights. It
measures in one torch thread (--threads) and --passes interleaved passes, each configuration's
record being the median of its passes (engine.passes). Both keep a shared machine's noise out of
the figures: on a 2-vCPU VM the passes of a two-thread measurement disagreed by a median 48%,
those of a one-thread one by 10-18% (the OpenMP workers wait on each other whenever the host takes
one of the two vCPUs). About 25 minutes on that VM.

Then it fits the model and prints how far the passes disagreed (noise no model can beat),
leave-one-config-out median error for latency (target <= 5%) and energy (<= 7%),
leave-one-size-out error (<= 12%), interval coverage (80-97%), and, fitting on 30% of the grid
chosen by the --sample sampler, the median error of latency and energy on the other 70% (<= 8%).
Which 30% the sampler picks moves that last figure by several points (single seeds 4-12% on one
sweep), so it is the median over --seeds sampler seeds (10: with 5, the median itself moved by
2-4 points between versions that changed only the sampler's path), each seed's figure printed with
its interval coverage.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from costmodel.predict import fit_model, held_out_errors
from costmodel.quantities import BY_NAME
from costmodel.quantities import QUANTITIES as ALL_QUANTITIES
from costmodel.sample import parse_sample, sample_configs
from engine import sweep
from engine.config import Budget, RunConfig
from engine.preset import load_preset
from engine.rows import grid_rows
from engine.store import Store

QUANTITIES = ("infer_latency", "infer_energy", "gen_latency", "gen_energy")
# issue 15's aims on a CPU, reaching out (median error, %): fitted on all but the longest length, and
# leave-one-size-out; and the least share of held-out points inside their 90% intervals
AIMS = {"infer_latency": 10.0, "train_latency": 10.0, "gen_latency": 15.0}
LOSO_AIM = 12.0
COVERAGE_AIM = 0.80


def grid(passes: int = 1, threads: int = 1) -> list[RunConfig]:
    """Tiny and small of both families at eight lengths (batch 2) and two more batch sizes; LED base."""
    common = dict(
        batch_size=2,
        phases=("infer",),
        repetitions=5,
        min_window_s=0.5,
        warmup=2,
        gen_tokens=8,
        budget=Budget("steps", 1),
        passes=passes,
        threads=threads,
    )
    pairs = [(family, size) for family in ("led", "bigbird-pegasus") for size in ("tiny", "small")]
    lengths = (128, 256, 384, 512, 768, 1024, 2048, 4096)
    small = [RunConfig(f, s, n, **common) for f, s in pairs for n in lengths]
    batches = [
        RunConfig(f, s, n, **{**common, "batch_size": b})
        for f, s in pairs
        for n in (256, 768)
        for b in (1, 4)
    ]
    base = {**common, "repetitions": 2, "warmup": 1}  # seconds per call: few repetitions suffice
    return small + batches + [RunConfig("led", "base", n, **base) for n in (1024, 2048)]


def sampled_error(rows: list[dict], configs: list[RunConfig], sample: str, seed: int) -> tuple:
    """Fit on the --sample share the sampler picks with `seed`; predict the rest of the measured grid.

    Returns (configurations fitted on, predicted, flagged extrapolated, median absolute percentage
    error of latency and energy, share of measured values inside their 90% interval).
    """
    by_key = {r["key"]: r for r in rows}
    all_grid = grid_rows([c for c in configs if c.key() in by_key])
    count = parse_sample(sample, len(rows))
    sampled = sample_configs(all_grid, count, lambda chosen: [by_key[g["key"]] for g in chosen], seed=seed)
    chosen = {r["key"] for r in sampled}
    rest = [r for r in rows if r["key"] not in chosen]
    errs, inside, flagged = [], [], 0
    for p in fit_model(sampled, quantities=QUANTITIES, seed=seed).predict([{**r} for r in rest]):
        flagged += p.extrapolated
        truth = by_key[p.row["key"]]
        for q in ("infer_latency", "infer_energy"):
            est, column = p.get(q), BY_NAME[q].column
            if est is not None:
                errs.append(100 * abs(est.value - truth[column]) / truth[column])
                inside.append(est.low <= truth[column] <= est.high)
    return len(sampled), len(rest), flagged, statistics.median(errs), statistics.mean(inside)


def _aim(value: float, aim: float | None) -> str:
    """Whether a median error meets its aim (nothing where it has none)."""
    if aim is None:
        return ""
    return " [aim met]" if value <= aim else f" [aim {aim:g}%: missed by {value - aim:.1f} points]"


def _covered(share: float | None) -> str:
    return (
        "" if share is None or share >= COVERAGE_AIM else f" [coverage aim {100 * COVERAGE_AIM:.0f}%: missed]"
    )


def _points(predictions) -> None:
    """Each point at the longest length, per aimed quantity: the signed error of its prediction, and
    whether its interval holds the measurement; by family and size (a bias shared by all: a missing term)."""
    for q in AIMS:
        cells = []
        for p in sorted(predictions, key=lambda p: (p.row["family"], p.row["size"])):
            e = p.get(q)
            if e is not None and e.measured:
                label = f"{p.row['family'][:4]}-{p.row['size']} {p.row.get('attention', '')}"
                inside = "in" if e.low <= e.measured <= e.high else "OUT"
                cells.append(f"{label} {100 * (e.value - e.measured) / e.measured:+.0f}% {inside}")
        print(f"  {q:14} " + "; ".join(cells))


def reach(rows: list[dict], points: bool = False) -> None:
    """Fit on all but the longest input length and predict it; leave each size out; print both (with
    `points`, each point at the longest length too), and the spread of the passes where the rows hold
    several."""
    longest = max(r["input_len"] for r in rows)
    fit_on = [r for r in rows if r["input_len"] < longest]
    held = [r for r in rows if r["input_len"] == longest]
    predictions = fit_model(fit_on).predict([dict(r) for r in held], held)
    full = fit_model(rows)
    lengths = sorted({r["input_len"] for r in fit_on})
    print(f"fitted on input lengths {lengths}, predicting {longest} ({len(held)} configurations)")
    for q in ALL_QUANTITIES:
        h = held_out_errors(predictions, q)
        loso = next((f.validation.loso for f in full.fits if f.quantity == q and f.validation.loso), None)
        unit = "" if q == "accuracy" else "%"
        signed = [
            100 * (e.value - e.measured) / e.measured if unit else e.value - e.measured
            for p in predictions
            if (e := p.get(q)) is not None and e.measured is not None and (e.measured or not unit)
        ]
        parts = [
            f"longest: median {h.median:6.2f}{unit} (signed {statistics.median(signed):+6.2f}), "
            f"{100 * h.coverage:3.0f}% inside" + _aim(h.median, AIMS.get(q)) + _covered(h.coverage)
            if h
            else "longest: n/a",
            f"leave-one-size-out: median {loso.median:6.2f}{unit}, {100 * (loso.coverage or 0):3.0f}% in "
            f"({loso.folds} sizes)"
            + _aim(loso.median, LOSO_AIM if q in AIMS else None)
            + _covered(loso.coverage)
            if loso
            else "leave-one-size-out: n/a",
        ]
        print(f"{q:16} " + ";  ".join(parts))
    if points:
        _points(predictions)
    for phase in ("infer", "train"):
        spreads = [r[f"{phase}_pass_spread"] for r in rows if r.get(f"{phase}_passes", 1) > 1]
        if spreads:
            at_longest = [r[f"{phase}_pass_spread"] for r in held if r.get(f"{phase}_passes", 1) > 1]
            passes = rows[0][f"{phase}_passes"]
            print(
                f"repeat-to-repeat spread of {phase} (max-min)/median over {passes} passes: "
                f"median {100 * statistics.median(spreads):.1f}%, worst {100 * max(spreads):.1f}% "
                f"({len(spreads)} configurations); at the longest length median "
                f"{100 * statistics.median(at_longest):.1f}%"
            )
    for line in full.problems:
        print("could not fit:", line)


def measure(configs: list[RunConfig], db: Path) -> tuple[list[dict], dict]:
    """The successful rows of measuring `configs` into the store at `db` (reusing what it holds)."""
    with Store(db, create=True) as store:
        out = sweep.run(
            configs,
            store,
            timeout=900,
            on_event=lambda e: (
                isinstance(e, sweep.Done) and print(f"measured {e.config.label()} {e.note}", flush=True)
            ),
        )
        fp = out.env["fingerprint"]
        keys = {c.key() for c in configs}
        rows = [
            r.flat() for r in store.records(fingerprint=fp) if r.config.key() in keys and r.status == "ok"
        ]
    return rows, out.env


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", help="keep the measurements here (reused on a rerun)")
    ap.add_argument(
        "--preset",
        nargs="+",
        help="measure these presets' grids and print each one's figures of reaching out",
    )
    ap.add_argument(
        "--points", action="store_true", help="with --preset: each point's error at the longest length"
    )
    ap.add_argument("--sample", default="0.3")
    ap.add_argument("--passes", type=int, default=5, help="interleaved passes over the grid (default 5)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per measurement (default 1)")
    ap.add_argument(
        "--seeds", type=int, default=10, help="sampler seeds the --sample figure is the median of"
    )
    args = ap.parse_args()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "costmodel.sqlite"
    if args.preset:
        for preset in args.preset:
            rows, env = measure(load_preset(preset).grid(), db)
            print(f"== {preset}: {len(rows)} configurations measured on {env['hardware']}", flush=True)
            reach(rows, args.points)
        return
    configs = grid(args.passes, args.threads)
    rows, env = measure(configs, db)
    print(
        f"{len(rows)} configurations measured on {env['hardware']}, {env['threads']} torch thread(s), "
        f"energy source {env['energy_source']}"
    )
    spreads = [r["infer_pass_spread"] for r in rows if r.get("infer_passes", 1) > 1]
    if spreads:
        print(
            f"passes: {args.passes}; encoder latency spread between passes (max-min)/median: "
            f"median {100 * statistics.median(spreads):.1f}%, worst {100 * max(spreads):.1f}%"
        )
    model = fit_model(rows, quantities=QUANTITIES)
    for line in model.problems:
        print("could not fit:", line)
    coverage = []
    for fit in model.fits:
        v = fit.validation
        coverage += [h.coverage for h in (v.loco, v.loso) if h and h.coverage is not None]
        print(
            f"{fit.quantity:14} loco median {v.loco.median:5.2f}% worst {v.loco.worst:6.2f}%   "
            f"loso median {v.loso.median:5.2f}% worst {v.loso.worst:6.2f}%   "
            f"coverage loco {100 * v.loco.coverage:.0f}% loso {100 * v.loso.coverage:.0f}%"
        )
    by_q = {f.quantity: f.validation for f in model.fits}

    runs = [sampled_error(rows, configs, args.sample, seed) for seed in range(args.seeds)]
    for seed, (fitted, rest, flagged, err, inside) in enumerate(runs):
        print(
            f"--sample {args.sample} seed {seed}: fitted on {fitted}, predicted {rest} ({flagged} flagged "
            f"extrapolated): median error {err:.2f}%, {100 * inside:.0f}% inside their 90% interval"
        )
    print(f"loco latency: {by_q['infer_latency'].loco.median:.2f}%")
    print(f"loco energy: {by_q['infer_energy'].loco.median:.2f}%")
    print(f"loso latency: {by_q['infer_latency'].loso.median:.2f}%")
    print(f"coverage: {100 * statistics.mean(coverage):.0f}%")
    errs = sorted(run[3] for run in runs)
    print(
        f"sampled 30% -> other 70% median error: {statistics.median(errs):.2f}% "
        f"(median of {len(errs)} sampler seeds; {errs[0]:.2f}-{errs[-1]:.2f}%)"
    )


if __name__ == "__main__":
    main()
