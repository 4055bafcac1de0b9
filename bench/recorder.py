"""Stamps kubesim's store changes with ``time.monotonic()`` as they happen.

The store keeps a history of changes with resourceVersions but no clock, and its metadata
timestamps have whole-second resolution.  A thread woken by the store's own condition variable
reads each new change of Pods and Events and notes the instant, which is all the figures need:
when the last pod became Ready, and when the first pod status (or event) showed a failure's
cause.  Wake-up lag under the GIL is a few milliseconds at most and only makes our latencies
look slightly worse, never better.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from kubesim import KubeSim
from kubesim.resources import by_plural

PODS = by_plural("pods")
EVENTS = by_plural("events")
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class PodSeen:
    """One version of a pod: is it Ready, and which waiting/failure reasons does it show."""

    at: float
    namespace: str
    name: str
    ready: bool
    reasons: frozenset[str]


@dataclass(frozen=True)
class EventSeen:
    at: float
    namespace: str
    reason: str
    message: str


def _pod_seen(at: float, pod: dict[str, Any]) -> PodSeen:
    status = pod.get("status", {})
    reasons: set[str] = set()
    for cond in status.get("conditions", []):
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            reasons.add("Ready")
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "Unschedulable":
            reasons.add("Unschedulable")
    for container in status.get("containerStatuses", []):
        waiting = container.get("state", {}).get("waiting", {})
        if waiting.get("reason"):
            reasons.add(str(waiting["reason"]))
        if container.get("lastState", {}).get("terminated"):
            reasons.add("Terminated")
        # A second exit (a restarted container exiting again): the first sign a crash persists.
        if container.get("state", {}).get("terminated") and container.get("restartCount", 0):
            reasons.add("ExitedAgain")
    meta = pod["metadata"]
    ready = "Ready" in reasons
    return PodSeen(
        at, meta.get("namespace", ""), meta["name"], ready, frozenset(reasons - {"Ready"})
    )


class StoreRecorder:
    """``with StoreRecorder(sim) as recorder:`` for the length of one contender's run."""

    def __init__(self, sim: KubeSim) -> None:
        self._store = sim.cluster.store
        self.pods: list[PodSeen] = []
        self.events: list[EventSeen] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def _follow(self) -> None:
        seen = self._store.resource_version
        while not self._stop.is_set():
            self._store.wait_for_change(seen, POLL_SECONDS)
            now = time.monotonic()
            with self._store.lock:
                head = self._store.resource_version
                pods = self._store.changes_after(PODS, seen) or []
                events = self._store.changes_after(EVENTS, seen) or []
            seen = head
            self.pods.extend(_pod_seen(now, c.obj) for c in pods if c.type != "DELETED")
            self.events.extend(
                EventSeen(
                    now,
                    c.obj["metadata"].get("namespace", ""),
                    str(c.obj.get("reason", "")),
                    str(c.obj.get("message", "")),
                )
                for c in events
                if c.type != "DELETED"
            )

    def __enter__(self) -> StoreRecorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def last_pod_ready(self, namespace: str) -> float | None:
        """When the last pod of the namespace turned Ready (its latest not-ready → ready)."""
        state: dict[str, bool] = {}
        turned: dict[str, float] = {}
        for seen in self.pods:
            if seen.namespace != namespace:
                continue
            if seen.ready and not state.get(seen.name, False):
                turned[seen.name] = seen.at
            state[seen.name] = seen.ready
        if not turned or not all(state.values()):
            return None
        return max(turned.values())

    def first_pod(self, shows: Callable[[PodSeen], bool]) -> float | None:
        return next((seen.at for seen in self.pods if shows(seen)), None)

    def first_event(self, shows: Callable[[EventSeen], bool]) -> float | None:
        return next((seen.at for seen in self.events if shows(seen)), None)
