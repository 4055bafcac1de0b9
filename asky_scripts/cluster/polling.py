"""How often a wait looks at the cluster again: shared by run.py's stages and terminate.py.

What users feel is the gap between the cluster being ready (or gone) and the command saying so.
One tick is one kubectl process (40-120 ms here, most of it kubectl starting), so ticks start
every 0.1 s, counted from the start of the previous one: a change is noticed within about 0.15 s
on average, while a short pause between ticks keeps kubectl from running back to back (a wait
costs at most about half a core).  Helm polls every 2 s, kapp every 3 s.  The first tick runs
at once, right after the apply or delete.

Most waits end within seconds; a long one (image pulls on a real cluster) is waiting for
something slow, so after ``FAST_PHASE_SECONDS`` the period stretches to ``SLOW_TICK_SECONDS``:
a five-minute wait then costs about 300 kubectl processes and API reads instead of 3000, and
is still noticed within a second.
"""

from __future__ import annotations

import tenacity

TICK_EVERY_SECONDS = 0.1
SLOW_TICK_SECONDS = 1.0
FAST_PHASE_SECONDS = 10.0
# How fast the period grows after the fast phase: it reaches SLOW_TICK_SECONDS 18 s later.
STRETCH_PER_SECOND = 0.05
MIN_PAUSE_SECONDS = 0.03


def tick_period(waited: float) -> float:
    """The period between tick starts after ``waited`` seconds of waiting."""
    stretched = TICK_EVERY_SECONDS + STRETCH_PER_SECOND * max(waited - FAST_PHASE_SECONDS, 0.0)
    return min(stretched, SLOW_TICK_SECONDS)


class _Cadence:
    """tenacity wait: the rest of the tick period, given how long the last tick took."""

    def __init__(self) -> None:
        self._busy_before = 0.0

    def __call__(self, state: tenacity.RetryCallState) -> float:
        waited = state.seconds_since_start or 0.0
        busy = waited - state.idle_for
        last_tick, self._busy_before = busy - self._busy_before, busy
        return max(MIN_PAUSE_SECONDS, tick_period(waited) - last_tick)


def until_done(timeout: float) -> tenacity.Retrying:
    """Calls a tick until it returns True; RetryError once ``timeout`` seconds have passed."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda done: not done),
        wait=_Cadence(),
        stop=tenacity.stop_after_delay(timeout),
    )
