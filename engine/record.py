"""Record: everything one configuration produced, serialisable to JSON and to a flat row."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from costmodel.encoder import encoder_run, global_tokens
from engine.config import RunConfig


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Timing:
    """Per-repetition wall time of a timed window.

    Attributes:
        median_s, p10_s, p90_s: the median and the 10th and 90th percentiles of one repetition, s.
        std_s: the standard deviation of one repetition, s.
        repetitions: how many repetitions the window held.
        window_s: the window's whole wall time, s.
    """

    median_s: float
    p10_s: float
    p90_s: float
    std_s: float
    repetitions: int
    window_s: float


def is_estimate(source: str) -> bool:
    """True for energy sources that estimate rather than measure (estimate, estimate-cpu-only)."""
    return source.startswith("estimate")


@dataclass(frozen=True)
class Energy:
    """Energy over a window.

    Attributes:
        joules: the energy the window used, J.
        above_idle_j: the part above the idle power, J.
        source: what measured it: nvml-counter, nvml-power, rapl, rapl-cpu-only, or (is_estimate)
            estimate, estimate-cpu-only.
        avg_power_w: the mean power over the window, W.
        idle_power_w: the machine's idle power, measured before the sweep, W.
        seconds: the window's length, s.
    """

    joules: float
    above_idle_j: float
    source: str
    avg_power_w: float
    idle_power_w: float
    seconds: float


@dataclass(frozen=True)
class PhaseResult:
    """One phase of a configuration's measurement.

    Attributes:
        phase: train, infer or eval.
        seconds: the phase's wall time, s (for train, the whole training).
        timing: the timed window's repetitions (infer: one encoder forward of a batch), if timed.
        energy: per unit of work for infer (one batch), the whole phase otherwise.
        peak_memory_mb: the phase's peak memory, MB.
        attention_type: the attention actually in force after the phase.
        figures: the phase's own named numbers (e.g. gen_median_s, s; steps), flattened as
            `PHASE_NAME` in Record.flat.
    """

    phase: str
    seconds: float
    timing: Timing | None = None
    energy: Energy | None = None
    peak_memory_mb: float = 0.0
    attention_type: str = ""
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """Why a configuration failed.

    Attributes:
        phase: the phase that failed (or start, before any).
        kind: oom, error, crash, timeout or interrupted.
        error: the error's one-line message.
    """

    phase: str
    kind: str
    error: str


@dataclass(frozen=True)
class Record:
    """A configuration's inputs, resolved dimensions, phase results, metrics and environment.

    Attributes:
        config: the configuration measured.
        dims: the architecture dimensions actually built, plus n_params.
        padded_len: the encoder length the model ran (after its padding), tokens.
        batch_size: resolved: the config's int, or "auto"'s batch once found (None before).
        phases: each phase's result, in the order run.
        metrics: the task's metrics (e.g. rouge_mean, f1) and `score`, its primary one.
        env: the machine: hardware, fingerprint, device, threads, idle_power_w (W), package versions.
        failure: why it failed; None for a measurement.
        created: when it was stored, ISO 8601 UTC.
        example_scores: the primary score of each evaluated example, by example id.
        attention: the encoder attention run: sliding_window (LED), block_sparse or original_full
            (BigBird-Pegasus); "" where not known.
        global_tokens: LED's leading tokens with global attention (0 for BigBird-Pegasus).

    A measured record holds what its encoder ran (engine.encoder_facts); an unmeasured or failed
    one, and one stored before these were recorded, the rule both sides share (costmodel.encoder).
    """

    config: RunConfig
    dims: dict
    padded_len: int
    batch_size: int | None
    phases: tuple[PhaseResult, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    failure: Failure | None = None
    created: str = ""
    example_scores: dict[str, float] = field(default_factory=dict)
    attention: str = ""
    global_tokens: int = 0

    @property
    def status(self) -> str:
        return "failed" if self.failure else "ok"

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.phase == name), None)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["config"] = self.config.to_dict()
        d["status"] = self.status
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Record:
        phases = tuple(
            PhaseResult(
                **{
                    **p,
                    "timing": Timing(**p["timing"]) if p.get("timing") else None,
                    "energy": Energy(**p["energy"]) if p.get("energy") else None,
                }
            )
            for p in d.get("phases", ())
        )
        config = RunConfig.from_dict(d["config"])
        if "attention" in d:
            encoder = {k: d[k] for k in ("padded_len", "attention", "global_tokens")}
        else:  # stored before a record held what its encoder ran
            padded, attention = encoder_run(config.family, d["dims"], config.input_len)
            g = global_tokens(config.family, config.task)
            encoder = dict(padded_len=padded, attention=attention, global_tokens=g)
        return cls(
            config=config,
            dims=d["dims"],
            **encoder,
            batch_size=d["batch_size"] or None,  # older records held 0 for a batch not found
            phases=phases,
            metrics=d.get("metrics", {}),
            example_scores=d.get("example_scores", {}),  # older records stored none
            env=d.get("env", {}),
            failure=Failure(**d["failure"]) if d.get("failure") else None,
            created=d.get("created", ""),
        )

    def flat(self) -> dict:
        """One flat row: the names filters, the cost model and CSV exports use."""
        c = self.config
        row: dict = {
            "key": c.key(),
            "family": c.family,
            "size": c.size,
            "weights": c.weights,
            "task": c.task,
            "input_len": c.input_len,
            "padded_len": self.padded_len,
            "batch_size": self.batch_size,
            "batch_request": c.batch_size,  # as asked: an int or "auto"
            "memory_budget_gb": c.memory_budget_gb,
            "lr": c.lr,
            "weights_path": c.weights_path,
            "dtype": c.dtype,
            "device": c.device,
            "budget_kind": c.budget.kind,
            "budget_value": c.budget.value,
            "seed": c.seed,
            "gen_tokens": c.gen_tokens,
            "repetitions": c.repetitions,
            "passes": c.passes,
            "eval_samples": c.eval_samples,
            "warmup": c.warmup,
            "min_window_s": c.min_window_s,
            "phases": ",".join(c.phases),
            **self.dims,
            "status": self.status,
            "failed_phase": self.failure.phase if self.failure else "",
            "failure_kind": self.failure.kind if self.failure else "",
            "error": self.failure.error if self.failure else "",
            "hardware": self.env.get("hardware", ""),
            "fingerprint": self.env.get("fingerprint", ""),
            "threads": self.env.get("threads", 0),
            "fault_s_per_byte": self.env.get("fault_s_per_byte"),
            "energy_source": "",
        }
        for p in self.phases:
            pre = p.phase
            row[f"{pre}_seconds"] = p.seconds
            row[f"{pre}_peak_memory_mb"] = p.peak_memory_mb
            row[f"{pre}_attention_type"] = p.attention_type
            if p.timing:
                for k in ("median_s", "p10_s", "p90_s", "std_s", "repetitions"):
                    row[f"{pre}_{k}"] = getattr(p.timing, k)
            if p.energy:
                row[f"{pre}_energy_j"] = p.energy.joules
                row[f"{pre}_energy_above_idle_j"] = p.energy.above_idle_j
                row[f"{pre}_power_w"] = p.energy.avg_power_w
                row["energy_source"] = p.energy.source
            for k, v in p.figures.items():
                row[f"{pre}_{k}"] = v
        if self.attention:  # what the encoder ran, where known (else the cost model applies the rule)
            row |= {"attention": self.attention, "global_tokens": self.global_tokens}
        row["energy_estimated"] = is_estimate(row["energy_source"])
        row.update(self.metrics)
        return row
