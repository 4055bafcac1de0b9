"""terminate.py's safety rules and explanations, judged on objects as the apiserver returns them."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.cluster.kinds import KINDS
from asky_scripts.errors import ClusterRefusedError, ExitCode
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.secrets import GENERATED_SECRETS
from asky_scripts.model.stages import for_deploy, load_plan
from asky_scripts.teardown.discover import kinds_created, manifest_kinds
from asky_scripts.teardown.explain import explain
from asky_scripts.teardown.plan import Found, refuse_if_denied
from asky_scripts.teardown.task import build_plan

Obj = dict[str, Any]
OURS = {"app.kubernetes.io/managed-by": "asky-scripts", "app.kubernetes.io/instance": "asky"}


def obj(kind: str, name: str, namespace: str = "asky", **extra: Any) -> Obj:
    meta: Obj = {"name": name, "uid": f"uid-{kind}-{name}", **extra.pop("meta", {})}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta, **extra}


def ours(kind: str, name: str, namespace: str = "asky", **extra: Any) -> Obj:
    meta = {"labels": dict(OURS), **extra.pop("meta", {})}
    return obj(kind, name, namespace, meta=meta, **extra)


def volume(name: str = "asky-postgres-data", policy: str = "Retain", **labels: str) -> Obj:
    return obj(
        "PersistentVolume",
        name,
        "",
        meta={"labels": labels or dict(OURS)},
        spec={"persistentVolumeReclaimPolicy": policy, "hostPath": {"path": "/data/asky/pg"}},
        status={"phase": "Bound"},
    )


def claim(volume_name: str = "asky-postgres-data") -> Obj:
    return ours("PersistentVolumeClaim", "postgres-data", spec={"volumeName": volume_name})


def deployed(*extra: Obj, volumes: tuple[Obj, ...] = (volume(),)) -> Found:
    contents = (
        ours("Deployment", "postgres"),
        ours("Pod", "postgres-abc", meta={"ownerReferences": [{"uid": "rs"}]}),
        ours("ConfigMap", "postgres-init"),
        claim(),
        *(ours("Secret", spec.name) for spec in GENERATED_SECRETS),
        obj("ConfigMap", "kube-root-ca.crt"),
        *extra,
    )
    return Found("asky", ours("Namespace", "asky", ""), volumes, contents)


def refs(targets: Any) -> set[str]:
    return {t.ref for t in targets}


def test_every_namespaced_kind_run_py_creates_is_looked_for() -> None:
    plan = for_deploy(load_plan(), DeployOptions())
    created = {m.kind for p in plan for m in p.manifests if m.namespaced}
    parsed = {m.kind for p in load_plan() for m in p.manifests}
    assert manifest_kinds() == parsed  # the scan finds what the parser finds
    assert parsed <= set(KINDS)  # a kind the kinds table does not know could not be read
    looked_for = kinds_created(manifest_kinds())
    assert created <= set(looked_for)
    # what run.py makes without a manifest: the generated Secrets, the lock, a Deployment's children
    assert {"Secret", "ConfigMap", "ReplicaSet", "Pod"} <= set(looked_for)
    assert "Namespace" not in looked_for


def test_a_new_namespaced_kind_in_the_manifests_is_looked_for() -> None:
    assert "StatefulSet" in kinds_created(["ConfigMap", "StatefulSet", "PersistentVolume"])
    assert "PersistentVolume" not in kinds_created(["PersistentVolume"])


def test_default_deletes_namespace_and_our_volume_and_waits_for_the_claim() -> None:
    plan = build_plan(deployed(), keep_data=False, force=False)
    assert refs(plan.delete) == {"Namespace/asky", "PersistentVolume/asky-postgres-data"}
    assert "PersistentVolumeClaim/postgres-data" in refs(plan.wait)
    assert "will be deleted" in plan.data_warning
    assert "/data/asky/pg" in plan.data_warning  # hostPath files are not erased: said plainly


def test_a_volume_without_our_labels_is_never_deleted() -> None:
    decoy = volume("decoy", **{"app.kubernetes.io/managed-by": "someone"})
    other_copy = volume("staging-postgres-data", **{**OURS, "app.kubernetes.io/instance": "x"})
    plan = build_plan(deployed(volumes=(decoy, other_copy)), keep_data=False, force=False)
    assert refs(plan.delete) == {"Namespace/asky"}


def test_namespace_someone_else_made_is_refused_unless_forced() -> None:
    found = Found("asky", obj("Namespace", "asky", ""), (), ())
    with pytest.raises(ClusterRefusedError) as refused:
        build_plan(found, keep_data=False, force=False)
    assert refused.value.exit_code == ExitCode.CLUSTER_UNAVAILABLE
    assert "not created by asky-scripts" in refused.value.message
    assert "--force" in refused.value.hint
    assert refs(build_plan(found, keep_data=False, force=True).delete) == {"Namespace/asky"}


def test_objects_of_others_inside_our_namespace_are_named_before_deleting() -> None:
    plan = build_plan(deployed(obj("Pod", "debug")), keep_data=False, force=False)
    assert plan.foreign == ("Pod/debug",)  # kube-root-ca.crt and owned pods are not listed


def test_keep_data_keeps_namespace_secrets_and_volume_but_deletes_the_claim() -> None:
    plan = build_plan(deployed(obj("Pod", "debug")), keep_data=True, force=False)
    deleted = refs(plan.delete)
    assert "PersistentVolumeClaim/postgres-data" in deleted
    assert "Deployment/postgres" in deleted
    assert not any(r.startswith(("Secret/", "Namespace/", "PersistentVolume/")) for r in deleted)
    assert "Pod/debug" not in refs(plan.wait)  # not ours: untouched
    assert "Pod/postgres-abc" in refs(plan.wait) - deleted  # the garbage collector's job
    assert any("postgres-superuser" in k for k in plan.kept)
    assert any("PersistentVolume/asky-postgres-data" in k for k in plan.kept)


def test_keep_data_refuses_a_volume_that_would_delete_its_data() -> None:
    found = deployed(volumes=(volume(policy="Delete"),))
    with pytest.raises(ClusterRefusedError, match="reclaim policy Delete"):
        build_plan(found, keep_data=True, force=False)


def test_a_namespace_already_terminating_is_waited_for_not_deleted_again() -> None:
    terminating = ours("Namespace", "asky", "", meta={"deletionTimestamp": "t"})
    plan = build_plan(Found("asky", terminating, (), ()), keep_data=False, force=False)
    assert plan.delete == ()
    assert refs(plan.wait) == {"Namespace/asky"}
    assert plan.terminating == ("Namespace/asky",)


def test_nothing_left_is_nothing_to_do() -> None:
    assert build_plan(Found("asky", None), keep_data=False, force=False).nothing_to_do


def _stuck_namespace() -> Obj:
    return ours(
        "Namespace",
        "asky",
        "",
        meta={"deletionTimestamp": "t"},
        spec={"finalizers": ["kubernetes"]},
        status={
            "phase": "Terminating",
            "conditions": [
                {
                    "type": "NamespaceFinalizersRemaining",
                    "status": "True",
                    "reason": "SomeFinalizersRemain",
                    "message": "example.com/hold in 1 resource instances",
                },
                {"type": "NamespaceDeletionDiscoveryFailure", "status": "False"},
            ],
        },
    )


def test_a_stuck_finalizer_is_named_with_the_way_out() -> None:
    held = obj(
        "ConfigMap", "held", meta={"deletionTimestamp": "t", "finalizers": ["example.com/hold"]}
    )
    (report,) = explain([_stuck_namespace()], [held])
    assert "finalizers" in report.cause
    assert report.conditions == (
        "NamespaceFinalizersRemaining (SomeFinalizersRemain): example.com/hold in 1 resource "
        "instances",
    )
    assert any("ConfigMap/held" in s and "example.com/hold" in s for s in report.states)
    assert "--force-finalize" in report.hint


def test_a_claim_still_mounted_names_the_pod() -> None:
    pvc = claim()
    pvc["metadata"]["finalizers"] = ["kubernetes.io/pvc-protection"]
    pod = obj(
        "Pod",
        "postgres-abc",
        meta={"deletionTimestamp": "t", "deletionGracePeriodSeconds": 120},
        spec={"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "postgres-data"}}]},
    )
    (report,) = explain([pvc], [pod, obj("Pod", "other")])
    assert "still mounted by pod postgres-abc" in report.cause
    assert any("grace period 120s" in s for s in report.states)
    assert not any("Pod/other" in s for s in report.states)


def test_a_volume_reports_its_phase_and_reclaim_policy() -> None:
    pv = volume()
    pv["metadata"]["finalizers"] = ["kubernetes.io/pv-protection"]
    pv["spec"]["claimRef"] = {"namespace": "asky", "name": "postgres-data"}
    (report,) = explain([pv], [])
    assert report.cause.startswith("phase Bound, reclaim policy Retain, claimed by asky/postgres")
    assert "pv-protection" in report.cause


def test_a_forbidden_delete_refuses_the_whole_teardown() -> None:
    """kubectl deletes what it may and skips the rest; refusing up front keeps the volume
    from going while the namespace stays."""
    plan = build_plan(deployed(), keep_data=False, force=False)
    denied = {"namespaces": "not allowed to delete namespaces (kubectl auth can-i delete ns)"}
    with pytest.raises(ClusterRefusedError, match="nothing was deleted: not allowed to delete"):
        refuse_if_denied(plan, denied)
    refuse_if_denied(plan, {"deployments.apps": "not used by the default plan"})
