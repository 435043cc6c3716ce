"""The environment a record was measured in: hardware, driver, package versions, git commit."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "transformers", "tokenizers", "datasets", "evaluate", "numpy", "nvidia-ml-py")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu(device: str) -> tuple[str, str]:
    import torch

    name = torch.cuda.get_device_name(torch.device(device))
    try:
        import pynvml

        pynvml.nvmlInit()
        driver = pynvml.nvmlSystemGetDriverVersion()
        driver = driver.decode() if isinstance(driver, bytes) else driver
    except Exception:  # noqa: BLE001 - NVML is optional; the name is enough
        driver = ""
    return name, driver


@cache
def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def fingerprint(env: dict) -> str:
    """Hardware and software that change the figures: records match only within one fingerprint."""
    keys = ("hardware", "device", "threads", "torch", "transformers")
    blob = "|".join(str(env.get(k, "")) for k in keys)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def describe(device: str, threads: int = 0) -> dict:
    """Everything about where a configuration runs, once torch is set to `threads` (0: its default).

    The thread count is part of the fingerprint, so it is set here, where the fingerprint is made.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    if device.startswith("cuda"):
        hardware, driver = _gpu(device)
    else:
        hardware, driver = cpu_name(), ""
    env = {
        "hardware": hardware,
        "driver": driver,
        "device": device.split(":")[0],
        "cpu": cpu_name(),
        "cores": os.cpu_count() or 0,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "git_commit": _git_commit(),
        **versions(),
    }
    env["fingerprint"] = fingerprint(env)
    return env
