"""What the engine tells the person watching, as calls: the CLI decides text or JSON lines.

The engine never prints; it reports through this interface, so the same deploy can drive a
terminal with a live line, a CI log, or ``--output json`` without knowing which.
"""

from __future__ import annotations

from typing import Protocol

from asky_scripts.cluster.kubectl import RetryNotice
from asky_scripts.readiness.verdict import Verdict


class Progress(Protocol):
    def stage_started(self, stage: str) -> None: ...

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None: ...

    def resource(self, stage: str, kind: str, name: str, verdict: Verdict) -> None: ...

    def note(self, stage: str, message: str, *, warning: bool = False) -> None: ...

    def command(self, argv: tuple[str, ...]) -> None: ...

    def retry(self, notice: RetryNotice) -> None: ...
