"""Volume mounts naming a ConfigMap, Secret or key that does not exist.

run.py applied every ConfigMap and Secret in earlier stages, so a mount still naming a missing
one after ``MISSING_MOUNT_GRACE_SECONDS`` is a mistake in the manifests, not a kubelet cache
catching up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, field, spec
from asky_scripts.readiness.accessors import container_statuses
from asky_scripts.readiness.events import event_message, event_time

MISSING_MOUNT_GRACE_SECONDS = 1.0

_MOUNT_FAILURE = re.compile(
    r'MountVolume\.SetUp failed for volume "(?P<volume>[^"]*)" : (?P<error>.*)'
)
_MISSING_OBJECT = re.compile(r'(?P<kind>configmap|secret) "(?P<name>[^"]*)" not found')
_MISSING_KEY = re.compile(r"references non-existent (?P<kind>config|secret) key: (?P<key>\S+)")
_KIND_NAME = {"configmap": "ConfigMap", "secret": "Secret", "config": "ConfigMap"}


def missing_mount(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """The kubelet's latest FailedMount naming a missing ConfigMap, Secret or key, while the
    pod has not started (an old event of a pod that since mounted says nothing)."""
    started = any(
        "running" in field(cs, "state") or "terminated" in field(cs, "state")
        for cs in container_statuses(pod)
    )
    if started:
        return ""
    failed = [
        e
        for e in pod_events
        if e.get("reason") == "FailedMount"
        and (_MISSING_OBJECT.search(event_message(e)) or _MISSING_KEY.search(event_message(e)))
    ]
    return event_message(max(failed, key=event_time)) if failed else ""


def explain_mount(pod: Obj, message: str) -> str:
    """A FailedMount message as the object to fix: which Secret or ConfigMap (or which of its
    keys) is missing, and the volume that mounts it.  The kubelet's key error does not name the
    object; the pod's volume spec does."""
    mount = _MOUNT_FAILURE.search(message)
    if not mount:
        return message
    volume_name, error = mount.group("volume"), mount.group("error")
    missing = [
        f"{_KIND_NAME[m.group('kind')]} {m.group('name')} does not exist"
        for m in _MISSING_OBJECT.finditer(error)
    ]
    for m in _MISSING_KEY.finditer(error):
        kind = _KIND_NAME[m.group("kind")]
        owners = _sources_with_key(pod, volume_name, kind, m.group("key"))
        where = f"{kind} {' or '.join(owners)}" if owners else f"the {kind}"
        missing.append(f"{where} has no key {m.group('key')}")
    if not missing:
        return message
    return f'{"; ".join(missing)}, needed by volume "{volume_name}" (FailedMount)'


def _sources_with_key(pod: Obj, volume_name: str, kind: str, key: str) -> list[str]:
    """The Secrets or ConfigMaps a volume (plain or projected) takes ``key`` from."""
    source_field = "secret" if kind == "Secret" else "configMap"
    for volume in spec(pod).get("volumes") or []:
        if volume.get("name") != volume_name:
            continue
        sources = [volume.get(source_field)] + [
            src.get(source_field) for src in field(volume, "projected").get("sources") or []
        ]
        return [
            str(src.get("secretName") or src.get("name"))
            for src in sources
            if src and any(item.get("key") == key for item in src.get("items") or [])
        ]
    return []
