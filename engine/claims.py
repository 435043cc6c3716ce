"""Claims: how sweeps on one database share its work (the store's claims table).

A sweep claims each configuration before measuring it and releases it once its record is stored. A
thread renews the sweep's claims every LEASE_S / 4 while it lives, so that a sweep killed without a
chance to release (SIGKILL, a lost machine) loses them when the lease runs out; on its own host a
claim is dropped at once when its process is gone.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psutil

LEASE_S = 60.0


@dataclass(frozen=True)
class Claimant:
    """One sweep, as its claims name it."""

    lease_s: float = LEASE_S
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started: float = field(default_factory=lambda: psutil.Process().create_time())

    def sees_alive(self, host: str, pid: int, started: float, expires: float) -> bool:
        """Whether a claim held by (host, pid, started) until `expires` still stands."""
        if expires <= time.time():
            return False
        if host != self.host:
            return True  # another machine's process: only its lease tells
        try:
            return psutil.Process(pid).create_time() == started
        except psutil.NoSuchProcess:
            return False


@contextmanager
def holding(store, lease_s: float = LEASE_S) -> Iterator[Claimant]:
    """A Claimant whose claims a thread renews until the block ends; then they are all released."""
    who = Claimant(lease_s)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease_s / 4):
            store.renew(who)

    thread = threading.Thread(target=renew, name="claims-lease", daemon=True)
    thread.start()
    try:
        yield who
    finally:
        stop.set()
        thread.join()
        store.release(who)
