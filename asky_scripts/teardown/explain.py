"""Says why something ``terminate.py`` deleted is still there, from the objects themselves.

A namespace stuck in Terminating is the most asked-about Kubernetes teardown problem, and the
answer is always in the cluster: the namespace controller's conditions, the objects still
inside with their finalizers, the pods still mounting a claim, the volume's phase.  terminate.sh
returned at once and left people to find this out; here each object still present gets a
FailureReport with the cause, the evidence and the likely fix.  Pure over the objects read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, spec, status
from asky_scripts.errors import FailureReport

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
_NAMESPACE_CONDITIONS = (
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
)
# "pods. has 1 resource instances" (core group: trailing dot), "deployments.apps has 2 ..."
_REMAINING = re.compile(r"([a-z0-9][a-z0-9.-]*?)\.? has \d+ resource instances")


def _ref(obj: Obj) -> str:
    return f"{kind_of(obj)}/{name_of(obj)}"


def finalizers_of(obj: Obj) -> list[str]:
    """Object finalizers, and for a namespace also its spec finalizers (``kubernetes``)."""
    found = list(meta(obj).get("finalizers") or [])
    if kind_of(obj) == "Namespace":
        found += list(spec(obj).get("finalizers") or [])
    return found


def custom_finalizers(objects: Iterable[Obj]) -> list[str]:
    """Finalizers no built-in controller removes on its own, so they may never go away."""
    return sorted(
        {
            f
            for obj in objects
            for f in finalizers_of(obj)
            if not f.startswith("kubernetes.io/") and f != "kubernetes"
        }
    )


def _true_conditions(namespace: Obj) -> list[Obj]:
    conditions = status(namespace).get("conditions") or []
    return [
        c
        for c in conditions
        if c.get("type") in _NAMESPACE_CONDITIONS and c.get("status") == "True"
    ]


def remaining_resources(namespace: Obj) -> list[str]:
    """The resources the namespace controller says are still inside, for one more ``get``."""
    found: list[str] = []
    for condition in _true_conditions(namespace):
        if condition.get("type") == "NamespaceContentRemaining":
            found += _REMAINING.findall(str(condition.get("message", "")))
    return sorted(set(found))


def claims_of(pod: Obj) -> list[str]:
    volumes = spec(pod).get("volumes") or []
    return [
        str(v["persistentVolumeClaim"].get("claimName"))
        for v in volumes
        if isinstance(v, dict) and isinstance(v.get("persistentVolumeClaim"), dict)
    ]


def _state(obj: Obj) -> str:
    """One line: the object, whether it is Terminating, and what still holds it."""
    parts: list[str] = []
    found = meta(obj)
    if found.get("deletionTimestamp"):
        text = f"Terminating since {found['deletionTimestamp']}"
        if kind_of(obj) == "Pod" and found.get("deletionGracePeriodSeconds") is not None:
            text += f" (grace period {found['deletionGracePeriodSeconds']}s)"
        parts.append(text)
    else:
        parts.append("not deleted yet")
    finalizers = finalizers_of(obj)
    if finalizers:
        parts.append(f"finalizers {', '.join(finalizers)}")
    claims = claims_of(obj) if kind_of(obj) == "Pod" else []
    if claims:
        parts.append(f"mounts claim {', '.join(claims)}")
    return f"{_ref(obj)}: " + "; ".join(parts)


def _pods_mounting(claim: Obj, pods: Sequence[Obj]) -> list[Obj]:
    name = meta(claim).get("name")
    return [p for p in pods if name in claims_of(p)]


def _finalizer_hint(objects: Sequence[Obj]) -> str:
    custom = custom_finalizers(objects)
    if not custom:
        return ""
    return (
        f"finalizer {', '.join(custom)} is removed by the controller that added it; if that "
        "controller is gone for good, run again with --force-finalize (what the finalizer "
        "guards is then not cleaned up)"
    )


_POD_HINT = (
    "a pod gets its terminationGracePeriodSeconds to stop; one on a node that is gone stays "
    "until `kubectl delete pod NAME -n NAMESPACE --force --grace-period=0`"
)


def _explain_namespace(namespace: Obj, evidence: Sequence[Obj]) -> FailureReport:
    conditions = _true_conditions(namespace)
    kinds = {c.get("type") for c in conditions}
    inside = [o for o in evidence if kind_of(o) != "Namespace"]
    pods = [o for o in inside if kind_of(o) == "Pod"]
    custom = _finalizer_hint(inside)
    if "NamespaceDeletionDiscoveryFailure" in kinds:
        cause = "Terminating: the namespace controller cannot list every API of the cluster"
        hint = "an aggregated API is unavailable: kubectl get apiservices (look for False)"
    elif custom:
        cause = "Terminating: objects inside wait for their finalizers"
        hint = custom
    elif pods:
        cause = f"Terminating: {len(pods)} pod{'s' * (len(pods) != 1)} still stopping"
        hint = _POD_HINT
    elif "NamespaceContentRemaining" in kinds or inside:
        cause = "Terminating: its content is still being deleted"
        hint = ""
    elif meta(namespace).get("deletionTimestamp"):
        cause = "Terminating: waiting for the namespace controller to finalize it"
        hint = "if it never finishes, run again with --force-finalize"
    else:
        cause = "not deleted yet"
        hint = ""
    return FailureReport(
        subject=_ref(namespace),
        cause=cause,
        hint=hint,
        conditions=tuple(
            f"{c.get('type')} ({c.get('reason')}): {c.get('message')}" for c in conditions
        ),
        states=tuple(_state(o) for o in inside),
    )


def _explain_claim(claim: Obj, pods: Sequence[Obj]) -> FailureReport:
    users = _pods_mounting(claim, pods)
    finalizers = finalizers_of(claim)
    if users and PVC_PROTECTION in finalizers:
        names = ", ".join(meta(p).get("name", "") for p in users)
        cause = f"still mounted by pod {names}; {PVC_PROTECTION} keeps it until they are gone"
        hint = _POD_HINT
    elif finalizers:
        cause = f"waiting for finalizers {', '.join(finalizers)}"
        hint = _finalizer_hint([claim])
    else:
        cause = "not deleted yet" if not meta(claim).get("deletionTimestamp") else "Terminating"
        hint = ""
    return FailureReport(
        subject=_ref(claim),
        cause=cause,
        hint=hint,
        states=(_state(claim), *(_state(p) for p in users)),
    )


def _explain_volume(volume: Obj) -> FailureReport:
    volume_spec = spec(volume)
    phase = status(volume).get("phase") or "unknown"
    policy = volume_spec.get("persistentVolumeReclaimPolicy") or "Delete"
    ref = volume_spec.get("claimRef") or {}
    cause = f"phase {phase}, reclaim policy {policy}"
    if ref:
        cause += f", claimed by {ref.get('namespace')}/{ref.get('name')}"
    hint = ""
    finalizers = finalizers_of(volume)
    if PV_PROTECTION in finalizers and phase == "Bound":
        cause += f"; {PV_PROTECTION} keeps it while it is Bound"
        hint = "it is released once its claim is gone (see the claim and namespace above)"
    elif finalizers:
        cause += f"; waiting for finalizers {', '.join(finalizers)}"
        hint = _finalizer_hint([volume])
    return FailureReport(subject=_ref(volume), cause=cause, hint=hint, states=(_state(volume),))


def explain(remaining: Sequence[Obj], evidence: Sequence[Obj]) -> tuple[FailureReport, ...]:
    """One report per object still present; ``evidence`` is what its namespace still holds."""
    pods = [o for o in evidence if kind_of(o) == "Pod"]
    reports: list[FailureReport] = []
    for obj in remaining:
        kind = kind_of(obj)
        if kind == "Namespace":
            reports.append(_explain_namespace(obj, evidence))
        elif kind == "PersistentVolumeClaim":
            reports.append(_explain_claim(obj, pods))
        elif kind == "PersistentVolume":
            reports.append(_explain_volume(obj))
        else:
            finalizers = finalizers_of(obj)
            reports.append(
                FailureReport(
                    subject=_ref(obj),
                    cause=_state(obj).partition(": ")[2],
                    hint=_finalizer_hint([obj])
                    or (_POD_HINT if kind == "Pod" and not finalizers else ""),
                )
            )
    return tuple(reports)
