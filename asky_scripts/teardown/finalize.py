"""``terminate.py --force-finalize``: unblocks a namespace stuck on finalizers nobody removes.

Only inside our namespace and only on objects already being deleted; the protection finalizers
of claims and volumes (``kubernetes.io/...``) are left alone, they lift once no pod uses them.
An empty namespace still Terminating means its controller is stuck: it is finalized directly,
as ``kubectl replace --raw .../finalize`` does.  Each change is said as a warning, because what
a finalizer guarded is then not cleaned up.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from asky_scripts.cluster.kinds import KINDS, resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, spec
from asky_scripts.teardown.explain import custom_finalizers


def strip_finalizers(
    kubectl: Kubectl,
    namespace: str,
    remaining: Sequence[Obj],
    evidence: Sequence[Obj],
    warn: Callable[[str], None],
) -> bool:
    """Drops the finalizers no built-in controller will remove; returns whether anything
    changed (then the next tick shows the effect, and nothing is explained from stale objects)."""
    changed = False
    for obj in [*evidence, *(o for o in remaining if kind_of(o) != "Namespace")]:
        custom = custom_finalizers([obj])
        if not meta(obj).get("deletionTimestamp") or not custom or kind_of(obj) not in KINDS:
            continue
        kept = [f for f in meta(obj).get("finalizers") or [] if f not in custom]
        patch = json.dumps({"metadata": {"finalizers": kept or None}})
        ref = f"{resource(kind_of(obj))}/{name_of(obj)}"
        kubectl.run(["patch", ref, "-n", namespace, "--type=merge", "-p", patch])
        warn(
            f"--force-finalize: removed finalizer {', '.join(custom)} from "
            f"{kind_of(obj)}/{name_of(obj)}; whatever it guarded was not cleaned up"
        )
        changed = True
    for obj in remaining:
        if kind_of(obj) == "Namespace" and not evidence:
            changed = _finalize_namespace(kubectl, obj, warn) or changed
    return changed


def _finalize_namespace(kubectl: Kubectl, namespace: Obj, warn: Callable[[str], None]) -> bool:
    """An empty namespace still Terminating: its controller is stuck; finalize it directly."""
    if not spec(namespace).get("finalizers"):
        return False
    body = {**namespace, "spec": {**spec(namespace), "finalizers": []}}
    name = name_of(namespace)
    kubectl.run(
        ["replace", "--raw", f"/api/v1/namespaces/{name}/finalize", "-f", "-"],
        stdin=json.dumps(body),
    )
    warn(f"--force-finalize: finalized empty namespace {name} past its stuck controller")
    return True
