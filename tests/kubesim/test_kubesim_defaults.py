"""The defaults kube-apiserver fills in, which `kubectl get -o yaml` shows and `kubectl diff`
compares against."""

from __future__ import annotations

import copy

import pytest

from kubesim.defaults import apply_defaults, image_pull_policy
from tests.kubesim.conftest import deployment


def test_deployment_gets_the_defaults_kubectl_get_shows() -> None:
    spec = apply_defaults(deployment(ports=[{"containerPort": 8080}]))["spec"]
    assert {k: v for k, v in spec.items() if k not in ("selector", "template")} == {
        "replicas": 1,
        "strategy": {
            "type": "RollingUpdate",
            "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
        },
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    pod = spec["template"]["spec"]
    assert pod == {
        "containers": [
            {
                "name": "app",
                "image": "auth:1.0",
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "resources": {},
            }
        ],
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30,
        "securityContext": {},
    }


def test_recreate_strategy_gets_no_rolling_update_parameters() -> None:
    obj = deployment()
    obj["spec"]["strategy"] = {"type": "Recreate"}
    assert apply_defaults(obj)["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.27", "IfNotPresent"),
        ("registry:5000/team/app", "Always"),
        ("registry:5000/team/app:2", "IfNotPresent"),
        ("app@sha256:" + "a" * 64, "IfNotPresent"),
        ("app:latest@sha256:" + "a" * 64, "Always"),
    ],
)
def test_image_pull_policy_follows_the_tag(image: str, policy: str) -> None:
    assert image_pull_policy(image) == policy


def test_explicit_values_are_kept() -> None:
    obj = deployment(imagePullPolicy="Never")
    obj["spec"]["replicas"] = 0
    defaulted = apply_defaults(obj)
    assert defaulted["spec"]["replicas"] == 0
    assert defaulted["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_probes_and_volumes_are_defaulted() -> None:
    obj = deployment(readinessProbe={"httpGet": {"port": 8080}})
    obj["spec"]["template"]["spec"]["volumes"] = [
        {"name": "config", "configMap": {"name": "auth"}},
        {"name": "scratch"},
    ]
    pod = apply_defaults(obj)["spec"]["template"]["spec"]
    assert pod["containers"][0]["readinessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert pod["volumes"] == [
        {"name": "config", "configMap": {"name": "auth", "defaultMode": 420}},
        {"name": "scratch", "emptyDir": {}},
    ]


def test_defaulting_never_mutates_its_input_and_is_idempotent() -> None:
    obj = deployment()
    original = copy.deepcopy(obj)
    once = apply_defaults(obj)
    assert obj == original
    assert apply_defaults(once) == once


def test_service_defaults_by_type() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "auth"},
        "spec": {"selector": {"app": "auth"}, "ports": [{"port": 80}]},
    }
    spec = apply_defaults(service)["spec"]
    assert spec == {
        "selector": {"app": "auth"},
        "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}],
        "type": "ClusterIP",
        "sessionAffinity": "None",
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
    }
    service["spec"]["type"] = "NodePort"
    assert apply_defaults(service)["spec"]["externalTrafficPolicy"] == "Cluster"
    external = {"kind": "Service", "spec": {"type": "ExternalName", "externalName": "db.example"}}
    assert "ipFamilies" not in apply_defaults(external)["spec"]


def test_storage_and_namespace_defaults() -> None:
    claim = apply_defaults(
        {"kind": "PersistentVolumeClaim", "spec": {"accessModes": ["ReadWriteOnce"]}}
    )
    assert claim["spec"]["volumeMode"] == "Filesystem"
    assert claim["status"] == {"phase": "Pending"}
    volume = apply_defaults({"kind": "PersistentVolume", "spec": {"capacity": {"storage": "1Gi"}}})
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert volume["spec"]["volumeMode"] == "Filesystem"
    namespace = apply_defaults({"kind": "Namespace", "metadata": {"name": "asky"}})
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "asky"}
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    assert namespace["status"] == {"phase": "Active"}


def test_network_policy_types_follow_the_rules_present() -> None:
    ingress_only = apply_defaults({"kind": "NetworkPolicy", "spec": {"podSelector": {}}})
    assert ingress_only["spec"]["policyTypes"] == ["Ingress"]
    with_egress = apply_defaults(
        {
            "kind": "NetworkPolicy",
            "spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]},
        }
    )
    assert with_egress["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert with_egress["spec"]["egress"][0]["ports"] == [{"port": 53, "protocol": "TCP"}]


def test_pod_requests_default_to_limits() -> None:
    pod = {
        "kind": "Pod",
        "spec": {
            "containers": [{"name": "a", "image": "a:1", "resources": {"limits": {"cpu": "1"}}}]
        },
    }
    container = apply_defaults(pod)["spec"]["containers"][0]
    assert container["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}
    assert apply_defaults(pod)["spec"]["enableServiceLinks"] is True
