"""The one ownership rule, as a user meets it: which namespaces run.py deploys into, which
volumes it re-binds and which objects terminate.py deletes, for two copies side by side."""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj
from asky_scripts.deploy.preflight_namespace import namespace_problems
from asky_scripts.deploy.volume_rebind import VolumeState, judge
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.ownership import is_ours, owner_labels
from asky_scripts.model.secrets import GENERATED_SECRETS, secret_object
from asky_scripts.model.stages import for_deploy, load_plan


def deployed(namespace: str) -> dict[str, Obj]:
    """The objects run.py applies for ``--namespace namespace``, by kind (the first of each)."""
    found: dict[str, Obj] = {}
    for planned in for_deploy(load_plan(), DeployOptions(namespace=namespace)):
        for m in planned.manifests:
            found.setdefault(m.kind, m.obj)
    return found


def namespace(name: str, labels: dict[str, str]) -> Obj:
    return {"kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def test_every_object_run_py_applies_or_generates_is_ours_for_its_namespace_only() -> None:
    for ns in ("asky", "other"):
        applied = list(deployed(ns).values())
        generated = [secret_object(spec, ns) for spec in GENERATED_SECRETS]
        for obj in applied + generated:
            assert is_ours(obj, ns), obj["metadata"]
            assert not is_ours(obj, "asky" if ns == "other" else "other"), obj["metadata"]


def test_the_namespace_run_py_made_is_accepted_by_the_next_deploy() -> None:
    made = deployed("y")["Namespace"]
    assert made["metadata"]["name"] == "y"
    assert namespace_problems(made, DeployOptions(namespace="y")) == []


def test_a_namespace_of_another_tool_is_refused_naming_the_labels_it_lacks() -> None:
    helm = namespace(
        "y", {"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "y"}
    )
    bare = namespace("y", {"kubernetes.io/metadata.name": "y"})
    for other in (helm, bare):
        (problem,) = namespace_problems(other, DeployOptions(namespace="y"))
        assert "namespace y exists and was not created by asky-scripts" in problem
        assert "(no label app.kubernetes.io/managed-by=asky-scripts)" in problem
        assert "choose another --namespace" in problem


def test_a_namespace_labelled_for_another_copy_is_not_ours() -> None:
    """What terminate.py would refuse to delete, run.py does not deploy into either."""
    copied = namespace("y", owner_labels("x"))
    assert not is_ours(copied, "y")
    (problem,) = namespace_problems(copied, DeployOptions(namespace="y"))
    assert "(no label app.kubernetes.io/instance=y)" in problem


def test_the_volume_of_another_copy_is_left_alone() -> None:
    """After --namespace x and --namespace y, each copy's volume is its own (PVs are
    cluster-wide)."""
    volume_of_x = deployed("x")["PersistentVolume"]
    released = {**volume_of_x, "status": {"phase": "Released"}}
    finding = judge(released, DeployOptions(namespace="y"))
    assert finding.state is VolumeState.REFUSED
    assert "is not ours" in finding.problems[0]
    assert judge(released, DeployOptions(namespace="x")).state is not VolumeState.REFUSED


def test_null_labels_are_not_ours_and_do_not_crash() -> None:
    assert not is_ours({"kind": "Pod", "metadata": {"name": "p", "labels": None}}, "asky")
    assert not is_ours({"kind": "Pod"}, "asky")
