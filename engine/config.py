"""RunConfig: every input of one measured configuration."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

PHASES = ("train", "infer", "eval")
BUDGET_KINDS = ("steps", "seconds", "joules")
WEIGHTS = ("random", "pretrained")
DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Budget:
    """How much fine-tuning a configuration gets."""

    kind: str = "steps"
    value: float = 20


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
    gen_tokens: int = 32  # max new tokens when generating
    lr: float = 2e-4
    memory_budget_gb: float | None = None  # for batch_size "auto"; None: the device's memory
    weights_path: str | None = None  # local checkpoint for weights "pretrained"
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
        return cls(**d)

    def key(self) -> str:
        """A stable hash of every input."""
        d = self.to_dict()
        if not d["arch"]:
            del d["arch"]  # a built-in size: keys as before sizes could be defined
        blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def label(self) -> str:
        return f"{self.family}-{self.size} {self.task} n={self.input_len} b={self.batch_size}"
