"""What a sweep has told the app so far: progress, the configuration in flight, finished ones, log lines."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from engine.config import RunConfig
from engine.record import Record
from engine.sweep import Done, Event, Log, Phase, Prepare, Probe, Skip, Start


@dataclass
class Finished:
    """A configuration the sweep finished (measured or failed), and how long it took."""

    config: RunConfig
    record: Record | None
    seconds: float
    note: str = ""  # "pass 2/3" when the configuration is measured in passes


@dataclass
class RunState:
    """Built from sweep Events as they arrive; the run screen shows it. Times come from the app's clock."""

    requested: int = 0  # configurations handed to the sweep
    started: float = 0.0
    total: int = 0  # measurements to make: a pass of each configuration not already stored
    skipped: int = 0  # configurations already stored
    current: RunConfig | None = None
    node: str = ""  # the Ray node the configuration in flight runs on ("" on this machine)
    note: str = ""  # the pass in flight, when measured in passes
    phase: str = ""
    phase_started: float = 0.0
    config_started: float = 0.0
    finished: list[Finished] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    running: bool = False
    ended: str = ""  # how the run ended: one line
    ended_at: float | None = None  # when it ended (the app's clock)
    predicted_s: float | None = None  # the cost model's guess per configuration, before any finishes

    def apply(self, event: Event, now: float) -> None:
        match event:
            case Probe(total=total, message=message):
                self.log.append(message)
                self.total = total
            case Skip(total=total, message=message):
                self.log.append(message)
                self.total, self.skipped = total, self.requested - total
            case Prepare(message=message) | Log(message=message):
                self.log.append(message)
            case Start():
                self.total = event.total
                self.current, self.note, self.phase = event.config, event.note, "start"
                self.node = event.node
                self.config_started = self.phase_started = now
            case Phase(phase=phase):
                self.phase, self.phase_started = phase, now
            case Done():
                self.finished.append(
                    Finished(event.config, event.record, now - self.config_started, event.note)
                )
                self.current, self.phase, self.node = None, "", ""
                failure = event.record.failure if event.record else None
                if failure:
                    on = f" on {event.node}" if event.node else ""
                    self.log.append(
                        f"failed: {event.config.label()}{on}: {failure.phase} {failure.kind}: {failure.error}"
                    )

    def elapsed(self, now: float) -> float:
        """Seconds the run took so far, or in all once it ended."""
        return (now if self.ended_at is None else self.ended_at) - self.started

    @property
    def done(self) -> int:
        """Measurements finished (passes count one each)."""
        return len(self.finished)

    def _latest(self) -> dict[str, Record | None]:
        return {f.config.key(): f.record for f in self.finished}

    @property
    def failed(self) -> int:
        """Configurations whose latest record failed."""
        return sum(1 for r in self._latest().values() if r is None or r.failure)

    @property
    def measured(self) -> int:
        """Configurations whose latest record is a measurement."""
        return sum(1 for r in self._latest().values() if r is not None and not r.failure)

    def eta(self, now: float) -> float | None:
        """Seconds left: the mean time per finished configuration (else the prediction) times those left."""
        per = statistics.fmean(f.seconds for f in self.finished) if self.finished else self.predicted_s
        if per is None or not self.running:
            return None
        left = (self.total - self.done) * per
        if self.current is not None:
            left -= min(now - self.config_started, per)
        return max(left, 0.0)


def duration(seconds: float | None) -> str:
    """12 s, 4:05 (minutes), 1:02:03 (hours); an em dash for None."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if s >= 60:
        return f"{s // 60}:{s % 60:02d}"
    return f"{s} s"
