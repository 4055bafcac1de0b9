"""Deployment → ReplicaSet → Pod, with the status fields and conditions kube-controller-manager
sets.

`kubectl rollout status`, `kubectl wait --for=condition=Available` and run.py all read these
fields, so their arithmetic (updated, ready, available, the Progressing reasons and the progress
deadline) follows the real deployment and replicaset controllers.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from typing import Any

from kubesim.controllers.base import (
    Context,
    condition,
    owned_by,
    owner_reference,
    pod_ready,
    set_condition,
    sooner,
)
from kubesim.names import random_suffix, template_hash
from kubesim.resources import by_plural
from kubesim.store import editable, timestamp

JSON = dict[str, Any]

DEPLOYMENTS = by_plural("deployments", "apps")
REPLICASETS = by_plural("replicasets", "apps")
PODS = by_plural("pods")
HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


def _active(pod: JSON) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and pod.get("status", {}).get(
        "phase"
    ) not in ("Succeeded", "Failed")


def _percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


class ReplicaSetController:
    """Keeps ``spec.replicas`` pods alive for each ReplicaSet and reports their readiness."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(self) -> float | None:
        """Returns how long until a ready pod next becomes available (minReadySeconds), if one
        will: the manager's wait is relative, and an absolute instant there meant a 0.5 s idle
        tick instead (replica_set.go re-queues the ReplicaSet for about minReadySeconds)."""
        store = self.ctx.store
        self._next_available: float | None = None
        pods_by_owner: dict[str, list[JSON]] = {}
        for pod in store.all(PODS):
            for ref in pod["metadata"].get("ownerReferences", []):
                pods_by_owner.setdefault(ref.get("uid", ""), []).append(pod)
        for replica_set in store.all(REPLICASETS):
            if replica_set["metadata"].get("deletionTimestamp"):
                continue
            pods = pods_by_owner.get(replica_set["metadata"]["uid"], [])
            self._scale(replica_set, [p for p in pods if _active(p)])
            self._report(replica_set)
        if self._next_available is None:
            return None
        return max(0.0, self._next_available - time.monotonic())

    def _scale(self, replica_set: JSON, active: list[JSON]) -> None:
        wanted = replica_set["spec"].get("replicas", 1)
        if len(active) < wanted:
            for _ in range(wanted - len(active)):
                self._create_pod(replica_set)
        elif len(active) > wanted:
            # Remove the pods that matter least first: not ready, then the newest.
            active.sort(key=lambda p: (pod_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in active[: len(active) - wanted]:
                self.ctx.delete(PODS, pod)
                self.ctx.events.record(
                    replica_set,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )

    def _create_pod(self, replica_set: JSON) -> None:
        template = replica_set["spec"]["template"]
        meta = replica_set["metadata"]
        name = f"{meta['name']}-{random_suffix()}"
        pod = {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {
                **editable(template.get("metadata", {})),
                "name": name,
                "namespace": meta["namespace"],
                "generateName": f"{meta['name']}-",
                "ownerReferences": [owner_reference(replica_set, "ReplicaSet", "apps/v1")],
                "generation": 1,
            },
            "spec": editable(template.get("spec", {})),
            "status": {"phase": "Pending"},
        }
        self.ctx.store.create(PODS, pod)
        self.ctx.events.record(
            replica_set,
            "Normal",
            "SuccessfulCreate",
            f"Created pod: {name}",
            "replicaset-controller",
        )

    def _report(self, replica_set: JSON) -> None:
        pods = [p for p in self.ctx.store.all(PODS) if owned_by(p, replica_set) and _active(p)]
        ready = sum(1 for p in pods if pod_ready(p))
        min_ready = float(replica_set["spec"].get("minReadySeconds", 0) or 0)
        available = sum(1 for p in pods if self._available(p, min_ready))
        status: JSON = {
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "observedGeneration": replica_set["metadata"].get("generation", 1),
        }
        if ready:
            status["readyReplicas"] = ready
        if available:
            status["availableReplicas"] = available
        if status != replica_set.get("status"):
            updated = editable(replica_set)
            updated["status"] = status
            self.ctx.update(REPLICASETS, updated)

    def _available(self, pod: JSON, min_ready: float) -> bool:
        """pkg/api/v1/pod IsPodAvailable: Ready, and for minReadySeconds (counted from the Ready
        condition's lastTransitionTime, a whole-second timestamp, as the controller counts)."""
        if not pod_ready(pod):
            return False
        if min_ready <= 0:
            return True
        since = condition(pod, "Ready") or {}
        try:
            became = datetime.strptime(
                str(since.get("lastTransitionTime")), "%Y-%m-%dT%H:%M:%SZ"
            ).replace(tzinfo=timezone.utc)
        except ValueError:
            return False
        left = became.timestamp() + min_ready - time.time()
        if left < 0:
            return True
        self._next_available = sooner(self._next_available, time.monotonic() + left + 0.01)
        return False


class DeploymentController:
    """Rolls Deployments out through ReplicaSets and sets their status like the real one."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._progress_at: dict[str, float] = {}

    def reconcile(self) -> float | None:
        next_check: float | None = None
        for deployment in self.ctx.store.all(DEPLOYMENTS):
            if deployment["metadata"].get("deletionTimestamp"):
                continue
            next_check = sooner(next_check, self._sync(deployment))
        return next_check

    def _owned_sets(self, deployment: JSON) -> list[JSON]:
        return [rs for rs in self.ctx.store.all(REPLICASETS) if owned_by(rs, deployment)]

    def _sync(self, deployment: JSON) -> float | None:
        spec = deployment["spec"]
        template = spec["template"]
        pod_hash = template_hash(template)
        sets = self._owned_sets(deployment)
        new = next(
            (rs for rs in sets if rs["metadata"]["labels"].get(HASH_LABEL) == pod_hash), None
        )
        olds = [rs for rs in sets if rs is not new]
        created = False
        if new is None:
            new = self._create_set(deployment, pod_hash, olds)
            created = True
        elif new["spec"].get("minReadySeconds", 0) != spec.get("minReadySeconds", 0):
            # deployment/sync.go getNewReplicaSet keeps the new ReplicaSet's minReadySeconds.
            copied = editable(new)
            copied["spec"]["minReadySeconds"] = spec.get("minReadySeconds", 0)
            if not copied["spec"]["minReadySeconds"]:
                del copied["spec"]["minReadySeconds"]
            new = self.ctx.update(REPLICASETS, copied)
        self._rollout(deployment, new, olds)
        return self._status(deployment, new, created)

    def _create_set(self, deployment: JSON, pod_hash: str, olds: list[JSON]) -> JSON:
        meta = deployment["metadata"]
        template = editable(deployment["spec"]["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = editable(deployment["spec"].get("selector", {}))
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        revision = 1 + max(
            (int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in olds),
            default=0,
        )
        name = f"{meta['name']}-{pod_hash}"
        rs_spec: JSON = {"replicas": 0, "selector": selector, "template": template}
        if deployment["spec"].get("minReadySeconds"):
            rs_spec["minReadySeconds"] = deployment["spec"]["minReadySeconds"]
        replica_set = {
            "kind": "ReplicaSet",
            "apiVersion": "apps/v1",
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(
                        deployment["spec"].get("replicas", 1)
                    ),
                    "deployment.kubernetes.io/max-replicas": str(
                        deployment["spec"].get("replicas", 1)
                    ),
                    REVISION: str(revision),
                },
                "ownerReferences": [owner_reference(deployment, "Deployment", "apps/v1")],
                "generation": 1,
            },
            "spec": rs_spec,
            "status": {"replicas": 0},
        }
        stored = self.ctx.store.create(REPLICASETS, replica_set)
        annotated = editable(deployment)
        annotated["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
        self.ctx.update(DEPLOYMENTS, annotated)
        return stored

    def _scale_set(self, deployment: JSON, replica_set: JSON, replicas: int) -> None:
        current = replica_set["spec"].get("replicas", 0)
        if current == replicas:
            return
        scaled = editable(replica_set)
        scaled["spec"]["replicas"] = replicas
        scaled["metadata"]["generation"] = replica_set["metadata"].get("generation", 1) + 1
        scaled["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(
            deployment["spec"].get("replicas", 1)
        )
        self.ctx.update(REPLICASETS, scaled)
        direction = "up" if replicas > current else "down"
        self.ctx.events.record(
            deployment,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {replica_set['metadata']['name']} "
            f"from {current} to {replicas}",
            "deployment-controller",
        )

    def _rollout(self, deployment: JSON, new: JSON, olds: list[JSON]) -> None:
        spec = deployment["spec"]
        desired = spec.get("replicas", 1)
        strategy = spec.get("strategy", {})
        if strategy.get("type") == "Recreate":
            for old in olds:
                self._scale_set(deployment, old, 0)
            if all(old.get("status", {}).get("replicas", 0) == 0 for old in olds):
                self._scale_set(deployment, new, desired)
            return
        rolling = strategy.get("rollingUpdate", {})
        surge = _percent(rolling.get("maxSurge", "25%"), desired, round_up=True)
        unavailable = _percent(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        old_total = sum(rs["spec"].get("replicas", 0) for rs in olds)
        room = desired + surge - old_total
        new_replicas = min(desired, max(new["spec"].get("replicas", 0), room))
        if not olds:
            new_replicas = desired
        self._scale_set(deployment, new, new_replicas)
        available = sum(rs.get("status", {}).get("availableReplicas", 0) for rs in [new, *olds])
        removable = max(available - (desired - unavailable), 0)
        for old in sorted(olds, key=lambda rs: rs["metadata"]["creationTimestamp"]):
            replicas = old["spec"].get("replicas", 0)
            unhealthy = replicas - old.get("status", {}).get("availableReplicas", 0)
            cut = min(replicas, unhealthy + removable)
            removable -= max(cut - unhealthy, 0)
            self._scale_set(deployment, old, replicas - cut)

    def _status(self, deployment: JSON, new: JSON, created: bool) -> float | None:
        spec = deployment["spec"]
        desired = spec.get("replicas", 1)
        sets = self._owned_sets(deployment)
        new = next((rs for rs in sets if rs["metadata"]["uid"] == new["metadata"]["uid"]), new)
        total = sum(rs.get("status", {}).get("replicas", 0) for rs in sets)
        updated = new.get("status", {}).get("replicas", 0)
        ready = sum(rs.get("status", {}).get("readyReplicas", 0) for rs in sets)
        available = sum(rs.get("status", {}).get("availableReplicas", 0) for rs in sets)
        now = timestamp()
        old_status = deployment.get("status", {})
        status: JSON = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "conditions": editable(old_status.get("conditions", [])),
        }
        for name, value in (
            ("replicas", total),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", max(desired - available, 0)),
        ):
            if value:
                status[name] = value
        strategy = spec.get("strategy", {})
        unavailable_allowed = 0
        if strategy.get("type") != "Recreate":
            unavailable_allowed = _percent(
                strategy.get("rollingUpdate", {}).get("maxUnavailable", "25%"), desired, False
            )
        if available >= desired - unavailable_allowed:
            set_condition(
                status,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now,
                update_time=True,
            )
        else:
            set_condition(
                status,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now,
                update_time=True,
            )
        name = new["metadata"]["name"]
        uid = deployment["metadata"]["uid"]
        complete = updated == desired and total == desired and available >= desired
        wait: float | None = None
        progressing = condition(deployment, "Progressing")
        before = (
            old_status.get("updatedReplicas"),
            old_status.get("availableReplicas"),
            old_status.get("readyReplicas"),
        )
        after = (
            status.get("updatedReplicas"),
            status.get("availableReplicas"),
            status.get("readyReplicas"),
        )
        if complete:
            set_condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                now,
                update_time=True,
            )
            self._progress_at.pop(uid, None)
        elif (
            progressing is not None
            and progressing.get("reason") == "ProgressDeadlineExceeded"
            and before == after
        ):
            pass
        elif created or progressing is None:
            set_condition(
                status,
                "Progressing",
                "True",
                "NewReplicaSetCreated",
                f'Created new replica set "{name}"',
                now,
                update_time=True,
            )
            self._progress_at[uid] = time.monotonic()
        else:
            if before != after or uid not in self._progress_at:
                self._progress_at[uid] = time.monotonic()
                set_condition(
                    status,
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{name}" is progressing.',
                    now,
                    update_time=True,
                )
            deadline = self.ctx.scenario.seconds(spec.get("progressDeadlineSeconds", 600))
            waited = time.monotonic() - self._progress_at[uid]
            if waited >= deadline:
                set_condition(
                    status,
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name}" has timed out progressing.',
                    now,
                    update_time=True,
                )
            else:
                wait = deadline - waited
        status["conditions"] = sorted(status["conditions"], key=lambda c: c["type"])
        if status != old_status:
            # The stored object, not this pass's copy: _create_set may have just annotated the
            # revision, which writing back the old copy would drop (the real Deployment keeps it).
            meta = deployment["metadata"]
            stored = self.ctx.store.get(DEPLOYMENTS, meta["namespace"], meta["name"])
            changed = editable(stored or deployment)
            changed["status"] = status
            self.ctx.update(DEPLOYMENTS, changed)
        return wait


class GarbageCollector:
    """Deletes dependents whose owner is gone (background propagation, kubectl's default),
    and finishes the Foreground and Orphan deletions whose finalizers the apiserver set."""

    def __init__(self, ctx: Context, resources: tuple[Any, ...]) -> None:
        self.ctx = ctx
        self._resources = resources

    def _dependents(self, owner: JSON) -> list[tuple[Any, JSON]]:
        uid = owner["metadata"]["uid"]
        return [
            (resource, obj)
            for resource in self._resources
            for obj in self.ctx.store.all(resource)
            if any(ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])
        ]

    def _release(self, resource: Any, owner: JSON, finalizer: str) -> None:
        released = editable(owner)
        released["metadata"]["finalizers"] = [
            f for f in owner["metadata"]["finalizers"] if f != finalizer
        ]
        self.ctx.update(resource, released)

    def _orphan(self, resource: Any, owner: JSON) -> None:
        uid = owner["metadata"]["uid"]
        for dependent_resource, dependent in self._dependents(owner):
            freed = editable(dependent)
            refs = [r for r in dependent["metadata"]["ownerReferences"] if r.get("uid") != uid]
            if refs:
                freed["metadata"]["ownerReferences"] = refs
            else:
                del freed["metadata"]["ownerReferences"]
            self.ctx.update(dependent_resource, freed)
        self._release(resource, owner, ORPHAN)

    def _foreground(self, resource: Any, owner: JSON) -> None:
        dependents = self._dependents(owner)
        if not dependents:
            self._release(resource, owner, FOREGROUND)
        for dependent_resource, dependent in dependents:
            # A dependent that owns others is itself deleted in the foreground.
            chained = FOREGROUND if self._dependents(dependent) else ""
            self.ctx.delete(dependent_resource, dependent, finalizer=chained)

    def reconcile(self) -> None:
        store = self.ctx.store
        alive: set[str] = set()
        for resource in self._resources:
            alive.update(o["metadata"]["uid"] for o in store.all(resource))
        for resource in self._resources:
            for obj in store.all(resource):
                meta = obj["metadata"]
                finalizers = meta.get("finalizers") or []
                if meta.get("deletionTimestamp") and ORPHAN in finalizers:
                    self._orphan(resource, obj)
                elif meta.get("deletionTimestamp") and FOREGROUND in finalizers:
                    self._foreground(resource, obj)
                refs = meta.get("ownerReferences")
                if refs and not any(ref.get("uid") in alive for ref in refs):
                    self.ctx.delete(resource, obj)
