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


def gpu_env(device: str) -> dict:
    """The GPU a torch device string names: name, memory, driver, power limit and clocks from NVML
    (found by UUID, engine.meters.gpu), or torch's name and memory where NVML does not answer."""
    import torch

    from engine.meters.gpu import cuda_index, describe, find

    index = cuda_index(device)
    props = torch.cuda.get_device_properties(index)
    out = {"hardware": props.name, "driver": "", "gpu_memory_mb": props.total_memory / 2**20}
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - NVML is optional; torch's figures remain
        return out
    try:
        out.update(describe(pynvml, find(pynvml, device)))
    except Exception:  # noqa: BLE001 - as above
        pass
    finally:
        pynvml.nvmlShutdown()
    return out


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


GPU_KEYS = ("gpu_memory_mb", "power_limit_w", "driver")  # a GPU's figures depend on them too


def fingerprint(env: dict) -> str:
    """Hardware and software that change the figures: records match only within one fingerprint."""
    keys = ("hardware", "device", "threads", "torch", "transformers")
    keys += GPU_KEYS if env.get("device") == "cuda" else ()
    blob = "|".join(str(env.get(k, "")) for k in keys)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def describe(device: str, threads: int = 0) -> dict:
    """Everything about where a configuration runs, once torch is set to `threads` (0: its default).

    The thread count is part of the fingerprint, so it is set here, where the fingerprint is made.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    gpu = gpu_env(device) if device.startswith("cuda") else {"hardware": cpu_name(), "driver": ""}
    env = {
        **gpu,
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
