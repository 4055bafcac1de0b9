"""A pod of a Deployment's newest ReplicaSet: ready, starting, or stuck in a way that will not
heal (evicted, unschedulable past its grace or too big for every node, a container that will
not start, a mount of something missing).  Pods are judged for their Deployment, so pod is not
a kind of the registry."""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, condition, status, uid_of
from asky_scripts.model.capacity import never_fits
from asky_scripts.readiness.accessors import container_statuses
from asky_scripts.readiness.containers import container_failure, exited_once, waiting_reasons
from asky_scripts.readiness.events import (
    event_count,
    event_message,
    event_time,
    events_about,
    latest_event,
)
from asky_scripts.readiness.images import on_minikube, pull_retry_reason
from asky_scripts.readiness.mounts import MISSING_MOUNT_GRACE_SECONDS, explain_mount, missing_mount
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Verdict, Waiting

UNSCHEDULABLE_GRACE_SECONDS = 15.0


def pod_verdict(
    pod: Obj,
    events: Sequence[Obj],
    stopwatch: Stopwatch,
    now: float,
    nodes: Sequence[Obj] = (),
) -> Verdict:
    """``nodes`` (their allocatable) lets a pod too big for every node fail at once instead of
    after the Unschedulable grace; without them that rule is simply skipped."""
    pod_status = status(pod)
    if pod_status.get("reason") == "Evicted":
        return Failed(
            f"Evicted — {pod_status.get('message', '')}",
            hint="the node ran short of a resource; free it or lower the pod's requests",
        )
    scheduled = condition(pod, "PodScheduled")
    if (
        scheduled
        and scheduled.get("status") == "False"
        and scheduled.get("reason") == "Unschedulable"
    ):
        return _unschedulable_verdict(
            pod, str(scheduled.get("message", "")), events, nodes, now, stopwatch
        )
    pod_events = events_about(events, pod)
    minikube = on_minikube(nodes)
    for cs in container_statuses(pod):
        failed = container_failure(pod, cs, pod_events, minikube)
        if failed:
            return failed
    mount = missing_mount(pod, pod_events)
    if mount:
        waited = stopwatch.seen_for(f"{uid_of(pod)}/FailedMount", now)
        if waited >= MISSING_MOUNT_GRACE_SECONDS:
            return Failed(
                explain_mount(pod, mount),
                hint="add the missing key or object to the manifests under config-maps/ (or the "
                "generated Secrets), or fix the reference in the Deployment's volumes",
            )
        return Waiting(f"ContainerCreating: {mount}")
    ready = condition(pod, "Ready")
    if ready and ready.get("status") == "True":
        return Ready("Ready")
    exited = exited_once(pod)
    if exited:
        return Waiting(exited, warning=exited)
    cause = probe_failure(pod, pod_events) or pull_retry_reason(pod, pod_events)
    if cause:
        return Waiting(cause)
    return Waiting(", ".join(waiting_reasons(pod)) or str(pod_status.get("phase") or "Pending"))


def _unschedulable_verdict(
    pod: Obj,
    message: str,
    events: Sequence[Obj],
    nodes: Sequence[Obj],
    now: float,
    stopwatch: Stopwatch,
) -> Verdict:
    """Busy nodes may free up (so wait the grace); a pod bigger than every node never fits,
    unless a cluster autoscaler is already adding a node for it."""
    too_big = never_fits(pod, nodes)
    scaling_up = latest_event(events, pod, reasons=("TriggeredScaleUp",))
    if too_big and f"Insufficient {too_big.resource}" in message and not scaling_up:
        return Failed(
            f"Unschedulable — {message.rstrip('. ')}; {too_big}",
            hint="lower the container's resources.requests (and limits) in the Deployment, "
            "or add a bigger node",
        )
    waited = stopwatch.seen_for(f"{uid_of(pod)}/Unschedulable", now)
    if waited > UNSCHEDULABLE_GRACE_SECONDS:
        return Failed(
            f"Unschedulable — {message}",
            hint="add capacity, or lower the Deployment's resources.requests or --replicas",
        )
    return Waiting(f"Unschedulable for {waited:.0f}s: {message}")


def probe_failure(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """The latest Unhealthy event of a running pod that is not Ready: the probe and its output."""
    if (condition(pod, "Ready") or {}).get("status") == "True":
        return ""
    unhealthy = [e for e in pod_events if e.get("reason") == "Unhealthy"]
    if not unhealthy:
        return ""
    latest = max(unhealthy, key=event_time)
    same = sum(event_count(e) for e in unhealthy if event_message(e) == event_message(latest))
    return event_message(latest).rstrip(": ") + (f" (x{same})" if same > 1 else "")
