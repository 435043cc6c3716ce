"""costmodel/ imports the standard library, numpy and scipy only: checked in a fresh interpreter."""

import pkgutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "costmodel"
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))
FORBIDDEN = {"torch", "textual", "engine", "transformers", "rich"}


def test_every_module_is_checked():
    assert {"features", "fit", "forms", "predict", "pareto", "sample", "select", "validate"} <= set(MODULES)


def test_costmodel_imports_no_torch_textual_or_engine():
    imports = ", ".join(["costmodel", *(f"costmodel.{m}" for m in MODULES)])
    code = (
        f"import {imports}; import sys; "
        f"bad = sorted({FORBIDDEN!r} & {{m.split('.')[0] for m in sys.modules}}); "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_package_loads_numpy_and_scipy_only_when_a_fit_is_asked_for():
    code = (
        "import sys, costmodel, costmodel.quantities; "
        "assert not {'numpy', 'scipy'} & {m.split('.')[0] for m in sys.modules}; "
        "costmodel.fit_model; assert 'scipy' in sys.modules; "
        "assert sorted(costmodel.__all__) == sorted(dir(costmodel)); "
        "assert all(getattr(costmodel, n) for n in costmodel.__all__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
