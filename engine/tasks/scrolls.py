"""SCROLLS tasks (tau/scrolls) through `datasets`, from a local path or the caches, never the network.

Where the data is looked for, in order:

1. ``local_path`` (a preset's ``[data]`` entry): a folder written by ``save_to_disk`` (a Dataset
   or a DatasetDict), a ``.json``/``.jsonl``/``.parquet`` file with the SCROLLS columns ``input``
   and ``output`` (one file serves every split), a SCROLLS zip (``qasper.zip``, holding
   ``qasper/<split>.jsonl``), or a folder of SCROLLS' files (``<split>.jsonl``, possibly under a
   folder named after the task).
2. The datasets cache: ``$HF_DATASETS_CACHE/tau___scrolls/<config>``, as written by
   ``load_dataset("tau/scrolls", <config>)`` with datasets < 4 (the dataset is script-based, and
   datasets 4 and later no longer run dataset scripts).
3. The Hugging Face Hub cache: ``<config>.zip`` of the dataset repository tau/scrolls, as written
   by ``huggingface_hub.hf_hub_download("tau/scrolls", "<config>.zip", repo_type="dataset")``.

When none holds the config, `TaskUnavailable` says so in one line, with how to get it.
"""

from __future__ import annotations

import contextlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from engine.tasks.example import Example

__all__ = ["SCROLLS_METRIC", "SCROLLS_TASKS", "Example", "TaskUnavailable", "check_local", "load_scrolls"]

REPO_ID = "tau/scrolls"

SCROLLS_TASKS: dict[str, str] = {
    "gov_report": "summary",
    "summ_screen_fd": "summary",
    "qmsum": "summary",
    "qasper": "qa",
    "quality": "qa",
}
"""The supported SCROLLS configs and their kind ("summary" or "qa")."""

SCROLLS_METRIC: dict[str, str] = {
    "gov_report": "rouge_mean",
    "summ_screen_fd": "rouge_mean",
    "qmsum": "rouge_mean",
    "qasper": "f1",
    "quality": "exact_match",
}
"""Each config's SCROLLS score: the geometric mean of ROUGE-1/2/L, token F1, or exact match."""

LOCAL_FORMS = "a folder or zip of SCROLLS jsonl files, a save_to_disk folder, or a .jsonl or .parquet file"

_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet"}


class TaskUnavailable(Exception):
    """A task's data is not on this machine (or lacks the split asked for); the message is one line."""


def load_scrolls(
    name: str, split: str, *, local_path: str | None = None, limit: int | None = None
) -> list[Example]:
    """Examples of one SCROLLS config and split, in dataset order; at most ``limit`` of them.

    Rows without a reference output (the SCROLLS test splits hide theirs) are skipped. Raises
    `TaskUnavailable` when the data is absent, and `ValueError` for an unknown config or a
    local file without the ``input`` and ``output`` columns.
    """
    if name not in SCROLLS_TASKS:
        raise ValueError(f"unknown SCROLLS config {name!r}; allowed: {', '.join(SCROLLS_TASKS)}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    with _quiet_datasets():
        if local_path is not None:
            rows, origin = _from_local(name, split, Path(local_path).expanduser())
        else:
            found = _from_datasets_cache(name, split) or _from_hub_cache(name, split)
            if found is None:
                raise TaskUnavailable(_missing_message(name))
            rows, origin = found
        return _examples(name, split, rows, origin, limit)


def _missing_message(name: str) -> str:
    return (
        f"SCROLLS config '{name}' ({REPO_ID}) is not in the Hugging Face caches and the network is not "
        f'used: on a machine with network run `python -c "import huggingface_hub as h; '
        f"h.hf_hub_download('{REPO_ID}', '{name}.zip', repo_type='dataset')\"` and copy its hub cache "
        f'(~/.cache/huggingface/hub) here, or add `{name} = "PATH"` to the preset\'s [data] table '
        f"({LOCAL_FORMS})"
    )


def _examples(
    name: str, split: str, rows: Iterable[dict[str, Any]], origin: str, limit: int | None
) -> list[Example]:
    kind = SCROLLS_TASKS[name]
    out: list[Example] = []
    seen = 0
    for row in rows:
        if limit is not None and len(out) >= limit:
            break
        if seen == 0:
            _check_columns(list(row), origin)
        seen += 1
        target = row["output"]
        if target is None or target == "":
            continue
        ident = str(row.get("id") or f"{split}-{seen}")
        out.append(Example(source=str(row["input"]), target=str(target), kind=kind, id=ident))
    if seen and not out and limit != 0:
        raise TaskUnavailable(
            f"SCROLLS '{name}' split '{split}' in {origin} has no reference outputs "
            f"(SCROLLS hides its test labels); use 'train' or 'validation'"
        )
    return out


def merge_by_id(examples: list[Example]) -> list[Example]:
    """One example per id with all its references, in first-seen order (SCROLLS' own merge)."""
    merged: dict[str, tuple[Example, list[str]]] = {}
    for e in examples:
        merged.setdefault(e.id, (e, []))[1].append(e.target)
    return [
        Example(e.source, refs[0], e.kind, e.id, tuple(refs) if len(refs) > 1 else ())
        for e, refs in merged.values()
    ]


# --- local paths ---------------------------------------------------------------------------------


def check_local(name: str, path: Path, splits: tuple[str, ...]) -> None:
    """ValueError (one line) unless `path` holds `splits` of config `name` with 'input' and 'output'.

    Reads only the first row of each file (and a save_to_disk folder's metadata), so a preset is
    checked in milliseconds before anything runs.
    """
    if not path.exists():
        raise ValueError(f"{path} does not exist (allowed: {LOCAL_FORMS})")
    if path.is_dir() and ((path / "dataset_dict.json").is_file() or (path / "state.json").is_file()):
        for split in splits:
            info = path / split / "dataset_info.json" if (path / "dataset_dict.json").is_file() else None
            info = info or path / "dataset_info.json"
            if not info.is_file():
                raise ValueError(f"{path} has no split {split!r}")
            _check_columns(list(json.loads(info.read_text()).get("features", {})), str(info))
        return
    if path.is_dir():
        for split in splits:
            files = [path / f"{split}.jsonl", path / name / f"{split}.jsonl"]
            found = next((f for f in files if f.is_file()), None)
            if found is None:
                raise ValueError(f"{path} holds neither {split}.jsonl nor {name}/{split}.jsonl")
            _check_columns(_first_row(found.open("rb")), str(found))
        return
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                for split in splits:
                    member = f"{name}/{split}.jsonl"
                    if member not in archive.namelist():
                        raise ValueError(f"{path} holds no {member}")
                    with archive.open(member) as f:
                        _check_columns(_first_row(f), f"{path}:{member}")
        except zipfile.BadZipFile as err:
            raise ValueError(f"{path} is not a readable zip file ({err})") from None
    elif suffix in (".json", ".jsonl"):
        _check_columns(_first_row(path.open("rb")), str(path))
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        _check_columns(pq.read_schema(path).names, str(path))
    else:
        raise ValueError(f"{path} has an unsupported type (allowed: {LOCAL_FORMS})")


def _first_row(f) -> list[str]:
    with f:
        for line in f:
            if line.strip():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{getattr(f, 'name', 'a file')}: not JSON lines ({err})") from None
                return list(row) if isinstance(row, dict) else []
    return []


def _check_columns(columns: list[str], origin: str) -> None:
    missing = [c for c in ("input", "output") if c not in columns]
    if missing:
        raise ValueError(
            f"{origin}: missing column(s) {', '.join(missing)}; SCROLLS data needs 'input' and 'output'"
        )


def _from_local(name: str, split: str, path: Path) -> tuple[Iterable[dict[str, Any]], str]:
    if not path.exists():
        raise TaskUnavailable(f"SCROLLS '{name}': local_path {path} does not exist")
    if path.is_dir():
        if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
            return _from_saved(name, split, path), str(path)
        for candidate in (path / f"{split}.jsonl", path / name / f"{split}.jsonl"):
            if candidate.is_file():
                return _stream_files("json", str(candidate)), str(candidate)
        raise TaskUnavailable(
            f"SCROLLS '{name}': {path} is neither a save_to_disk folder nor holds {split}.jsonl "
            f"or {name}/{split}.jsonl"
        )
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _from_zip(name, split, path), f"{path}"
    if suffix in _FILE_BUILDERS:
        return _stream_files(_FILE_BUILDERS[suffix], str(path)), str(path)
    raise ValueError(
        f"SCROLLS '{name}': local_path {path} has an unsupported type; allowed: a save_to_disk folder, "
        f".json, .jsonl, .parquet, .zip"
    )


def _from_saved(name: str, split: str, path: Path) -> Iterable[dict[str, Any]]:
    import datasets

    saved = datasets.load_from_disk(str(path))
    if isinstance(saved, datasets.DatasetDict):
        if split not in saved:
            raise TaskUnavailable(
                f"SCROLLS '{name}': {path} has no split '{split}' (it has {', '.join(saved)})"
            )
        saved = saved[split]
    return saved


def _stream_files(builder: str, data_files: str) -> Iterator[dict[str, Any]]:
    """Rows of local files through a packaged datasets builder, streamed: no cache is written."""
    import datasets

    yield from datasets.load_dataset(builder, data_files=data_files, split="train", streaming=True)


def _from_zip(name: str, split: str, path: Path) -> Iterable[dict[str, Any]]:
    member = f"{name}/{split}.jsonl"
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.namelist()
    except zipfile.BadZipFile as err:
        raise ValueError(f"SCROLLS '{name}': {path} is not a readable zip file ({err})") from None
    if member not in members:
        have = sorted(m for m in members if m.endswith(".jsonl"))
        raise TaskUnavailable(
            f"SCROLLS '{name}': {path} holds no {member} (it holds {', '.join(have) or 'no .jsonl files'})"
        )
    return _stream_files("json", f"zip://{member}::{path.resolve()}")


# --- caches --------------------------------------------------------------------------------------


def _from_datasets_cache(name: str, split: str) -> tuple[Iterable[dict[str, Any]], str] | None:
    """The config as prepared in the datasets cache, read by datasets' offline `cache` builder."""
    import datasets
    from datasets.packaged_modules.cache.cache import Cache

    root = Path(str(datasets.config.HF_DATASETS_CACHE)).expanduser() / "tau___scrolls" / name
    if not root.is_dir():
        return None
    try:
        builder = Cache(
            dataset_name="scrolls", repo_id=REPO_ID, config_name=name, version="auto", hash="auto"
        )
    except (ValueError, FileNotFoundError):
        return None
    splits = builder.info.splits or {}
    if split not in splits:
        raise TaskUnavailable(
            f"SCROLLS '{name}' in the datasets cache ({builder.cache_dir}) has no split '{split}' "
            f"(it has {', '.join(splits) or 'none'})"
        )
    return builder.as_dataset(split=split), builder.cache_dir


def _from_hub_cache(name: str, split: str) -> tuple[Iterable[dict[str, Any]], str] | None:
    """``<name>.zip`` of tau/scrolls in the Hugging Face Hub cache, found without a request."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(REPO_ID, f"{name}.zip", repo_type="dataset")
    if not isinstance(found, str):
        return None
    return _from_zip(name, split, Path(found)), found


@contextlib.contextmanager
def _quiet_datasets() -> Iterator[None]:
    """Hide datasets' progress bars while loading, then restore their previous state."""
    import datasets

    were_disabled = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()
    try:
        yield
    finally:
        if not were_disabled:
            datasets.enable_progress_bars()
