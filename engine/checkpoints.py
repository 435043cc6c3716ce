"""Where prepared artefacts live: the synthetic pre-trained checkpoints and the trained tokenizers.

Both are made once on the machine and cached in the user cache directory, keyed by everything
they are made from, so a change to any input makes a new one instead of reusing a stale one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine import archs
from engine.tasks import synthetic

# (steps, batch, document lengths, tasks, truncation fractions) of the synthetic pre-training
CURRICULUM = (
    (800, 16, (64,), ("synthetic",), (1.0,)),
    (400, 8, (64, 128, 256, 512), ("synthetic", "synthetic-qa"), (0.25, 0.5, 1.0)),
)
LR = {"led": 2e-3, "bigbird-pegasus": 1e-3}  # post-norm LED needed the higher rate to start copying


def cache_root() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("tradeoff-tui")) / "checkpoints"


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:10]


def checkpoint_dir(family: str, size: str) -> Path:
    """Where the synthetic checkpoint of an architecture lives (it may not exist yet)."""
    key = digest(archs.arch(family, size), synthetic.CORPUS_VERSION, CURRICULUM, LR[family])
    return cache_root() / f"{family}-{size}-synthetic-v{synthetic.CORPUS_VERSION}-{key}"


def is_cached(family: str, size: str) -> bool:
    return (checkpoint_dir(family, size) / "done.json").exists()


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside `path`, so that one process makes it while the others wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
