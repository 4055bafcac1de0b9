"""Reads what run.py left in the cluster, deletes it, and waits until it is really gone.

terminate.sh fired ``kubectl delete`` and returned while the namespace was still Terminating, so
the next run.sh failed on it. Here the wait is a tenacity loop (polling.py's cadence, like
run.py's) with one ``kubectl get`` per tick covering every object being waited for; an object is
gone when it is NotFound or when the name now belongs to a new object with another UID. After a few
seconds the loop also reads what still holds things and reports it, and on timeout the same
explanation ends the run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.access import access_problems
from asky_scripts.cluster.kinds import KINDS, resource
from asky_scripts.cluster.kubectl import Kubectl, RetryNotice
from asky_scripts.errors import FailureReport, StageTimeoutError
from asky_scripts.model.ownership import is_ours
from asky_scripts.teardown.explain import custom_finalizers, explain, remaining_resources
from asky_scripts.teardown.plan import (
    NAMESPACED_KINDS,
    Found,
    Target,
    TeardownPlan,
    refuse_if_denied,
    selector,
)

Obj = dict[str, Any]

#: Quiet for this long: most teardowns finish before anything needs explaining.
EXPLAIN_AFTER_SECONDS = 3.0
#: Then the holders are read again at most this often; a report is shown only when it changes.
EXPLAIN_EVERY_SECONDS = 5.0


class TeardownProgress(Protocol):
    """What the teardown tells the person watching; the CLI decides text or JSON lines."""

    def stage_started(self, stage: str) -> None: ...

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None: ...

    def note(self, stage: str, message: str, *, warning: bool = False) -> None: ...

    def retry(self, notice: RetryNotice) -> None: ...

    def gone(self, target: Target, elapsed: float) -> None: ...

    def holding(self, reports: tuple[FailureReport, ...]) -> None: ...


def read_namespace(kubectl: Kubectl, namespace: str) -> Obj | None:
    """The namespace, read first: whose it is decides whether anything may be written (the
    lock) before the rest is read."""
    found = kubectl.get_items(["get", f"namespaces/{namespace}", "--ignore-not-found"])
    return found[0] if found else None


# What a default teardown deletes: the namespace (with everything in it) and our volume.
DEFAULT_DELETES = ("namespaces", "persistentvolumes")


def discover(kubectl: Kubectl, namespace: str, namespace_obj: Obj | None) -> Found:
    """Everything else the plan needs, read once and at the same time: our volumes, the
    namespace's content, and whether RBAC lets us delete what a default teardown deletes."""
    kinds = [resource(kind) for kind in NAMESPACED_KINDS]
    with ThreadPoolExecutor(max_workers=2) as pool:
        listed = pool.submit(
            kubectl.get_items, ["get", "persistentvolumes", "-l", selector(namespace)]
        )
        asked = pool.submit(access_problems, kubectl, namespace, DEFAULT_DELETES, "delete")
        contents = (
            kubectl.get_items(["get", ",".join(kinds), "-n", namespace])
            if namespace_obj is not None
            else []
        )
        volumes = listed.result()
        denied = asked.result()
    ours = {v["metadata"]["name"] for v in volumes}
    claimed = sorted(
        {
            str(o["spec"]["volumeName"])
            for o in contents
            if o.get("kind") == "PersistentVolumeClaim"
            and is_ours(o, namespace)
            and (o.get("spec") or {}).get("volumeName") not in (None, "", *ours)
        }
    )
    claimed_volumes = (
        kubectl.get_items(
            ["get", *(f"persistentvolumes/{name}" for name in claimed), "--ignore-not-found"]
        )
        if claimed
        else []
    )
    return Found(
        namespace,
        namespace_obj,
        tuple(volumes),
        tuple(contents),
        tuple(claimed_volumes),
        denied,
        DEFAULT_DELETES,
    )


def refuse_unless_allowed(kubectl: Kubectl, plan: TeardownPlan, found: Found) -> None:
    """Refuse before the first delete unless RBAC allows every one of them; kinds discovery
    did not ask about (a ``--keep-data`` plan deletes kind by kind) are asked now."""
    needed = {resource(t.kind) for t in plan.delete}
    unasked = sorted(needed - set(found.permissions_checked))
    denied = dict(found.denied)
    if unasked:
        denied.update(access_problems(kubectl, plan.namespace, unasked, "delete"))
    refuse_if_denied(plan, denied)


def _key(obj: Obj) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    return str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", ""))


class Teardown:
    """Deletes one plan's objects, then waits until they are gone."""

    def __init__(
        self,
        kubectl: Kubectl,
        plan: TeardownPlan,
        progress: TeardownProgress,
        *,
        timeout: float,
        force_finalize: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kubectl = kubectl
        self._plan = plan
        self._progress = progress
        self._timeout = timeout
        self._force_finalize = force_finalize
        self._clock = clock
        self._deleted_at = clock()

    def delete(self) -> None:
        """One ``kubectl delete`` for every target; ``--wait=false`` because we wait ourselves.
        (``refuse_if_denied`` has checked the permissions first.)"""
        self._deleted_at = self._clock()
        if not self._plan.delete:
            return
        self._kubectl.run(
            [
                "delete",
                *(t.resource_ref for t in self._plan.delete),
                "-n",
                self._plan.namespace,
                "--wait=false",
                "--ignore-not-found",
            ]
        )

    def _observe_args(self, targets: Sequence[Target]) -> list[str]:
        """One ``get`` for everything still awaited: by label when only our namespaced objects
        are left (one request per kind instead of one per object), by name otherwise."""
        if all(t.namespace for t in targets):
            kinds = ",".join(sorted({resource(t.kind) for t in targets}))
            return ["get", kinds, "-n", self._plan.namespace, "-l", selector(self._plan.namespace)]
        return [
            "get",
            *(t.resource_ref for t in targets),
            "-n",
            self._plan.namespace,
            "--ignore-not-found",
        ]

    def _observe(self, targets: Sequence[Target]) -> dict[Target, Obj]:
        """The targets still present (same name, same UID)."""
        found = {_key(o): o for o in self._kubectl.get_items(self._observe_args(targets))}
        present: dict[Target, Obj] = {}
        for target in targets:
            obj = found.get((target.kind, target.namespace, target.name))
            if obj is not None and (obj.get("metadata") or {}).get("uid") == target.uid:
                present[target] = obj
        return present

    def _evidence(self, remaining: Sequence[Obj]) -> list[Obj]:
        """What the namespace still holds that explains the remaining objects (one ``get``)."""
        resources = {"pods"}
        for obj in remaining:
            if obj.get("kind") == "Namespace":
                resources.update(remaining_resources(obj))
        if not any(o.get("kind") != "PersistentVolume" for o in remaining):
            return []
        return self._kubectl.get_items(
            ["get", ",".join(sorted(resources)), "-n", self._plan.namespace]
        )

    def _unblock_or_explain(self, remaining: Sequence[Obj]) -> tuple[FailureReport, ...]:
        """Why ``remaining`` is still there; with --force-finalize, first unblock what can be
        (then the next tick shows the effect, and nothing is explained from stale objects)."""
        evidence = self._evidence(remaining)
        if self._force_finalize and self._strip_finalizers(remaining, evidence):
            return ()
        return explain(remaining, evidence)

    def _strip_finalizers(self, remaining: Sequence[Obj], evidence: Sequence[Obj]) -> bool:
        """--force-finalize: drops the finalizers no built-in controller will remove.

        Only inside our namespace and only on objects already being deleted; the protection
        finalizers of claims and volumes are left alone, they lift once no pod uses them.
        Returns whether anything was changed.
        """
        changed = False
        for obj in [*evidence, *(o for o in remaining if o.get("kind") != "Namespace")]:
            meta = obj.get("metadata") or {}
            custom = custom_finalizers([obj])
            if not meta.get("deletionTimestamp") or not custom or obj.get("kind") not in KINDS:
                continue
            kept = [f for f in meta.get("finalizers") or [] if f not in custom]
            patch = json.dumps({"metadata": {"finalizers": kept or None}})
            self._kubectl.run(
                [
                    "patch",
                    f"{resource(str(obj['kind']))}/{meta['name']}",
                    "-n",
                    self._plan.namespace,
                    "--type=merge",
                    "-p",
                    patch,
                ]
            )
            self._progress.note(
                "wait",
                f"--force-finalize: removed finalizer {', '.join(custom)} from "
                f"{obj['kind']}/{meta['name']}; whatever it guarded was not cleaned up",
                warning=True,
            )
            changed = True
        for obj in remaining:
            if obj.get("kind") == "Namespace" and not evidence:
                changed = self._finalize_namespace(obj) or changed
        return changed

    def _finalize_namespace(self, namespace: Obj) -> bool:
        """An empty namespace still Terminating: its controller is stuck; finalize it directly."""
        spec = namespace.get("spec") or {}
        if not spec.get("finalizers"):
            return False
        body = {**namespace, "spec": {**spec, "finalizers": []}}
        name = namespace["metadata"]["name"]
        self._kubectl.run(
            ["replace", "--raw", f"/api/v1/namespaces/{name}/finalize", "-f", "-"],
            stdin=json.dumps(body),
        )
        self._progress.note(
            "wait",
            f"--force-finalize: finalized empty namespace {name} past its stuck controller",
            warning=True,
        )
        return True

    def wait(self) -> int:
        """Waits until every target is gone; returns how many went, raises on timeout."""
        pending = list(self._plan.wait)
        last_reports: tuple[FailureReport, ...] = ()
        next_explain = self._deleted_at + EXPLAIN_AFTER_SECONDS
        remaining: list[Obj] = []

        def tick() -> bool:
            nonlocal last_reports, next_explain, remaining
            present = self._observe(pending)
            for target in list(pending):
                if target not in present:
                    pending.remove(target)
                    self._progress.gone(target, self._clock() - self._deleted_at)
            remaining = list(present.values())
            if pending and self._clock() >= next_explain:
                next_explain = self._clock() + EXPLAIN_EVERY_SECONDS
                reports = self._unblock_or_explain(remaining)
                if reports and reports != last_reports:
                    self._progress.holding(reports)
                    last_reports = reports
            return not pending

        try:
            polling.until_done(self._timeout)(tick)
        except tenacity.RetryError:
            still = ", ".join(t.ref for t in pending)
            raise StageTimeoutError(
                f"still present after {self._timeout:g}s: {still}",
                hint="run terminate.py again to keep waiting (it continues where it stopped)",
                reports=explain(remaining, self._evidence(remaining)),
            ) from None
        return len(self._plan.wait)
