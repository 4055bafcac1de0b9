"""What every controller shares: the store, the scenario, events and a way to write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubesim.controllers.events import EventRecorder
from kubesim.resources import Resource
from kubesim.scenario import Scenario
from kubesim.store import Store, editable, timestamp

JSON = dict[str, Any]


@dataclass
class Context:
    store: Store
    scenario: Scenario
    events: EventRecorder

    def update(self, resource: Resource, obj: JSON) -> JSON:
        """Store a controller's change; an object whose last finalizer went is removed."""
        stored = self.store.replace(resource, obj)
        meta = stored["metadata"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and resource.kind
            not in (
                "Pod",
                "Namespace",
            )
        ):
            self.store.remove(resource, meta.get("namespace", ""), meta["name"])
        return stored

    def delete(self, resource: Resource, obj: JSON, finalizer: str = "") -> None:
        """Delete as the garbage collector does: finalizers and pod grace are respected;
        ``finalizer`` is a propagation finalizer to add (foregroundDeletion)."""
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return
        if finalizer:
            obj = editable(obj)
            obj["metadata"].setdefault("finalizers", []).append(finalizer)
        if (
            resource.kind == "Pod"
            or obj["metadata"].get("finalizers")
            or resource.kind == "Namespace"
        ):
            doomed = editable(obj)
            doomed["metadata"]["deletionTimestamp"] = timestamp()
            if resource.kind == "Pod":
                grace = obj.get("spec", {}).get("terminationGracePeriodSeconds", 30)
                doomed["metadata"]["deletionGracePeriodSeconds"] = grace
            self.store.replace(resource, doomed)
            return
        self.store.remove(resource, meta.get("namespace", ""), meta["name"])


def sooner(first: float | None, second: float | None) -> float | None:
    """The earlier of two wake-up times, None meaning "no need to wake up"."""
    if first is None:
        return second
    return first if second is None else min(first, second)


def condition(obj: JSON, kind: str) -> JSON | None:
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def set_condition(
    status: JSON,
    kind: str,
    value: str,
    reason: str = "",
    message: str = "",
    now: str = "",
    *,
    probe_times: bool = False,
    update_time: bool = False,
) -> None:
    """Set a condition, keeping lastTransitionTime unless the status value changes."""
    conditions: list[JSON] = status.setdefault("conditions", [])
    current = next((c for c in conditions if c.get("type") == kind), None)
    entry: JSON = {"type": kind, "status": value}
    if probe_times:
        entry["lastProbeTime"] = None
    if update_time:
        same = (
            current is not None
            and current.get("reason") == reason
            and current.get("message") == message
            and current.get("status") == value
        )
        entry["lastUpdateTime"] = current.get("lastUpdateTime", now) if same and current else now
    if current is not None and current.get("status") == value:
        entry["lastTransitionTime"] = current.get("lastTransitionTime", now)
    else:
        entry["lastTransitionTime"] = now
    if reason:
        entry["reason"] = reason
    if message:
        entry["message"] = message
    if current is None:
        conditions.append(entry)
    else:
        conditions[conditions.index(current)] = entry


def owned_by(obj: JSON, owner: JSON) -> bool:
    uid = owner["metadata"]["uid"]
    return any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences", []))


def owner_reference(owner: JSON, kind: str, api_version: str) -> JSON:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_ready(pod: JSON) -> bool:
    """The pod's Ready condition is True: what endpoints and ReplicaSets count."""
    ready = condition(pod, "Ready")
    return ready is not None and ready.get("status") == "True"
