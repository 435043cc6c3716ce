"""What a sweep needs before it starts: a device that is there, and models and data on disk.

Driver side: nothing here measures or loads a model. `device_problem` names a device this machine
lacks (the torch build, and what to change); `needs` lists what one configuration reads from disk,
each item saying whether it is here and, if not, how to get it (one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine import archs
from engine.config import RunConfig
from engine.tasks import synthetic

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "spiece.model", "tokenizer_config.json")


@dataclass(frozen=True)
class Need:
    """Something a configuration reads from disk: what, whether it is here, and if not how to get it."""

    what: str
    present: bool
    how: str = ""  # one line, when absent
    blocking: bool = True  # False: made at the sweep's start when absent

    def missing_line(self) -> str:
        return f"missing {self.what}: {self.how}"


def device_problem(device: str) -> str | None:
    """None when `device` is there; else one line naming it, the installed torch build and what to change."""
    if not device.startswith("cuda"):
        return None
    import torch

    build = torch.__version__
    cpu_instead = 'or set device = "cpu" in the preset\'s [run]'
    if torch.version.cuda is None:
        return (
            f"{device!r} is not available: torch {build} is built without CUDA; install a CUDA build "
            f"of torch (https://pytorch.org/get-started/locally/) {cpu_instead}"
        )
    if not torch.cuda.is_available():
        return (
            f"{device!r} is not available: torch {build} (CUDA {torch.version.cuda}) finds no GPU (no "
            f"NVIDIA driver, or CUDA_VISIBLE_DEVICES hides them); run on a GPU machine {cpu_instead}"
        )
    _, _, index = device.partition(":")
    count = torch.cuda.device_count()
    if index and int(index) >= count:
        return (
            f"{device!r} is not on this machine: torch sees {count} CUDA device(s) (cuda:0 to "
            f'cuda:{count - 1}); set device = "cuda:N" with N < {count}, or "cuda"'
        )
    return None


def _hub_has(repo: str, files: tuple[str, ...], repo_type: str = "model") -> bool:
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(repo, f, repo_type=repo_type), str) for f in files)


def _local_has(path: Path, files: tuple[str, ...]) -> bool:
    return any((path / f).is_file() for f in files)


def _model_need(ref: str, parts: dict[str, tuple[str, ...]], model: str) -> Need:
    """A published or local model, here when it holds one file of each part (tokenizer, weights)."""
    path = Path(ref)
    if path.is_absolute() or path.exists():
        here = all(_local_has(path, files) for files in parts.values())
        how = f"{ref} lacks one of " + "; ".join(", ".join(files) for files in parts.values())
    else:
        here = all(_hub_has(ref, files) for files in parts.values())
        how = (
            f"run `hf download {ref}` where the hub is reachable and copy ~/.cache/huggingface/hub here, "
            f"or map {model} to a local copy in the preset's [weights] table"
        )
    return Need(f"model {ref} ({' and '.join(parts)})", here, how)


def _data_need(config: RunConfig) -> Need:
    task = config.task
    if config.data_path:
        return Need(f"data {task} {config.data_path}", Path(config.data_path).exists(), "the path is gone")
    import datasets

    from engine.tasks.scrolls import LOCAL_FORMS, REPO_ID

    cache = Path(str(datasets.config.HF_DATASETS_CACHE)).expanduser() / "tau___scrolls" / task
    here = cache.is_dir() or _hub_has(REPO_ID, (f"{task}.zip",), repo_type="dataset")
    how = (
        f"add `{task} = \"PATH\"` to the preset's [data] table ({LOCAL_FORMS}; SCROLLS' {task}.zip "
        f"from the {REPO_ID} dataset repository will do), or copy the Hugging Face caches here"
    )
    return Need(f"data {task} ({REPO_ID})", here, how)


def needs(config: RunConfig) -> list[Need]:
    """What the configuration reads from disk: its task's data, its tokenizer's and its weights' files."""
    from engine.checkpoints import is_cached

    out: list[Need] = []
    model = f"{config.family}-{config.size}"
    arch = archs.entry(config)
    published = config.weights_path or arch.get("hub_id")
    parts: dict[str, tuple[str, ...]] = {}
    if config.task not in synthetic.VARIANTS:
        out.append(_data_need(config))
        if published:  # a model without a published tokenizer trains one on the task's text
            parts["tokenizer"] = TOKENIZER_FILES
    if config.weights == "pretrained":
        if config.task in synthetic.VARIANTS and not config.weights_path and "hub_id" not in arch:
            here = is_cached(config.family, config.size)
            out.append(Need(f"synthetic checkpoint {model}", here, "prepared at the sweep's start", False))
        else:
            parts["weights"] = WEIGHT_FILES
    if parts:
        out.append(_model_need(published, parts, model))
    return out
