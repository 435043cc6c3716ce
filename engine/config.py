"""RunConfig: every input of one measured configuration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

PHASES = ("train", "infer", "eval")
BUDGET_KINDS = ("steps", "seconds", "joules")
WEIGHTS = ("random", "pretrained")
DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("cpu", "cuda")  # and "cuda:N"
OPTIMIZERS = ("adamw", "adam")


@dataclass(frozen=True)
class Budget:
    """How much fine-tuning a configuration gets."""

    kind: str = "steps"
    value: float = 20


@dataclass(frozen=True)
class Optimizer:
    """The fine-tuning optimizer: the study's by default (the Hugging Face Trainer's AdamW, betas
    0.9/0.98, eps 1e-6, weight decay 0.001); "adam" puts the weight decay in the gradient instead."""

    name: str = "adamw"
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    weight_decay: float = 0.001


@dataclass(frozen=True)
class RunConfig:
    """One point of a grid. Field names are those presets, filters and exports use."""

    family: str
    size: str
    input_len: int
    task: str = "synthetic"
    weights: str = "random"
    batch_size: int | str = 4  # an int, or "auto": the largest that fits memory_budget_gb
    dtype: str = "float32"
    device: str = "cpu"
    phases: tuple[str, ...] = PHASES
    budget: Budget = field(default_factory=Budget)
    seed: int = 0
    repetitions: int = 5  # minimum timed repetitions
    min_window_s: float = 1.0  # minimum timed window
    warmup: int = 2
    threads: int = 0  # torch intra-op threads; 0: torch's default (every core)
    passes: int = 1  # interleaved passes over the grid; the record holds their median (engine.passes)
    eval_samples: int = 16
    gen_tokens: int = 32  # target tokens in training; max new tokens when generating
    lr: float = 2e-4
    optimizer: Optimizer = field(default_factory=Optimizer)
    memory_budget_gb: float | None = None  # for batch_size "auto"; None: the device's memory
    weights_path: str | None = None  # local checkpoint or hub id for weights "pretrained"
    data_path: str | None = None  # the task's local data (a preset's [data]); None: the caches
    arch: tuple[tuple[str, int], ...] = ()  # a size a preset defines ([models.NAME]): its dimensions

    def to_dict(self) -> dict:
        d = asdict(self)
        d["phases"] = list(self.phases)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> RunConfig:
        d = dict(d)
        d["phases"] = tuple(d.get("phases", PHASES))
        d["arch"] = tuple((str(k), v) for k, v in d.get("arch", ()))
        d["budget"] = (
            Budget(**d["budget"]) if isinstance(d.get("budget"), dict) else d.get("budget", Budget())
        )
        if isinstance(d.get("optimizer"), dict):
            opt = dict(d["optimizer"])
            d["optimizer"] = Optimizer(**{**opt, "betas": tuple(opt.get("betas", Optimizer.betas))})
        return cls(**d)

    def key(self) -> str:
        """A stable hash of every input. Fields added after records were first stored are left out at
        their defaults, so that the keys of earlier databases still name the same configurations. A
        synthetic task's version is in the key: records of an older version of it name other tasks."""
        from engine.tasks import synthetic

        d = self.to_dict()
        for name in _ADDED_LATER:
            if d[name] == _DEFAULTS[name]:
                del d[name]
        if self.task in synthetic.VARIANTS:
            d["synthetic_version"] = synthetic.VERSION
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        return f"{self.family}-{self.size} {self.task} n={self.input_len} b={self.batch_size}"


_ADDED_LATER = ("optimizer", "data_path", "arch")
_DEFAULTS = RunConfig("led", "tiny", 1).to_dict()
