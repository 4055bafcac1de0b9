"""The teardown task's phases against a scripted kubectl: what is read, refused, deleted and
waited for, and what the user is told when something holds the namespace."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.kubectl import RetryNotice
from asky_scripts.errors import ClusterRefusedError, FailureReport, StageTimeoutError
from asky_scripts.teardown.discover import kinds_created, manifest_kinds
from asky_scripts.teardown.plan import Target, TeardownPlan
from asky_scripts.teardown.task import TeardownRequest, TeardownTask
from tests.asky.fake_kubectl import FakeRunner, fake_kubectl, items

Obj = dict[str, Any]
OURS = {"app.kubernetes.io/managed-by": "asky-scripts", "app.kubernetes.io/instance": "asky"}
LOOKED_FOR = ",".join(resource(kind) for kind in kinds_created(manifest_kinds()))
NOT_FOUND = 'Error from server (NotFound): configmaps "asky-scripts-lock" not found'


class Recorder:
    """A TeardownProgress that keeps what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def stage_started(self, stage: str) -> None:
        self.events.append(("started", stage))

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None:
        self.events.append(("done", detail))

    def note(self, stage: str, message: str, *, warning: bool = False) -> None:
        self.events.append(("warning" if warning else "note", message))

    def retry(self, notice: RetryNotice) -> None:
        self.events.append(("retry", notice.argv))

    def gone(self, target: Target, elapsed: float) -> None:
        self.events.append(("gone", target.ref))

    def holding(self, reports: tuple[FailureReport, ...]) -> None:
        self.events.append(("holding", reports))

    def plan(self, plan: TeardownPlan, context: str) -> None:
        self.events.append(("plan", sorted(t.ref for t in plan.delete)))

    def nothing_left(self, plan: TeardownPlan, context: str) -> None:
        self.events.append(("nothing_left", plan.namespace))

    def dry_run_done(self) -> None:
        self.events.append(("dry_run", None))

    def finished(self, plan: TeardownPlan, deleted: int, elapsed: float) -> None:
        self.events.append(("finished", deleted))

    def said(self, event: str) -> list[Any]:
        return [value for name, value in self.events if name == event]


def namespace(**extra: Any) -> Obj:
    meta = {"name": "asky", "uid": "ns-uid", "labels": dict(OURS), **extra.pop("meta", {})}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta, **extra}


def remaining(what: str, message: str) -> Obj:
    """A True condition of the namespace controller: what it still waits for."""
    return {
        "type": f"Namespace{what}Remaining",
        "status": "True",
        "reason": f"Some{what}Remain",
        "message": f"{message} resource instances",
    }


def review(resource: str, *, allowed: bool) -> Obj:
    return {
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": "delete", "resource": resource, "group": ""}},
        "status": {"allowed": allowed},
    }


def cluster(
    *, ns: Obj, may_delete_namespaces: bool = True, contents: tuple[Obj, ...] = ()
) -> FakeRunner:
    """A cluster holding our namespace (and ``contents`` in it), no volume, an unheld lock."""
    reviews = json.dumps(review("namespaces", allowed=may_delete_namespaces)) + json.dumps(
        review("persistentvolumes", allowed=True)
    )
    return (
        FakeRunner()
        .on("get", "namespaces/asky", "persistentvolumes/postgres-pv-volume", stdout=items(ns))
        .on("get", "persistentvolumes", "-l", stdout=items())
        .on("get", LOOKED_FOR, "-n", "asky", stdout=items(*contents))
        .on("create", "--validate=false", stdout=reviews)
        .on("create", "-f", "-", "-o", "name", stdout="configmap/asky-scripts-lock")
        .on("get", "configmaps/asky-scripts-lock", returncode=1, stderr=NOT_FOUND)
        .on("delete", stdout='namespace "asky" deleted')
    )


def task(runner: FakeRunner, progress: Recorder, **request: Any) -> TeardownTask:
    options = {"namespace": "asky", "context": "test", "timeout": 5.0, **request}
    return TeardownTask(fake_kubectl(runner), TeardownRequest(**options), progress)


def test_nothing_is_deleted_when_an_access_review_denies_a_delete() -> None:
    runner, progress = cluster(ns=namespace(), may_delete_namespaces=False), Recorder()
    with pytest.raises(ClusterRefusedError, match="nothing was deleted: not allowed to delete"):
        task(runner, progress).run()
    assert not [c for c in runner.commands() if c.startswith("delete")]
    assert progress.said("plan") == [["Namespace/asky"]]  # shown, then refused


def test_the_namespace_is_deleted_and_its_finalisation_awaited() -> None:
    runner = cluster(ns=namespace())
    terminating = namespace(meta={"deletionTimestamp": "2026-11-30T05:00:00Z"})
    runner.on("get", "namespaces/asky", "-n", stdout=items(terminating), times=2)
    runner.on("get", "namespaces/asky", "-n", stdout=items())
    progress = Recorder()
    task(runner, progress).run()
    deletes = [args for args, _ in runner.calls if args[0] == "delete"]
    assert deletes == [
        ("delete", "namespaces/asky", "-n", "asky", "--wait=false", "--ignore-not-found")
    ]
    waits = [c for c in runner.commands() if c == "get namespaces/asky"]
    assert len(waits) >= 3  # Terminating twice, then gone
    assert progress.said("gone") == ["Namespace/asky"]
    assert progress.said("finished") == [1]


def test_a_stuck_finalizer_is_explained_when_the_wait_times_out() -> None:
    stuck = namespace(
        meta={"deletionTimestamp": "2026-11-30T05:00:00Z"},
        spec={"finalizers": ["kubernetes"]},
        status={"phase": "Terminating", "conditions": [remaining("Content", "configmaps. has 1")]},
    )
    held = {
        "kind": "ConfigMap",
        "metadata": {
            "name": "held",
            "namespace": "asky",
            "deletionTimestamp": "2026-11-30T05:00:00Z",
            "finalizers": ["example.com/hold"],
        },
    }
    runner = cluster(ns=stuck)  # already Terminating: waited for, not deleted again, no lock
    runner.on("get", "namespaces/asky", "-n", stdout=items(stuck))
    runner.on("get", "configmaps,pods", "-n", "asky", stdout=items(held))
    with pytest.raises(StageTimeoutError) as timed_out:
        task(runner, Recorder(), timeout=0.3).run()
    (report,) = timed_out.value.reports
    assert "finalizers" in report.cause
    assert "--force-finalize" in report.hint
    assert any("ConfigMap/held" in state for state in report.states)
    assert not [c for c in runner.commands() if c.startswith(("delete", "create -f"))]


def test_the_namespace_is_read_again_under_the_lock_only_when_someone_held_it() -> None:
    """A run.py writes only while holding the lock: when nobody held it at the first read and
    it was free, that read is the plan's; otherwise what the holder added is read again."""
    lock = {"kind": "ConfigMap", "metadata": {"name": "asky-scripts-lock", "namespace": "asky"}}
    for contents, reads in (((), 1), ((lock,), 2)):
        runner = cluster(ns=namespace(), contents=contents)
        runner.on("get", "namespaces/asky", "-n", stdout=items())
        task(runner, Recorder()).run()
        assert runner.commands().count(f"get {LOOKED_FOR}") == reads
