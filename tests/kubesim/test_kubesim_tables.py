"""kubesim.tables: the Table kube-apiserver returns for ``kubectl get``, column by column."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from kubesim.tables import human_duration, to_table

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
TEN_MINUTES_AGO = "2026-11-27T11:50:00Z"


def table(kind: str, *objects: dict[str, Any], include_object: str = "Metadata") -> dict[str, Any]:
    return to_table(
        kind, list(objects), now=NOW, resource_version="42", include_object=include_object
    )


def header(kind: str) -> list[str]:
    """The header line kubectl prints, upper-cased; wide columns marked with a '+'."""
    return [
        ("+" if c["priority"] else "") + c["name"].upper() for c in table(kind)["columnDefinitions"]
    ]


def cells(kind: str, obj: dict[str, Any]) -> list[Any]:
    row_cells: list[Any] = table(kind, obj)["rows"][0]["cells"]
    return row_cells


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": "asky", "creationTimestamp": TEN_MINUTES_AGO, **extra}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (5, "5s"),
        (119, "119s"),
        (182, "3m2s"),
        (300, "5m"),
        (1200, "20m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (2 * 86400 + 3 * 3600, "2d3h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_apimachinery(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_table_envelope_and_partial_object_metadata() -> None:
    ns = {"metadata": meta("asky", uid="u1"), "status": {"phase": "Active"}}

    result = table("Namespace", ns)

    assert result["kind"] == "Table"
    assert result["apiVersion"] == "meta.k8s.io/v1"
    assert result["metadata"] == {"resourceVersion": "42"}
    assert result["rows"][0]["cells"] == ["asky", "Active", "10m"]
    assert result["rows"][0]["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": ns["metadata"],
    }
    assert table("Namespace", ns, include_object="Object")["rows"][0]["object"] == ns
    assert table("Namespace", ns, include_object="None")["rows"][0]["object"] is None


def running_pod() -> dict[str, Any]:
    return {
        "metadata": meta("web-5d9c-abcde"),
        "spec": {"nodeName": "minikube", "containers": [{"name": "web"}, {"name": "proxy"}]},
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": "10.244.0.7"}],
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "web",
                    "ready": True,
                    "restartCount": 2,
                    "state": {"running": {"startedAt": "2026-11-27T11:59:00Z"}},
                    "lastState": {
                        "terminated": {"exitCode": 1, "finishedAt": "2026-11-27T11:59:55Z"}
                    },
                },
                {"name": "proxy", "ready": True, "restartCount": 0, "state": {"running": {}}},
            ],
        },
    }


def test_pod_columns_and_a_running_pod_with_restarts() -> None:
    assert header("Pod") == [
        "NAME",
        "READY",
        "STATUS",
        "RESTARTS",
        "AGE",
        "+IP",
        "+NODE",
        "+NOMINATED NODE",
        "+READINESS GATES",
    ]
    assert cells("Pod", running_pod()) == [
        "web-5d9c-abcde",
        "2/2",
        "Running",
        "2 (5s ago)",
        "10m",
        "10.244.0.7",
        "minikube",
        "<none>",
        "<none>",
    ]


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ({"waiting": {"reason": "ContainerCreating"}}, "ContainerCreating"),
        ({"waiting": {"reason": "CrashLoopBackOff"}}, "CrashLoopBackOff"),
        ({"waiting": {"reason": "CreateContainerConfigError"}}, "CreateContainerConfigError"),
        ({"terminated": {"reason": "OOMKilled", "exitCode": 137}}, "OOMKilled"),
        ({"terminated": {"exitCode": 3}}, "ExitCode:3"),
        ({"terminated": {"exitCode": 0, "signal": 9}}, "Signal:9"),
    ],
)
def test_pod_status_comes_from_the_container_state(state: dict[str, Any], status: str) -> None:
    pod = {
        "metadata": meta("p"),
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Pending", "containerStatuses": [{"name": "c", "state": state}]},
    }

    assert cells("Pod", pod)[1:4] == ["0/1", status, "0"]


def test_pending_pod_without_statuses_shows_its_phase_and_no_ip() -> None:
    pod = {
        "metadata": meta("p"),
        "spec": {"containers": [{"name": "c"}]},
        "status": {"phase": "Pending"},
    }

    assert cells("Pod", pod)[:3] == ["p", "0/1", "Pending"]
    assert cells("Pod", pod)[5:7] == ["<none>", "<none>"]


def test_init_containers_show_init_progress_and_failures() -> None:
    pod = {
        "metadata": meta("p"),
        "spec": {
            "initContainers": [{"name": "migrate"}, {"name": "seed"}],
            "containers": [{"name": "c"}],
        },
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {"name": "migrate", "state": {"terminated": {"exitCode": 0}}},
                {"name": "seed", "state": {"running": {}}},
            ],
            "containerStatuses": [
                {"name": "c", "state": {"waiting": {"reason": "PodInitializing"}}}
            ],
        },
    }
    failed = {
        **pod,
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [
                {
                    "name": "migrate",
                    "restartCount": 3,
                    "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
                }
            ],
        },
    }

    assert cells("Pod", pod)[2] == "Init:1/2"
    assert cells("Pod", failed)[2:4] == ["Init:Error", "3"]


def test_completed_pod_carries_the_completed_row_condition() -> None:
    pod = {
        "metadata": meta("job-x"),
        "spec": {"containers": [{"name": "c"}]},
        "status": {
            "phase": "Succeeded",
            "containerStatuses": [
                {"name": "c", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ],
        },
    }

    row = table("Pod", pod)["rows"][0]

    assert row["cells"][2] == "Completed"
    assert row["conditions"] == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]


def test_deleted_running_pod_is_terminating() -> None:
    pod = running_pod()
    pod["metadata"]["deletionTimestamp"] = "2026-11-27T11:59:59Z"

    assert cells("Pod", pod)[2] == "Terminating"


def deployment_spec() -> dict[str, Any]:
    return {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "spec": {
                "containers": [
                    {"name": "web", "image": "asky/web:1.2"},
                    {"name": "proxy", "image": "envoy:1"},
                ]
            }
        },
    }


def test_deployment_and_replica_set_rows() -> None:
    deployment = {
        "metadata": meta("web"),
        "spec": deployment_spec(),
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    replica_set = {
        "metadata": meta("web-5d9c"),
        "spec": deployment_spec(),
        "status": {"replicas": 3, "readyReplicas": 2},
    }

    assert header("Deployment") == [
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
        "+CONTAINERS",
        "+IMAGES",
        "+SELECTOR",
    ]
    assert cells("Deployment", deployment) == [
        "web",
        "2/3",
        3,
        2,
        "10m",
        "web,proxy",
        "asky/web:1.2,envoy:1",
        "app=web",
    ]
    assert header("ReplicaSet")[:5] == ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]
    assert cells("ReplicaSet", replica_set)[:5] == ["web-5d9c", 3, 3, 2, "10m"]


def test_service_types_ports_and_external_ips() -> None:
    def service(spec: dict[str, Any], status: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"metadata": meta("api"), "spec": spec, "status": status or {}}

    node_port = service(
        {
            "type": "NodePort",
            "clusterIPs": ["10.96.12.34"],
            "ports": [
                {"port": 80, "nodePort": 30080, "protocol": "TCP"},
                {"port": 53, "protocol": "UDP"},
            ],
            "selector": {"app": "api"},
        }
    )
    pending = service(
        {
            "type": "LoadBalancer",
            "clusterIPs": ["10.96.0.9"],
            "ports": [{"port": 443, "nodePort": 31443}],
        }
    )
    headless = service({"type": "ClusterIP", "clusterIPs": ["None"]})

    assert header("Service") == [
        "NAME",
        "TYPE",
        "CLUSTER-IP",
        "EXTERNAL-IP",
        "PORT(S)",
        "AGE",
        "+SELECTOR",
    ]
    assert cells("Service", node_port) == [
        "api",
        "NodePort",
        "10.96.12.34",
        "<none>",
        "80:30080/TCP,53/UDP",
        "10m",
        "app=api",
    ]
    assert cells("Service", pending)[3:5] == ["<pending>", "443:31443/TCP"]
    assert cells("Service", headless)[2:5] == ["None", "<none>", "<none>"]


def test_pvc_and_pv_rows_show_binding() -> None:
    bound = {
        "metadata": meta("pgdata"),
        "spec": {
            "volumeName": "pv-pg",
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "1Gi"}},
        },
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteOnce"],
        },
    }
    pending = {
        "metadata": meta("cache"),
        "spec": {"storageClassName": "fast"},
        "status": {"phase": "Pending"},
    }
    volume = {
        "metadata": {"name": "pv-pg", "creationTimestamp": TEN_MINUTES_AGO},
        "spec": {
            "capacity": {"storage": "5Gi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "asky", "name": "pgdata"},
            "storageClassName": "standard",
        },
        "status": {"phase": "Bound"},
    }

    assert header("PersistentVolumeClaim") == [
        "NAME",
        "STATUS",
        "VOLUME",
        "CAPACITY",
        "ACCESS MODES",
        "STORAGECLASS",
        "VOLUMEATTRIBUTESCLASS",
        "AGE",
        "+VOLUMEMODE",
    ]
    assert cells("PersistentVolumeClaim", bound) == [
        "pgdata",
        "Bound",
        "pv-pg",
        "5Gi",
        "RWO",
        "standard",
        "<unset>",
        "10m",
        "<unset>",
    ]
    assert cells("PersistentVolumeClaim", pending)[:6] == ["cache", "Pending", "", "", "", "fast"]
    assert cells("PersistentVolume", volume)[:9] == [
        "pv-pg",
        "5Gi",
        "RWO,RWX",
        "Retain",
        "Bound",
        "asky/pgdata",
        "standard",
        "<unset>",
        "",
    ]


def test_config_secret_and_storage_class_rows() -> None:
    config_map = {
        "metadata": meta("cfg"),
        "data": {"a": "1", "b": "2"},
        "binaryData": {"c": "AA=="},
    }
    secret = {"metadata": meta("db-auth"), "type": "Opaque", "data": {"user": "YQ==", "pw": "Yg=="}}
    standard = {
        "metadata": {
            "name": "standard",
            "creationTimestamp": TEN_MINUTES_AGO,
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "k8s.io/minikube-hostpath",
    }

    assert cells("ConfigMap", config_map) == ["cfg", 3, "10m"]
    assert cells("Secret", secret) == ["db-auth", "Opaque", 2, "10m"]
    assert header("StorageClass") == [
        "NAME",
        "PROVISIONER",
        "RECLAIMPOLICY",
        "VOLUMEBINDINGMODE",
        "ALLOWVOLUMEEXPANSION",
        "AGE",
    ]
    assert cells("StorageClass", standard) == [
        "standard (default)",
        "k8s.io/minikube-hostpath",
        "Delete",
        "Immediate",
        False,
        "10m",
    ]


def test_node_row() -> None:
    node = {
        "metadata": {
            "name": "minikube",
            "creationTimestamp": "2026-11-20T12:00:00Z",
            "labels": {"node-role.kubernetes.io/control-plane": ""},
        },
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True"},
            ],
            "addresses": [{"type": "InternalIP", "address": "192.168.49.2"}],
            "nodeInfo": {"kubeletVersion": "v1.34.0", "containerRuntimeVersion": "docker://27.4.1"},
        },
    }

    assert cells("Node", node) == [
        "minikube",
        "Ready",
        "control-plane",
        "7d",
        "v1.34.0",
        "192.168.49.2",
        "<none>",
        "<unknown>",
        "<unknown>",
        "docker://27.4.1",
    ]


def test_event_row_with_wide_cells() -> None:
    event = {
        "metadata": meta("web.17f"),
        "involvedObject": {"kind": "Pod", "name": "web-1", "fieldPath": "spec.containers{web}"},
        "reason": "BackOff",
        "type": "Warning",
        "message": "Back-off restarting failed container web\n",
        "source": {"component": "kubelet", "host": "minikube"},
        "firstTimestamp": "2026-11-27T11:55:00Z",
        "lastTimestamp": "2026-11-27T11:59:30Z",
        "count": 4,
    }

    assert header("Event") == [
        "LAST SEEN",
        "TYPE",
        "REASON",
        "OBJECT",
        "+SUBOBJECT",
        "+SOURCE",
        "MESSAGE",
        "+FIRST SEEN",
        "+COUNT",
        "+NAME",
    ]
    assert cells("Event", event) == [
        "30s",
        "Warning",
        "BackOff",
        "pod/web-1",
        "spec.containers{web}",
        "kubelet, minikube",
        "Back-off restarting failed container web",
        "5m",
        4,
        "web.17f",
    ]


def test_endpoint_slice_pdb_and_network_policy_rows() -> None:
    slice_ = {
        "metadata": meta("api-x7"),
        "addressType": "IPv4",
        "ports": [{"port": 8080}],
        "endpoints": [{"addresses": [f"10.244.0.{i}"]} for i in range(1, 6)],
    }
    empty_slice = {"metadata": meta("api-y"), "addressType": "IPv4"}
    pdb = {
        "metadata": meta("api"),
        "spec": {"minAvailable": 1},
        "status": {"disruptionsAllowed": 0},
    }
    policy = {"metadata": meta("deny"), "spec": {"podSelector": {}}}

    assert cells("EndpointSlice", slice_) == [
        "api-x7",
        "IPv4",
        "8080",
        "10.244.0.1,10.244.0.2,10.244.0.3 + 2 more...",
        "10m",
    ]
    assert cells("EndpointSlice", empty_slice)[2:4] == ["<unset>", "<unset>"]
    assert cells("PodDisruptionBudget", pdb) == ["api", "1", "N/A", 0, "10m"]
    assert cells("NetworkPolicy", policy) == ["deny", "<none>", "10m"]


def test_kinds_without_printer_use_the_default_name_and_created_at() -> None:
    obj = {"metadata": {"name": "x", "creationTimestamp": "2026-11-27T11:50:00Z"}}

    result = table("Widget", obj)

    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Created At"]
    assert result["columnDefinitions"][1]["type"] == "date"
    assert result["rows"][0]["cells"] == ["x", "2026-11-27T11:50:00Z"]
