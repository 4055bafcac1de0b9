"""The answer every readiness module gives: Ready, Waiting (with what it waits for) or Failed
(with a one-line cause and the likely fix), and the stopwatch of rules with a grace period.

Failing fast matters as much as waiting: a crash loop or a missing image is reported within a
tick instead of after the timeout, which is the complaint users have about ``helm --wait`` and
``kubectl rollout status``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ready:
    detail: str = ""


@dataclass(frozen=True)
class Waiting:
    reason: str
    warning: str = ""


@dataclass(frozen=True)
class Failed:
    cause: str
    hint: str = ""


Verdict = Ready | Waiting | Failed


class Stopwatch:
    """How long a condition has been seen, for rules like 'Unschedulable for more than 15 s'.

    Measured on our clock from the first tick that saw it, so a skewed cluster clock cannot make
    us fail early; a condition that goes away and comes back starts again.
    """

    def __init__(self) -> None:
        self._first_seen: dict[str, float] = {}
        self._seen_now: set[str] = set()

    def seen_for(self, key: str, now: float) -> float:
        self._seen_now.add(key)
        return now - self._first_seen.setdefault(key, now)

    def end_tick(self) -> None:
        """Forgets the conditions not seen during the tick that just ended."""
        for key in set(self._first_seen) - self._seen_now:
            del self._first_seen[key]
        self._seen_now.clear()
