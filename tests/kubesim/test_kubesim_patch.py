"""kubesim.patch: the PATCH bodies kubectl sends, applied as kube-apiserver applies them.

The two strategic merge patches below were captured from kubectl 1.37.1 ``apply`` (client-side)
against a recording stub server; only the last-applied annotation text is shortened.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubesim.patch import PatchError, json_merge_patch, json_patch, strategic_merge_patch

# kubectl apply of: containers reordered [app, sidecar] -> [sidecar, app], env B 2 -> 3,
# containerPort 9090 removed.
KUBECTL_REORDER_ENV_PORT_PATCH = json.loads(
    '{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"..."}},'
    '"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],'
    '"containers":[{"$setElementOrder/env":[{"name":"A"},{"name":"B"}],'
    '"$setElementOrder/ports":[{"containerPort":8080}],"env":[{"name":"B","value":"3"}],'
    '"name":"app","ports":[{"$patch":"delete","containerPort":9090}]}]}}}}'
)

# kubectl apply of: replicas dropped, strategy RollingUpdate -> Recreate, env B removed,
# image bumped, finalizer example.com/b replaced by example.com/c.
KUBECTL_REMOVALS_PATCH = json.loads(
    '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/b"],'
    '"$setElementOrder/finalizers":["example.com/a","example.com/c"],'
    '"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"..."},'
    '"finalizers":["example.com/c"]},'
    '"spec":{"replicas":null,"strategy":{"$retainKeys":["type"],"rollingUpdate":null,'
    '"type":"Recreate"},"template":{"spec":{"$setElementOrder/containers":[{"name":"app"}],'
    '"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],'
    '"image":"web:2","name":"app"}]}}}}'
)


def deployment(containers: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "uid": "u1"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers},
            },
            **spec,
        },
    }


def containers_of(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def live_app_and_sidecar() -> dict[str, Any]:
    return deployment(
        [
            {
                "name": "app",
                "image": "web:1",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "ports": [
                    {"containerPort": 8080, "protocol": "TCP"},
                    {"containerPort": 9090, "protocol": "TCP"},
                ],
                "terminationMessagePath": "/dev/termination-log",
            },
            {"name": "sidecar", "image": "proxy:1"},
        ]
    )


def test_kubectl_apply_patch_reorders_containers_changes_env_and_drops_port() -> None:
    result = strategic_merge_patch(
        live_app_and_sidecar(), KUBECTL_REORDER_ENV_PORT_PATCH, "Deployment"
    )

    sidecar, app = containers_of(result)
    assert sidecar == {"name": "sidecar", "image": "proxy:1"}
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]
    # Server-defaulted fields the patch does not mention survive the merge.
    assert app["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert app["terminationMessagePath"] == "/dev/termination-log"
    assert result["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": "..."
    }


def test_kubectl_apply_patch_with_retain_keys_null_and_primitive_list_deletion() -> None:
    live = deployment(
        [
            {
                "name": "app",
                "image": "web:1",
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            }
        ],
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"},
        },
    )
    live["metadata"]["finalizers"] = ["example.com/a", "example.com/b"]

    result = strategic_merge_patch(live, KUBECTL_REMOVALS_PATCH, "Deployment")

    assert "replicas" not in result["spec"]
    # $retainKeys clears rollingUpdate even though only its parent is mentioned.
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert containers_of(result) == [
        {"name": "app", "image": "web:2", "env": [{"name": "A", "value": "1"}]}
    ]
    assert result["metadata"]["finalizers"] == ["example.com/a", "example.com/c"]


def test_inputs_are_never_mutated() -> None:
    live = live_app_and_sidecar()
    patch = copy.deepcopy(KUBECTL_REORDER_ENV_PORT_PATCH)
    live_before, patch_before = copy.deepcopy(live), copy.deepcopy(patch)

    strategic_merge_patch(live, patch, "Deployment")

    assert live == live_before
    assert patch == patch_before


def test_new_items_without_set_element_order_go_first_as_in_apimachinery() -> None:
    """Without $setElementOrder, mergeSortedSlice puts patch items that the live list lacks
    before the server-only items: ``kubectl patch`` adding a container or env var prepends it."""
    live = live_app_and_sidecar()
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "app", "env": [{"name": "C", "value": "9", "valueFrom": None}]},
                        {"name": "metrics", "image": "exporter:1", "args": None},
                    ]
                }
            }
        }
    }

    result = strategic_merge_patch(live, patch, "Deployment")

    names = [c["name"] for c in containers_of(result)]
    assert names == ["app", "metrics", "sidecar"]
    app = containers_of(result)[0]
    assert [e["name"] for e in app["env"]] == ["C", "A", "B"]
    assert app["env"][0] == {"name": "C", "value": "9"}
    assert containers_of(result)[1] == {"name": "metrics", "image": "exporter:1"}


def test_volume_mounts_merge_by_mount_path_not_by_name() -> None:
    live = deployment(
        [
            {
                "name": "db",
                "image": "postgres:16",
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}],
            }
        ]
    )
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "db",
                            "volumeMounts": [{"name": "data", "mountPath": "/backup"}],
                        }
                    ]
                }
            }
        }
    }

    result = strategic_merge_patch(live, patch, "Deployment")

    assert [m["mountPath"] for m in containers_of(result)[0]["volumeMounts"]] == [
        "/backup",
        "/var/lib/postgresql/data",
    ]


def test_set_element_order_places_new_items_where_kubectl_asks() -> None:
    live = live_app_and_sidecar()
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [
                        {"name": "app"},
                        {"name": "sidecar"},
                        {"name": "metrics"},
                    ],
                    "containers": [{"name": "metrics", "image": "exporter:1"}],
                }
            }
        }
    }

    result = strategic_merge_patch(live, patch, "Deployment")

    assert [c["name"] for c in containers_of(result)] == ["app", "sidecar", "metrics"]


def test_atomic_lists_are_replaced_whole() -> None:
    live = deployment([{"name": "app", "image": "web:1", "args": ["--a", "--b"]}])
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--c"]}]}}}}

    result = strategic_merge_patch(live, patch, "Deployment")

    assert containers_of(result)[0]["args"] == ["--c"]


def test_patch_replace_directive_in_a_list_replaces_the_whole_list() -> None:
    live = live_app_and_sidecar()
    patch = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "only", "image": "x:1"}, {"$patch": "replace"}]}
            }
        }
    }

    result = strategic_merge_patch(live, patch, "Deployment")

    assert containers_of(result) == [{"name": "only", "image": "x:1"}]


def test_patch_replace_and_delete_directives_in_a_map() -> None:
    live = live_app_and_sidecar()
    replaced = strategic_merge_patch(
        live, {"spec": {"selector": {"$patch": "replace", "matchLabels": {"x": "y"}}}}, "Deployment"
    )
    deleted = strategic_merge_patch(
        live, {"spec": {"selector": {"$patch": "delete"}}}, "Deployment"
    )

    assert replaced["spec"]["selector"] == {"matchLabels": {"x": "y"}}
    assert deleted["spec"]["selector"] == {}


def test_patch_merge_directive_is_refused_like_the_apiserver() -> None:
    live = live_app_and_sidecar()

    with pytest.raises(PatchError, match="unknown patch type: merge in map"):
        strategic_merge_patch(live, {"spec": {"$patch": "merge"}}, "Deployment")
    with pytest.raises(PatchError, match="merging lists cannot yet be specified in the patch"):
        strategic_merge_patch(
            live,
            {"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}},
            "Deployment",
        )


def test_list_item_without_its_merge_key_is_an_error_naming_the_key() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"image": "x:1"}]}}}}

    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge_patch(live_app_and_sidecar(), patch, "Deployment")


def test_retain_keys_rejects_a_patch_key_it_does_not_list() -> None:
    live = deployment([], strategy={"type": "RollingUpdate"})
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "x": 1}}}

    with pytest.raises(PatchError) as raised:
        strategic_merge_patch(live, patch, "Deployment")
    assert raised.value.message == "patch content doesn't match retainKeys list"
    assert raised.value.code == 422


def test_primitive_set_lists_union_and_null_deletes_missing_key_silently() -> None:
    live = {"metadata": {"name": "ns", "finalizers": ["a", "b"]}}

    result = strategic_merge_patch(
        live, {"metadata": {"finalizers": ["b", "c"], "labels": None}}, "Namespace"
    )

    assert result["metadata"] == {"name": "ns", "finalizers": ["a", "b", "c"]}


def test_service_ports_merge_by_port() -> None:
    live = {
        "spec": {
            "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
            "selector": {"app": "web"},
        }
    }
    patch = {"spec": {"ports": [{"port": 80, "nodePort": 30080}]}}

    result = strategic_merge_patch(live, patch, "Service")

    assert result["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP", "nodePort": 30080}
    ]


def test_json_merge_patch_follows_rfc_7386() -> None:
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3], "n": {"x": None, "y": 1}}

    result = json_merge_patch(target, patch)

    assert result == {"a": "z", "c": {"d": "e"}, "l": [3], "n": {"y": 1}}
    assert target["c"] == {"d": "e", "f": "g"}


def test_json_patch_operations_and_pointer_escaping() -> None:
    doc = {"metadata": {"labels": {"app.kubernetes.io/name": "web"}}, "spec": {"replicas": 1}}
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
        {"op": "add", "path": "/metadata/labels/tier~1x", "value": "front"},
        {"op": "copy", "from": "/metadata/labels/app.kubernetes.io~1name", "path": "/spec/name"},
        {"op": "move", "from": "/spec/name", "path": "/metadata/name"},
        {"op": "add", "path": "/spec/list", "value": ["b"]},
        {"op": "add", "path": "/spec/list/0", "value": "a"},
        {"op": "add", "path": "/spec/list/-", "value": "c"},
        {"op": "remove", "path": "/spec/list/1"},
    ]

    result = json_patch(doc, ops)

    assert result == {
        "metadata": {
            "labels": {"app.kubernetes.io/name": "web", "tier/x": "front"},
            "name": "web",
        },
        "spec": {"replicas": 3, "list": ["a", "c"]},
    }
    assert doc["spec"] == {"replicas": 1}


def test_json_patch_failed_test_and_missing_path_are_422_errors() -> None:
    doc = {"spec": {"replicas": 1}}

    with pytest.raises(PatchError) as failed_test:
        json_patch(doc, [{"op": "test", "path": "/spec/replicas", "value": True}])
    with pytest.raises(PatchError) as missing:
        json_patch(doc, [{"op": "remove", "path": "/spec/paused"}])

    assert failed_test.value.message == "testing value /spec/replicas failed: test failed"
    assert failed_test.value.code == 422
    assert "doc is missing path" in missing.value.message


def test_json_patch_unknown_operation_is_a_bad_request() -> None:
    with pytest.raises(PatchError) as raised:
        json_patch({}, [{"op": "frobnicate", "path": "/a"}])
    assert raised.value.code == 400
