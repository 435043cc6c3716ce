"""How quickly the app paints its first screen, and how quickly it answers keys while a run is going.

Runs the real app in a pseudo-terminal (80x24) on a fresh database and the smoke preset, as a user
would over SSH, and reads what it writes:

- startup: from launching the interpreter to the first frame that shows the key bar;
- key gap: with a real sweep measuring in child processes, F3 and F1 are pressed in turn, and each
  gap runs from writing the key to reading the new view's keys (Results: "Sort", Setup: "Run grid").

Usage: .venv/bin/python benchmarks/tui_startup.py [--presses N] [--preset NAME]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

STARTUP_TARGET_S = 1.5
KEY_GAP_TARGET_MS = 200.0
F1, F2, F3, CTRL_R, CTRL_Q = "\x1bOP", "\x1bOQ", "\x1bOR", "\x12", "\x11"
LAUNCH = "from tui.app import run_app; run_app({db!r}, {preset!r}, no_color=False, mouse=False)"


class Terminal:
    """The app in a pseudo-terminal: write keys, wait for text to appear in what it writes."""

    def __init__(self, code: str, cwd: Path, size: tuple[int, int] = (80, 24)) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
        env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env
        )
        os.close(slave)

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """perf_counter() when `text` appears in the output (RuntimeError after timeout)."""
        seen = b""
        wanted = text.encode()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(self.master, 65536)
                except OSError:
                    break
                if wanted in seen:
                    return time.perf_counter()
                seen = seen[-4096:]
        raise RuntimeError(f"{text!r} did not appear within {timeout:g} s")

    def press(self, keys: str) -> float:
        self.drain()
        sent = time.perf_counter()
        os.write(self.master, keys.encode())
        return sent

    def drain(self) -> None:
        while select.select([self.master], [], [], 0)[0]:
            try:
                os.read(self.master, 65536)
            except OSError:
                return

    def close(self) -> None:
        if self.proc.poll() is None:
            os.write(self.master, CTRL_Q.encode())
            time.sleep(0.3)
            os.write(self.master, b"y")
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        os.close(self.master)


def switch_views(term: Terminal, presses: int) -> list[float]:
    """Milliseconds from each key to its view: F3 (Results) and F1 (Setup) in turn."""
    gaps = []
    for i in range(presses):
        key, marker = (F3, "kind: all") if i % 2 == 0 else (F1, "batch sizes")
        sent = term.press(key)
        gaps.append((term.wait_for(marker, timeout=10) - sent) * 1e3)
        time.sleep(0.3)
    return gaps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--presses", type=int, default=20, help="keys pressed while the run goes (default 20)"
    )
    parser.add_argument("--preset", default="smoke", help="the preset run (default smoke)")
    args = parser.parse_args()
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        env_dirs = {"XDG_STATE_HOME": tmp, "XDG_CONFIG_HOME": tmp}
        os.environ.update(env_dirs)
        term = Terminal(LAUNCH.format(db=str(Path(tmp) / "bench.sqlite"), preset=args.preset), cwd=repo)
        try:
            startup = term.wait_for("Recommend") - term.started
            term.wait_for("batch sizes")
            idle = switch_views(term, args.presses)
            term.press(CTRL_R)
            term.wait_for("Cancel run")
            running = switch_views(term, args.presses)
            term.press(F2)
            try:
                term.wait_for("Measuring", timeout=5)  # the Run view's line while a sweep goes
                still = True
            except RuntimeError:
                still = False
        finally:
            term.close()
    print("gaps while idle, ms:   ", " ".join(f"{g:.0f}" for g in idle))
    print("gaps while running, ms:", " ".join(f"{g:.0f}" for g in running))
    print(f"the run was still going after the last press: {still}")
    print(f"median gap running / idle: {statistics.median(running) / statistics.median(idle):.2f}")
    print(f"startup / target: {startup / STARTUP_TARGET_S:.2f}")
    print(f"key gap / target: {max(running) / KEY_GAP_TARGET_MS:.2f}")
    print(f"startup: {startup:.2f} s")
    print(f"key gap: {max(running):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
