"""Server-side apply and managedFields, as structured-merge-diff and the apiserver do them."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubesim.defaults import apply_defaults
from kubesim.managed_fields import (
    LAST_APPLIED_ANNOTATION,
    ApplyConflict,
    decode_fields_v1,
    encode_fields_v1,
    server_side_apply,
    track_update,
)

T0, T1, T2 = "2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z"


def nginx(replicas: int | None = 3, **container: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {
                "containers": [
                    {
                        "name": "nginx",
                        "image": "nginx:1.14.2",
                        "ports": [{"containerPort": 80}],
                        **container,
                    }
                ]
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default", "labels": {"app": "nginx"}},
        "spec": spec,
    }


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the server keeps after a create: defaulted, with server metadata."""
    out = apply_defaults(obj)
    out["metadata"].update(uid="u-1", resourceVersion="1", generation=1, creationTimestamp=T0)
    return out


def created_by(manager: str, obj: dict[str, Any]) -> dict[str, Any]:
    return track_update(None, stored(obj), manager=manager, now=T0)


def entry(obj: dict[str, Any], manager: str, operation: str) -> dict[str, Any]:
    matches = [
        e
        for e in obj["metadata"].get("managedFields", [])
        if e["manager"] == manager and e["operation"] == operation
    ]
    assert len(matches) == 1, obj["metadata"].get("managedFields")
    return matches[0]


def test_create_records_the_same_field_set_a_real_apiserver_writes() -> None:
    obj = created_by("kubectl-create", nginx())
    (only,) = obj["metadata"]["managedFields"]
    assert {k: v for k, v in only.items() if k != "fieldsV1"} == {
        "manager": "kubectl-create",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": T0,
        "fieldsType": "FieldsV1",
    }
    assert json.dumps(only["fieldsV1"]) == json.dumps(
        {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:progressDeadlineSeconds": {},
                "f:replicas": {},
                "f:revisionHistoryLimit": {},
                "f:selector": {},
                "f:strategy": {
                    "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
                    "f:type": {},
                },
                "f:template": {
                    "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                    "f:spec": {
                        "f:containers": {
                            'k:{"name":"nginx"}': {
                                ".": {},
                                "f:image": {},
                                "f:imagePullPolicy": {},
                                "f:name": {},
                                "f:ports": {
                                    ".": {},
                                    'k:{"containerPort":80,"protocol":"TCP"}': {
                                        ".": {},
                                        "f:containerPort": {},
                                        "f:protocol": {},
                                    },
                                },
                                "f:resources": {},
                                "f:terminationMessagePath": {},
                                "f:terminationMessagePolicy": {},
                            }
                        },
                        "f:dnsPolicy": {},
                        "f:restartPolicy": {},
                        "f:schedulerName": {},
                        "f:securityContext": {},
                        "f:terminationGracePeriodSeconds": {},
                    },
                },
            },
        }
    )


def test_apply_owns_only_what_the_configuration_sets() -> None:
    obj = server_side_apply(None, nginx(), manager="kubectl", force=False, now=T0)
    assert obj["spec"]["revisionHistoryLimit"] == 10  # defaulted, but owned by nobody
    fields = entry(obj, "kubectl", "Apply")["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {"f:app": {}}}
    assert set(fields["f:spec"]) == {"f:replicas", "f:selector", "f:template"}
    container = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert container["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}
    }


def test_changing_a_field_another_manager_set_is_a_conflict_with_the_apiserver_text() -> None:
    live = created_by("kubectl-client-side-apply", nginx(replicas=3))
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, nginx(replicas=2), manager="helm", force=False, now=T1)
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: '
        ".spec.replicas"
    )
    assert caught.value.causes == [
        {
            "reason": "FieldManagerConflict",
            "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
            "field": ".spec.replicas",
        }
    ]


def test_several_conflicts_are_listed_per_manager() -> None:
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "data": {"a": "1", "b": "2"},
    }
    live = created_by("m", configmap)
    changed = copy.deepcopy(configmap)
    changed["data"] = {"a": "x", "b": "y"}
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, changed, manager="other", force=False, now=T1)
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "m" using v1:\n- .data.a\n- .data.b'
    )


def test_conflict_with_an_applier_names_it_without_a_version() -> None:
    live = server_side_apply(None, nginx(), manager="first", force=False, now=T0)
    with pytest.raises(ApplyConflict) as caught:
        server_side_apply(live, nginx(image="nginx:1.25"), manager="second", force=False, now=T1)
    assert caught.value.message == (
        'Apply failed with 1 conflict: conflict with "first": '
        '.spec.template.spec.containers[name="nginx"].image'
    )


def test_force_takes_ownership_of_the_conflicting_fields() -> None:
    live = created_by("kubectl-client-side-apply", nginx(replicas=3))
    obj = server_side_apply(live, nginx(replicas=2), manager="helm", force=True, now=T1)
    assert obj["spec"]["replicas"] == 2
    assert "f:replicas" in entry(obj, "helm", "Apply")["fieldsV1"]["f:spec"]
    old_owner = entry(obj, "kubectl-client-side-apply", "Update")
    assert "f:replicas" not in old_owner["fieldsV1"]["f:spec"]
    assert old_owner["time"] == T0  # only the writer's timestamp moves


def test_equal_values_are_shared_without_conflict() -> None:
    live = created_by("kubectl-client-side-apply", nginx(replicas=3))
    obj = server_side_apply(live, nginx(replicas=3), manager="helm", force=False, now=T1)
    assert "f:replicas" in entry(obj, "helm", "Apply")["fieldsV1"]["f:spec"]
    assert "f:replicas" in entry(obj, "kubectl-client-side-apply", "Update")["fieldsV1"]["f:spec"]


def test_reapplying_the_same_configuration_changes_nothing() -> None:
    first = server_side_apply(None, nginx(), manager="kubectl", force=False, now=T0)
    first["metadata"].update(uid="u-1", resourceVersion="1", creationTimestamp=T0, generation=1)
    again = server_side_apply(first, nginx(), manager="kubectl", force=False, now=T1)
    assert again == first


def test_dropping_a_field_from_the_configuration_removes_it() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    live = server_side_apply(
        None, nginx(replicas=3, env=env), manager="kubectl", force=False, now=T0
    )
    obj = server_side_apply(
        live, nginx(replicas=None, env=env[:1]), manager="kubectl", force=False, now=T1
    )
    assert obj["spec"]["replicas"] == 1  # removed, then defaulted again, as on a real cluster
    assert obj["spec"]["template"]["spec"]["containers"][0]["env"] == env[:1]
    assert entry(obj, "kubectl", "Apply")["time"] == T1


def test_a_dropped_field_another_manager_owns_is_kept() -> None:
    live = server_side_apply(None, nginx(replicas=3), manager="kubectl", force=False, now=T0)
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 5
    scaled = track_update(live, scaled, manager="kubectl-scale", now=T1)
    obj = server_side_apply(scaled, nginx(replicas=None), manager="kubectl", force=False, now=T2)
    assert obj["spec"]["replicas"] == 5


def test_apply_merges_keyed_lists_with_items_other_managers_added() -> None:
    live = server_side_apply(
        None, nginx(env=[{"name": "A", "value": "1"}]), manager="kubectl", force=False, now=T0
    )
    patched = copy.deepcopy(live)
    patched["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "INJECTED", "value": "x"}
    )
    patched = track_update(live, patched, manager="injector", now=T1)
    obj = server_side_apply(
        patched,
        nginx(env=[{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]),
        manager="kubectl",
        force=False,
        now=T2,
    )
    names = [e["name"] for e in obj["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert names == ["A", "INJECTED", "B"]


def test_status_in_the_configuration_is_ignored() -> None:
    live = created_by("kubectl-create", nginx())
    live["status"] = {"replicas": 3}
    config = nginx()
    config["status"] = {"replicas": 99}
    obj = server_side_apply(live, config, manager="kubectl", force=False, now=T1)
    assert obj["status"] == {"replicas": 3}
    assert "f:status" not in entry(obj, "kubectl", "Apply")["fieldsV1"]


def test_kubectl_upgrading_from_client_side_apply_takes_its_last_applied_fields() -> None:
    config = nginx(replicas=3)
    annotated = copy.deepcopy(config)
    annotated["metadata"]["annotations"] = {LAST_APPLIED_ANNOTATION: json.dumps(config)}
    live = created_by("kubectl-client-side-apply", annotated)
    obj = server_side_apply(live, nginx(replicas=2), manager="kubectl", force=False, now=T1)
    assert obj["spec"]["replicas"] == 2
    assert json.loads(obj["metadata"]["annotations"][LAST_APPLIED_ANNOTATION]) == nginx(replicas=2)
    with pytest.raises(ApplyConflict):
        server_side_apply(live, nginx(replicas=2), manager="argocd", force=False, now=T1)


def test_update_moves_changed_fields_to_the_writer() -> None:
    live = created_by("kubectl-create", nginx(replicas=3))
    scaled = copy.deepcopy(live)
    scaled["spec"]["replicas"] = 4
    obj = track_update(live, scaled, manager="kubectl-scale", now=T1)
    assert entry(obj, "kubectl-scale", "Update")["fieldsV1"] == {"f:spec": {"f:replicas": {}}}
    assert "f:replicas" not in entry(obj, "kubectl-create", "Update")["fieldsV1"]["f:spec"]
    assert [e["manager"] for e in obj["metadata"]["managedFields"]] == [
        "kubectl-create",
        "kubectl-scale",
    ]


def test_an_update_that_changes_nothing_leaves_managed_fields_alone() -> None:
    live = created_by("kubectl-create", nginx())
    assert track_update(live, copy.deepcopy(live), manager="other", now=T1) == live


def test_status_writes_are_owned_through_the_status_subresource() -> None:
    live = created_by("kubectl-create", nginx())
    with_status = copy.deepcopy(live)
    with_status["status"] = {"replicas": 3, "readyReplicas": 3}
    obj = track_update(
        live, with_status, manager="kube-controller-manager", now=T1, subresource="status"
    )
    status_entry = entry(obj, "kube-controller-manager", "Update")
    assert status_entry["subresource"] == "status"
    assert status_entry["fieldsV1"] == {
        "f:status": {".": {}, "f:readyReplicas": {}, "f:replicas": {}}
    }


def test_fields_v1_round_trips_and_sorts_like_the_apiserver() -> None:
    fields = {
        "f:metadata": {"f:finalizers": {".": {}, 'v:"b"': {}, 'v:"a"': {}}},
        "f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}}}},
    }
    encoded = encode_fields_v1(decode_fields_v1(fields))
    assert list(encoded["f:metadata"]["f:finalizers"]) == [".", 'v:"a"', 'v:"b"']
    assert encoded["f:spec"] == fields["f:spec"]
