"""SIGTERM and SIGHUP (what SLURM, systemd, Kubernetes, `timeout` and a closed terminal send) stop a sweep
as Ctrl-C does: they raise Stop, a KeyboardInterrupt, in the main thread, so that the child or the Ray
tasks in flight are stopped, what finished is kept, and the process exits 128 + the signal's number.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

STOPPING = (signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # prctl(2)


class Stop(KeyboardInterrupt):
    """A stop signal arrived; `signum` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []  # the stop signals received under stop_on_signals, latest last


def signum_of(exc: BaseException) -> int:
    """The signal behind an interruption: Stop's; else the one stop_on_signals received (Ray turns the
    exception a handler raises inside its calls into a plain KeyboardInterrupt); else SIGINT (Ctrl-C,
    or a stop asked by the app)."""
    return getattr(exc, "signum", None) or (_received[-1] if _received else signal.SIGINT)


def exit_status(signum: int) -> int:
    """The shell's convention: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + signum


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise Stop in the main thread (once: a second one while the
    first is being handled is ignored, so that the cleanup it started finishes). Main thread only."""
    _received.clear()

    def handler(signum, frame) -> None:
        if not _received:
            _received.append(signum)
            raise Stop(signum)

    previous = {s: signal.signal(s, handler) for s in STOPPING}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _received.clear()


def ignore_in_child() -> None:
    """A measuring child leaves every stop signal to its parent, which stops it (a scheduler sends
    SIGTERM to the whole process group, a closed terminal SIGHUP, Ctrl-C SIGINT), and on Linux dies
    with its parent (the fork server, which exits with the sweep or the Ray worker that started it),
    so that a parent killed outright (SIGKILL, a cancelled Ray task) leaves no measurement running."""
    for s in (signal.SIGINT, *STOPPING):
        signal.signal(s, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        parent = os.getppid()
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # it died before the request was made
            os._exit(1)
