"""The design's package boundaries, checked in fresh interpreters."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parent.parent


def imported_after(code: str) -> set[str]:
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return {name.split(".")[0] for name in out.stdout.split()}


def test_engine_imports_no_textual():
    # engine.preload is the fork server's warm-up; it is imported there only
    modules = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
    loaded = imported_after("\n".join(f"import {m}" for m in modules))
    assert "textual" not in loaded


def test_what_the_app_and_headless_run_import_at_startup_holds_no_torch():
    loaded = imported_after(
        "import tui.cli, tui.headless, tui.workspace, engine.sweep, engine.store, engine.preset"
    )
    assert not {"torch", "transformers", "textual"} & loaded


def test_the_app_module_imports_no_torch():
    loaded = imported_after("import tui.app")
    assert not {"torch", "transformers"} & loaded
