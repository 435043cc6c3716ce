"""The devices this machine can measure on. torch answers in a child process: the app imports no torch."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from engine.config import DEVICES


def available_devices() -> tuple[str, ...]:
    """Of DEVICES, those torch can use here: cuda only where torch.cuda.is_available()."""
    import torch

    return tuple(d for d in DEVICES if d != "cuda" or torch.cuda.is_available())


def probe_devices() -> tuple[str, ...]:
    """available_devices(), asked of a spawned child process."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(available_devices).result(timeout=120)


def unavailable(device: str) -> str:
    """Why a device cannot be used on this machine, in one line."""
    if device == "cuda":
        return "cuda: this machine has no CUDA GPU that torch can use (torch.cuda.is_available() is False)"
    return f"{device}: not available on this machine"
