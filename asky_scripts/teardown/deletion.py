"""Deletes a teardown plan's objects and waits until they are really gone, saying why not.

terminate.sh fired ``kubectl delete`` and returned while the namespace was still Terminating, so
the next run.sh failed on it. Here the wait is a tenacity loop (polling.py's cadence, like
run.py's) with one ``kubectl get`` per tick covering every object being waited for; an object is
gone when it is NotFound or when the name now belongs to a new object with another UID. After a few
seconds the loop also reads what still holds things and reports it, and on timeout the same
explanation ends the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.kubectl import Kubectl, RetryNotice
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of
from asky_scripts.errors import FailureReport, StageTimeoutError
from asky_scripts.model.ownership import owner_selector
from asky_scripts.teardown.explain import explain, remaining_resources
from asky_scripts.teardown.finalize import strip_finalizers
from asky_scripts.teardown.plan import Target, TeardownPlan

#: Quiet for this long: most teardowns finish before anything needs explaining.
EXPLAIN_AFTER_SECONDS = 3.0
#: Then the holders are read again at most this often; a report is shown only when it changes.
EXPLAIN_EVERY_SECONDS = 5.0


class DeletionProgress(Protocol):
    """What the deletion tells the person watching; the CLI decides text or JSON lines."""

    def note(self, stage: str, message: str, *, warning: bool = False) -> None: ...

    def retry(self, notice: RetryNotice) -> None: ...

    def gone(self, target: Target, elapsed: float) -> None: ...

    def holding(self, reports: tuple[FailureReport, ...]) -> None: ...


def _key(obj: Obj) -> tuple[str, str, str]:
    return kind_of(obj), str(meta(obj).get("namespace", "")), name_of(obj)


class Deletion:
    """Deletes one plan's objects, then waits until they are gone."""

    def __init__(
        self,
        kubectl: Kubectl,
        plan: TeardownPlan,
        progress: DeletionProgress,
        *,
        timeout: float,
        force_finalize: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kubectl, self._plan, self._progress = kubectl, plan, progress
        self._timeout, self._force_finalize = timeout, force_finalize
        self._clock = clock
        self._deleted_at = clock()

    def _warn(self, message: str) -> None:
        self._progress.note("wait", message, warning=True)

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
            return [
                "get",
                kinds,
                "-n",
                self._plan.namespace,
                "-l",
                owner_selector(self._plan.namespace),
            ]
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
            if obj is not None and meta(obj).get("uid") == target.uid:
                present[target] = obj
        return present

    def _evidence(self, remaining: Sequence[Obj]) -> list[Obj]:
        """What the namespace still holds that explains the remaining objects (one ``get``)."""
        resources = {"pods"}
        for obj in remaining:
            if kind_of(obj) == "Namespace":
                resources.update(remaining_resources(obj))
        if not any(kind_of(o) != "PersistentVolume" for o in remaining):
            return []
        return self._kubectl.get_items(
            ["get", ",".join(sorted(resources)), "-n", self._plan.namespace]
        )

    def _unblock_or_explain(self, remaining: Sequence[Obj]) -> tuple[FailureReport, ...]:
        """Why ``remaining`` is still there; with --force-finalize, first unblock what can be
        (then the next tick shows the effect, and nothing is explained from stale objects)."""
        evidence = self._evidence(remaining)
        if self._force_finalize and strip_finalizers(
            self._kubectl, self._plan.namespace, remaining, evidence, self._warn
        ):
            return ()
        return explain(remaining, evidence)

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
