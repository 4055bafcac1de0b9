"""Stamps kubesim's store changes with ``time.monotonic()`` as they happen.

The store keeps a history of changes with resourceVersions but no clock, and its metadata
timestamps have whole-second resolution.  A thread woken by the store's own condition variable
reads each new change of Pods, Deployments, EndpointSlices and Events and notes the instant,
which is all the figures need: when the last pod became Ready, when each Deployment became
Available (figure 1's settle time) and each Service had a ready endpoint, and when the first pod
status (or event) showed a failure's cause.  Wake-up lag
under the GIL is a few milliseconds at most and only makes our latencies look slightly worse,
never better.
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
DEPLOYMENTS = by_plural("deployments", "apps")
SLICES = by_plural("endpointslices", "discovery.k8s.io")
SERVICE_NAME = "kubernetes.io/service-name"
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
class FlagSeen:
    """One version of an object reduced to one yes/no: a Deployment's Available condition, or
    whether a Service's EndpointSlice (``name`` is the Service's) lists a ready endpoint."""

    at: float
    namespace: str
    name: str
    on: bool


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


def _deployment_seen(at: float, deployment: dict[str, Any]) -> FlagSeen:
    available = any(
        cond.get("type") == "Available" and cond.get("status") == "True"
        for cond in deployment.get("status", {}).get("conditions", [])
    )
    meta = deployment["metadata"]
    return FlagSeen(at, meta.get("namespace", ""), meta["name"], available)


def _slice_seen(at: float, endpoint_slice: dict[str, Any]) -> FlagSeen:
    ready = any(
        (e.get("conditions") or {}).get("ready") for e in endpoint_slice.get("endpoints") or []
    )
    meta = endpoint_slice["metadata"]
    service = (meta.get("labels") or {}).get(SERVICE_NAME, meta["name"])
    return FlagSeen(at, meta.get("namespace", ""), service, ready)


def _turned_true(seen: list[tuple[str, bool, float]]) -> dict[str, float]:
    """Per name, when its flag last turned from false (or unseen) to true."""
    state: dict[str, bool] = {}
    turned: dict[str, float] = {}
    for name, flag, at in seen:
        if flag and not state.get(name, False):
            turned[name] = at
        state[name] = flag
    return {name: at for name, at in turned.items() if state[name]}


def _last_on(seen: list[FlagSeen], namespace: str) -> float | None:
    """When the last object of the namespace turned on, None if one is not on at the end."""
    flags = [(s.name, s.on, s.at) for s in seen if s.namespace == namespace]
    on = _turned_true(flags)
    if not flags or {name for name, _, _ in flags} - on.keys():
        return None
    return max(on.values())


class StoreRecorder:
    """``with StoreRecorder(sim) as recorder:`` for the length of one contender's run."""

    def __init__(self, sim: KubeSim) -> None:
        self._store = sim.cluster.store
        self.pods: list[PodSeen] = []
        self.deployments: list[FlagSeen] = []
        self.endpoints: list[FlagSeen] = []
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
                deployments = self._store.changes_after(DEPLOYMENTS, seen) or []
                slices = self._store.changes_after(SLICES, seen) or []
                events = self._store.changes_after(EVENTS, seen) or []
            seen = head
            self.pods.extend(_pod_seen(now, c.obj) for c in pods if c.type != "DELETED")
            self.deployments.extend(
                _deployment_seen(now, c.obj) for c in deployments if c.type != "DELETED"
            )
            self.endpoints.extend(_slice_seen(now, c.obj) for c in slices if c.type != "DELETED")
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

    def last_available(self, namespace: str) -> float | None:
        """When the last Deployment of the namespace became Available (None if one is not)."""
        return _last_on(self.deployments, namespace)

    def last_endpoint_ready(self, namespace: str) -> float | None:
        """When the last Service of the namespace got a ready endpoint (None if one has not)."""
        return _last_on(self.endpoints, namespace)

    def settle_shift(self, namespace: str, min_ready: dict[str, float]) -> float | None:
        """Seconds to add to this run's wall for its settle time to be exactly the manifests'
        ``minReadySeconds`` (``min_ready``, per Deployment).

        A pod counts as available ``minReadySeconds`` after its Ready condition's
        ``lastTransitionTime``, a whole-second stamp, so the settle a run really gets is
        0-1 s shorter than written, at random.  The shift is (latest of each Deployment's
        last pod Ready + its minReadySeconds) minus (latest Deployment Available): adding it
        replaces the drawn settle by the written one, so runs compare without that lottery.
        None when a Deployment or its pods were never seen ready.
        """
        ready = _turned_true(
            [(s.name, s.ready, s.at) for s in self.pods if s.namespace == namespace]
        )
        available = _turned_true(
            [(s.name, s.on, s.at) for s in self.deployments if s.namespace == namespace]
        )
        due = []
        for name, seconds in min_ready.items():
            pods = [at for pod, at in ready.items() if pod.startswith(f"{name}-")]
            if not pods or name not in available:
                return None
            due.append(max(pods) + seconds)
        if not due:
            return None
        return max(due) - max(available[name] for name in min_ready)

    def first_pod(self, shows: Callable[[PodSeen], bool]) -> float | None:
        return next((seen.at for seen in self.pods if shows(seen)), None)

    def first_event(self, shows: Callable[[EventSeen], bool]) -> float | None:
        return next((seen.at for seen in self.events if shows(seen)), None)
