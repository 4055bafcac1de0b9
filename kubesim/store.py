"""The object store: what etcd is to a real apiserver, with one global resourceVersion.

Stored objects are never mutated in place: every write stores a new dict.  Readers may therefore
keep and serialise what they got without copying, and a watch event can share the object it
reports.  Writers copy (``editable``) before changing anything.
"""

from __future__ import annotations

import bisect
import copy
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubesim.errors import already_exists, not_found
from kubesim.resources import Resource

JSON = dict[str, Any]
Key = tuple[str, str]

# How many changes a watch may lag behind before it is told its resourceVersion is too old.
HISTORY_LENGTH = 50_000


def timestamp() -> str:
    """RFC 3339 with seconds, as metadata timestamps are."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def editable(obj: JSON) -> JSON:
    return copy.deepcopy(obj)


def key_of(obj: JSON) -> Key:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


def _change_rv(change: Change) -> int:
    return change.resource_version


@dataclass(frozen=True)
class Change:
    """One entry of the change history that watches replay."""

    resource: Resource
    type: str  # ADDED, MODIFIED, DELETED
    obj: JSON
    resource_version: int
    # The version before this change: a filtered watch needs it to tell an object that
    # leaves its selection (DELETED) from one that was never in it.
    previous: JSON | None = None


class Store:
    """Objects by resource and (namespace, name), plus the history watches read from."""

    def __init__(self, history_length: int = HISTORY_LENGTH) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[Resource, dict[Key, JSON]] = {}
        self._history: list[Change] = []
        self._history_length = history_length
        self._trimmed = False
        self._resource_version = 1000

    @property
    def resource_version(self) -> int:
        return self._resource_version

    def _bucket(self, resource: Resource) -> dict[Key, JSON]:
        return self._objects.setdefault(resource, {})

    def _record(
        self, resource: Resource, change_type: str, obj: JSON, previous: JSON | None = None
    ) -> None:
        self._history.append(Change(resource, change_type, obj, self._resource_version, previous))
        if len(self._history) > 2 * self._history_length:
            del self._history[: self._history_length]
            self._trimmed = True
        self.changed.notify_all()

    def _stamp(self, obj: JSON) -> None:
        self._resource_version += 1
        obj["metadata"]["resourceVersion"] = str(self._resource_version)

    def get(self, resource: Resource, namespace: str, name: str) -> JSON | None:
        with self.lock:
            return self._bucket(resource).get((namespace, name))

    def require(self, resource: Resource, namespace: str, name: str) -> JSON:
        found = self.get(resource, namespace, name)
        if found is None:
            raise not_found(resource, name)
        return found

    def list_objects(self, resource: Resource, namespace: str = "") -> tuple[list[JSON], int]:
        """Objects sorted by namespace and name (as etcd's key order gives them)."""
        with self.lock:
            bucket = self._bucket(resource)
            keys = sorted(k for k in bucket if not namespace or k[0] == namespace)
            return [bucket[k] for k in keys], self._resource_version

    def all(self, resource: Resource) -> Iterator[JSON]:
        """Every stored object of a resource, for controllers (hold ``lock`` while iterating)."""
        yield from list(self._bucket(resource).values())

    def create(self, resource: Resource, obj: JSON) -> JSON:
        """Store a new object, filling uid, resourceVersion and creationTimestamp."""
        with self.lock:
            key = key_of(obj)
            if key in self._bucket(resource):
                raise already_exists(resource, key[1])
            meta = obj["metadata"]
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", timestamp())
            self._stamp(obj)
            self._bucket(resource)[key] = obj
            self._record(resource, "ADDED", obj)
            return obj

    def replace(self, resource: Resource, obj: JSON) -> JSON:
        """Store a new version of an existing object; an identical one is not a change."""
        with self.lock:
            key = key_of(obj)
            current = self._bucket(resource).get(key)
            if current is None:
                raise not_found(resource, key[1])
            obj["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            if obj == current:
                return current
            self._stamp(obj)
            self._bucket(resource)[key] = obj
            self._record(resource, "MODIFIED", obj, current)
            return obj

    def remove(self, resource: Resource, namespace: str, name: str) -> JSON:
        """Delete an object for good (finalizers are the caller's business)."""
        with self.lock:
            current = self._bucket(resource).pop((namespace, name), None)
            if current is None:
                raise not_found(resource, name)
            gone = editable(current)
            self._stamp(gone)
            self._record(resource, "DELETED", gone, current)
            return gone

    @property
    def oldest_watchable(self) -> int:
        """The oldest resourceVersion a watch can still start from (0: all history is kept)."""
        with self.lock:
            if not self._trimmed or not self._history:
                return 0
            return self._history[0].resource_version - 1

    def changes_after(self, resource: Resource, resource_version: int) -> list[Change] | None:
        """Changes to ``resource`` newer than ``resource_version``; None if history lost them."""
        with self.lock:
            history = self._history
            if resource_version < self.oldest_watchable:
                return None
            start = bisect.bisect_right(history, resource_version, key=_change_rv)
            return [c for c in history[start:] if c.resource is resource]

    def wait_for_change(self, after: int, timeout: float) -> int:
        """Block until the store moves past ``after`` or ``timeout`` seconds pass."""
        with self.changed:
            if self._resource_version <= after:
                self.changed.wait(timeout)
            return self._resource_version
