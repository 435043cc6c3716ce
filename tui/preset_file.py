"""The app's selection, kept per results database in the app's state folder and offered at its next start."""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.preset import Preset, PresetError, load_preset
from engine.preset_file import save_preset

LAST_SELECTION = "last-selection"  # the folder, in the app's state folder, of selections kept per database


def _folder(state_dir: Path, db: Path) -> Path:
    """Where the selection last used on database `db` is kept."""
    digest = hashlib.sha256(str(Path(db).expanduser().absolute()).encode()).hexdigest()[:16]
    return state_dir / LAST_SELECTION / digest


def remember(preset: Preset, state_dir: Path, db: Path) -> None:
    """Keep the selection for the next start on `db`, under its own name (best effort: errors ignored)."""
    folder = _folder(state_dir, db)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.toml"):
            old.unlink()
        save_preset(preset, folder / f"{preset.name}.toml")
    except (OSError, ValueError, PresetError):
        pass


def last_selection(state_dir: Path, db: Path) -> Preset | None:
    """The selection remember() kept for database `db`, if there is a valid one."""
    for path in sorted(_folder(state_dir, db).glob("*.toml")):
        try:
            return load_preset(path)
        except PresetError:
            return None
    return None


def is_last_selection(preset: Preset) -> bool:
    return preset.path is not None and preset.path.parent.parent.name == LAST_SELECTION
