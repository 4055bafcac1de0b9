"""terminate.py's task, as the phases it runs: read, refuse, lock, plan, confirm, delete, wait.

Nothing is written before the refusals (run.sh's deployment, someone else's namespace) have
been decided from the first read, the lock included.  The lock then keeps a run.py from adding
to the namespace while the plan shown is carried out.  When nobody held it at the first read
and it was free, nothing can have been added since (run.py writes only while holding it), so the
first read is the plan's; otherwise the namespace is read again under the lock.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from asky_scripts.cluster.access import access_problems
from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.lock import NamespaceLock
from asky_scripts.cluster.objects import meta
from asky_scripts.model.ownership import is_ours, owner_labels
from asky_scripts.model.run_sh import RunShDeployment
from asky_scripts.teardown import discover
from asky_scripts.teardown.deletion import Deletion, DeletionProgress
from asky_scripts.teardown.keep_data import plan_keep_data
from asky_scripts.teardown.plan import Found, TeardownPlan, check_namespace_owner, refuse_if_denied
from asky_scripts.teardown.plan_full import plan_full
from asky_scripts.teardown.run_sh import check_run_sh, plan_run_sh


class TeardownProgress(DeletionProgress, Protocol):
    """The deletion's progress plus the stages and the plan; text or JSON lines in the CLI."""

    def stage_started(self, stage: str) -> None: ...

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None: ...

    def plan(self, plan: TeardownPlan, context: str) -> None: ...

    def nothing_left(self, plan: TeardownPlan, context: str) -> None: ...

    def dry_run_done(self) -> None: ...

    def finished(self, plan: TeardownPlan, deleted: int, elapsed: float) -> None: ...


@dataclass(frozen=True)
class TeardownRequest:
    """What terminate.py was asked to do (its flags)."""

    namespace: str
    context: str | None = None
    timeout: float = 300.0
    keep_data: bool = False
    dry_run: bool = False
    force: bool = False
    run_sh: bool = False
    force_finalize: bool = False


def build_plan(found: Found, *, keep_data: bool, force: bool) -> TeardownPlan:
    """The plan for this teardown, after the ownership check."""
    check_namespace_owner(found, force=force)
    return plan_keep_data(found) if keep_data else plan_full(found)


def refuse_unless_allowed(kubectl: Kubectl, plan: TeardownPlan, found: Found) -> None:
    """Refuse before the first delete unless RBAC allows every one of them; kinds discovery
    did not ask about (a ``--keep-data`` plan deletes kind by kind) are asked now."""
    needed = {resource(t.kind) for t in plan.delete}
    unasked = sorted(needed - set(found.permissions_checked))
    denied = dict(found.denied)
    if unasked:
        denied.update(access_problems(kubectl, plan.namespace, unasked, "delete"))
    refuse_if_denied(plan, denied)


def describe(found: Found) -> str:
    """The discover stage's line: the namespace's state and how many volumes are ours."""
    ns = found.namespace_obj
    if ns is None:
        state = "absent"
    elif meta(ns).get("deletionTimestamp"):
        state = "Terminating"
    elif is_ours(ns, found.namespace):
        state = "created by asky-scripts"
    else:
        state = "NOT created by asky-scripts"
    volumes = len(found.volumes)
    return f"namespace {found.namespace} {state}, {volumes} volume{'s' * (volumes != 1)} of ours"


class TeardownTask:
    """One terminate.py run; ``stage`` names the phase running, for the failure line."""

    def __init__(
        self,
        kubectl: Kubectl,
        request: TeardownRequest,
        progress: TeardownProgress,
        *,
        confirm: Callable[[TeardownPlan], None] | None = None,
        started: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kubectl = kubectl
        self._request = request
        self._progress = progress
        self._confirm = confirm
        self._clock = clock
        self._started = clock() if started is None else started
        self.stage = "discover"

    def _elapsed(self) -> float:
        return self._clock() - self._started

    def run(self) -> None:
        request = self._request
        snapshot = discover.read(self._kubectl, request.namespace, request.context)
        legacy = snapshot.run_sh
        check_run_sh(legacy, run_sh=request.run_sh, keep_data=request.keep_data)
        if legacy is None:
            check_namespace_owner(
                Found(request.namespace, snapshot.namespace_obj), force=request.force
            )
        with self._locked(snapshot) as contended:
            if contended:
                snapshot = discover.read_again(self._kubectl, snapshot)
            found = discover.found(self._kubectl, snapshot)
            plan = self._plan(found, legacy)
            self._progress.stage_done(self.stage, self._elapsed(), describe(found))
            if plan.nothing_to_do:
                self._progress.nothing_left(plan, snapshot.context)
                return
            self._progress.plan(plan, snapshot.context)
            if request.dry_run:
                self._progress.dry_run_done()
                return
            if self._confirm is not None:
                self.stage = "confirm"
                self._confirm(plan)
            deleted = self._delete_and_wait(plan, found)
        self._progress.finished(plan, deleted, self._elapsed())

    def _plan(self, found: Found, legacy: RunShDeployment | None) -> TeardownPlan:
        if legacy is not None:
            return plan_run_sh(found, legacy)
        return build_plan(found, keep_data=self._request.keep_data, force=self._request.force)

    def _delete_and_wait(self, plan: TeardownPlan, found: Found) -> int:
        deletion = Deletion(
            self._kubectl,
            plan,
            self._progress,
            timeout=self._request.timeout,
            force_finalize=self._request.force_finalize,
            clock=self._clock,
        )
        self.stage = "delete"
        refuse_unless_allowed(self._kubectl, plan, found)
        deletion.delete()
        self.stage = "wait"
        return deletion.wait()

    @contextlib.contextmanager
    def _locked(self, snapshot: discover.Snapshot) -> Iterator[bool]:
        """run.py's deploy lock, when there is a namespace to hold it and something may be
        deleted; taken before the plan is made, so the plan shown is the plan carried out.
        Yields whether someone else held it at the first read or since (then read again)."""
        namespace = snapshot.namespace_obj
        if self._request.dry_run or namespace is None or meta(namespace).get("deletionTimestamp"):
            yield False
            return
        self.stage = "lock"
        told: list[str] = []

        def notify(message: str) -> None:
            told.append(message)
            self._progress.note("lock", message)

        lock = NamespaceLock(
            self._kubectl,
            self._request.namespace,
            labels=owner_labels(self._request.namespace),
            command="terminate.py",
            wait=self._request.timeout,
            notify=notify,
        )
        with lock:
            self.stage = "discover"
            yield snapshot.lock_held or bool(told)
