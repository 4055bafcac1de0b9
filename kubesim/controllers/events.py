"""Events as the kubelet, scheduler and controllers record them (core/v1 ``Event``).

A repeated event bumps ``count`` and ``lastTimestamp`` instead of adding an object, the way
client-go's event correlator aggregates them; that is what ``kubectl describe`` and
``kubectl get events`` show, and what run.py's failure report de-duplicates.
"""

from __future__ import annotations

import time
from typing import Any

from kubesim.resources import by_plural
from kubesim.store import Store, editable, timestamp

JSON = dict[str, Any]

EVENTS = by_plural("events")
NAMESPACES = by_plural("namespaces")


class EventRecorder:
    def __init__(self, store: Store, host: str) -> None:
        self._store = store
        self._host = host
        self._names: dict[tuple[str, str, str, str], tuple[str, str]] = {}
        self._last_nanos = 0

    def record(
        self,
        obj: JSON,
        event_type: str,
        reason: str,
        message: str,
        component: str,
        field_path: str = "",
    ) -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        home = self._store.get(NAMESPACES, "", namespace)
        if home is None or home["metadata"].get("deletionTimestamp"):
            return  # the apiserver refuses new content in a namespace being deleted
        key = (meta["uid"], reason, message, field_path)
        now = timestamp()
        known = self._names.get(key)
        if known is not None:
            current = self._store.get(EVENTS, *known)
            if current is not None:
                bumped = editable(current)
                bumped["count"] = current.get("count", 1) + 1
                bumped["lastTimestamp"] = now
                self._store.replace(EVENTS, bumped)
                return
        # client-go names an event "<object>.<UnixNano in hex>": listed in key order, an
        # object's events come out oldest first, as describe and get events show them.
        self._last_nanos = max(time.time_ns(), self._last_nanos + 1)
        name = f"{meta['name']}.{self._last_nanos:x}"
        involved: JSON = {
            "kind": obj.get("kind", ""),
            "name": meta["name"],
            "uid": meta["uid"],
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if meta.get("namespace"):
            involved["namespace"] = meta["namespace"]
        if field_path:
            involved["fieldPath"] = field_path
        source: JSON = {"component": component}
        if component == "kubelet":
            source["host"] = self._host
        self._store.create(
            EVENTS,
            {
                "kind": "Event",
                "apiVersion": "v1",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": event_type,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": self._host if component == "kubelet" else "",
            },
        )
        self._names[key] = (namespace, name)
