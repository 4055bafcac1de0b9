"""A Deployment is ready when its controller reports the new ReplicaSet rolled out and available.

Only the pods of its newest ReplicaSet are judged (an old one's crashing pods are on their way
out); one of them failing in a way that will not heal fails the Deployment at once, and a stalled
rollout or a refused pod creation fails it too.  Its evidence is that ReplicaSet and its pods.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from asky_scripts.cluster.objects import Obj, annotations_of, condition, name_of, spec, status
from asky_scripts.readiness import base
from asky_scripts.readiness.accessors import owned_by
from asky_scripts.readiness.pod import pod_verdict
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Verdict, Waiting

_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")


def newest_replicaset(deployment: Obj, replicasets: Iterable[Obj]) -> Obj | None:
    """The ReplicaSet of the Deployment's current revision: only its pods say anything new."""
    owned = owned_by(deployment, replicasets)

    def revision(rs: Obj) -> int:
        return int(annotations_of(rs).get("deployment.kubernetes.io/revision") or 0)

    return max(owned, key=revision) if owned else None


def deployment_verdict(
    deployment: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    events: Sequence[Obj],
    *,
    stopwatch: Stopwatch,
    now: float,
    nodes: Sequence[Obj] = (),
) -> Verdict:
    gate = base.lifecycle_gate(deployment)
    if gate:
        return gate
    rs = newest_replicaset(deployment, replicasets)
    pod_waits: list[str] = []
    warnings: list[str] = []
    for pod in sorted(owned_by(rs, pods) if rs else [], key=name_of):
        verdict = pod_verdict(pod, events, stopwatch, now, nodes)
        if isinstance(verdict, Failed):
            return verdict  # the pod is named in the failure report, the cause stays one line
        if isinstance(verdict, Waiting):
            pod_waits.append(verdict.reason)
            if verdict.warning:
                warnings.append(f"pod {name_of(pod)}: {verdict.warning}")
    progressing = condition(deployment, "Progressing")
    if progressing and (
        progressing.get("reason") == "ProgressDeadlineExceeded"
        or progressing.get("status") == "False"
    ):
        return Failed(
            f"rollout stalled: {progressing.get('message', progressing.get('reason', ''))}",
            hint="see the pod states and events below",
        )
    replica_failure = condition(deployment, "ReplicaFailure")
    if replica_failure and replica_failure.get("status") == "True":
        return Failed(
            f"cannot create pods: {replica_failure.get('message', '')}",
            hint="a quota, LimitRange or admission policy refuses the pods",
        )
    return _rollout_verdict(deployment, progressing, pod_waits, warnings)


def _rollout_verdict(
    deployment: Obj, progressing: Obj | None, pod_waits: list[str], warnings: list[str]
) -> Verdict:
    """Ready once the status counts and conditions say so; else how far it is and why."""
    wanted = int(spec(deployment).get("replicas", 1))
    if wanted == 0:
        return Ready("scaled to 0")
    counts = status(deployment)
    updated = int(counts.get("updatedReplicas") or 0)
    available = int(counts.get("availableReplicas") or 0)
    ready = int(counts.get("readyReplicas") or 0)
    total = int(counts.get("replicas") or 0)
    available_cond = condition(deployment, "Available") or {}
    if (
        updated == wanted == total
        and available >= updated
        and ready >= wanted
        and available_cond.get("status") == "True"
        and (progressing or {}).get("reason") == "NewReplicaSetAvailable"
    ):
        return Ready(f"{ready}/{wanted} ready")
    reason = f"{ready}/{wanted} ready"
    if ready >= wanted and available < wanted:
        min_ready = int(spec(deployment).get("minReadySeconds") or 0)
        reason += f", {available} available" + (
            f" (a pod counts as available once Ready for {min_ready}s, minReadySeconds)"
            if min_ready
            else ""
        )
    # The first pod's cause, once: the pods of one template fail alike, at other addresses.
    causes: dict[str, str] = {}
    for cause in pod_waits:
        causes.setdefault(_ADDRESS.sub("ADDRESS", cause), cause)
    if causes:
        first = next(iter(causes.values()))
        reason += f": {first}" + (f" (+{len(causes) - 1} more)" if len(causes) > 1 else "")
    return Waiting(reason, "; ".join(dict.fromkeys(warnings)))


def workload_evidence(
    deployment: Obj, observed: base.Observed, related: Sequence[Obj]
) -> base.Evidence:
    """The Deployment with ``related``, its newest ReplicaSet, and that ReplicaSet's pods."""
    rs = newest_replicaset(deployment, observed.of("ReplicaSet"))
    if not rs:
        return base.Evidence(deployment, tuple(related))
    return base.Evidence(deployment, (*related, rs), owned_by(rs, observed.of("Pod")))


class DeploymentReadiness(base.KindReadiness):
    judged_first = True
    shown_in_summary = True
    explained_on_timeout = True

    def watches(self, setting: base.Setting) -> tuple[str, ...]:
        return ("ReplicaSet", "Pod", "Event")

    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        return deployment_verdict(
            obj,
            observed.of("ReplicaSet"),
            observed.of("Pod"),
            observed.of("Event"),
            stopwatch=context.stopwatch,
            now=context.now,
            nodes=context.setting.nodes,
        )

    def evidence(self, subject: Obj, observed: base.Observed) -> base.Evidence:
        return workload_evidence(subject, observed, ())
