"""Reading what readiness needs of an object beyond cluster/objects.py: what it owns, its
containers' statuses."""

from __future__ import annotations

from collections.abc import Iterable

from asky_scripts.cluster.objects import Obj, meta, status, uid_of


def owned_by(owner: Obj, objects: Iterable[Obj]) -> list[Obj]:
    """The objects whose ownerReferences name ``owner``."""
    uid = uid_of(owner)
    return [
        obj
        for obj in objects
        if any(ref.get("uid") == uid for ref in meta(obj).get("ownerReferences") or [])
    ]


def container_statuses(pod: Obj) -> list[Obj]:
    """The statuses of a pod's init containers, then of its containers."""
    return list(status(pod).get("initContainerStatuses") or []) + list(
        status(pod).get("containerStatuses") or []
    )
