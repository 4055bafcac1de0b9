"""What `kubectl get` and `kubectl describe` print against kubesim: the server-side columns of
each kind we serve (as kube-apiserver's printers name them) and describe's many requests
(object, owner lookups, events by involvedObject field selector) answered well enough that the
output has every section, events included."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim

pytestmark = pytest.mark.e2e

APP = """\
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: demo}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        ports: [{containerPort: 8080}]
        volumeMounts: [{name: data, mountPath: /data}]
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: data}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: demo}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""


@pytest.fixture
def deployed(kubectl_on: Callable[[KubeSim], Any], sim: KubeSim) -> Any:
    kubectl = kubectl_on(sim)
    kubectl.ok("apply", "-f", "-", stdin=APP)
    kubectl.ok("-n", "demo", "rollout", "status", "deploy/web", "--timeout=20s")
    return kubectl


def table(kubectl: Any, *args: str) -> tuple[list[str], list[list[str]]]:
    """Header names and rows (cells split on 2+ spaces, as kubectl aligns them)."""
    lines = kubectl.ok("get", *args).splitlines()
    split = [re.split(r"\s{2,}", line.strip()) for line in lines]
    return split[0], split[1:]


@pytest.mark.parametrize(
    ("args", "header"),
    [
        (
            ("pvc", "-n", "demo"),
            "NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE",
        ),
        (
            ("pv",),
            "NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS "
            "VOLUMEATTRIBUTESCLASS REASON AGE",
        ),
        (("ns",), "NAME STATUS AGE"),
        (("events", "-n", "demo"), "LAST SEEN TYPE REASON OBJECT MESSAGE"),
        (("rs", "-n", "demo"), "NAME DESIRED CURRENT READY AGE"),
        (
            ("rs", "-n", "demo", "-o", "wide"),
            "NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR",
        ),
        (("sc",), "NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE"),
        (("endpointslices", "-n", "demo"), "NAME ADDRESSTYPE PORTS ENDPOINTS AGE"),
    ],
)
def test_columns_are_the_apiservers(deployed: Any, args: tuple[str, ...], header: str) -> None:
    lines = deployed.ok("get", *args).splitlines()
    assert " ".join(lines[0].split()) == header
    assert len(lines) > 1


def test_cells_say_what_the_cluster_did(deployed: Any, sim: KubeSim) -> None:
    _, (claim,) = table(deployed, "pvc", "-n", "demo")
    volume = sim.objects("persistentvolumes")[0]["metadata"]["name"]
    assert claim[:7] == ["data", "Bound", volume, "1Gi", "RWO", "standard", "<unset>"]
    _, (pv,) = table(deployed, "pv")
    assert pv[:8] == [volume, "1Gi", "RWO", "Delete", "Bound", "demo/data", "standard", "<unset>"]
    _, classes = table(deployed, "sc")
    assert [row[:5] for row in classes] == [
        ["standard (default)", "k8s.io/minikube-hostpath", "Delete", "Immediate", "false"]
    ]
    _, (replica_set,) = table(deployed, "rs", "-n", "demo")
    assert replica_set[1:4] == ["1", "1", "1"]
    _, (slice_row,) = table(deployed, "endpointslices", "-n", "demo")
    assert slice_row[0].startswith("web-")
    assert slice_row[1:4] == ["IPv4", "8080", "10.244.0.2"]
    _, namespaces = table(deployed, "ns")
    assert [row[:2] for row in namespaces] == [
        [name, "Active"]
        for name in ("default", "demo", "kube-node-lease", "kube-public", "kube-system")
    ]


def test_events_come_out_oldest_first(deployed: Any) -> None:
    _, rows = table(deployed, "events", "-n", "demo", "--field-selector", "involvedObject.kind=Pod")
    reasons = [row[2] for row in rows]
    assert reasons == ["Scheduled", "Pulling", "Pulled", "Created", "Started"]


def test_describe_pod_shows_containers_volumes_and_events(deployed: Any) -> None:
    out = deployed.ok("-n", "demo", "describe", "pod", "-l", "app=web")
    for line in (
        "Status:       Running",
        "Controlled By:  ReplicaSet/web-",
        "    State:          Running",
        "    Ready:          True",
        "      /data from data (rw)",
        "    ClaimName:   data",
        "QoS Class:       BestEffort",
        "Events:",
    ):
        assert line in out, line
    events = out.split("Events:")[1]
    for reason in ("Scheduled", "Pulling", "Pulled", "Created", "Started"):
        assert f"Normal  {reason}" in events
    assert "default-scheduler" in events and "kubelet" in events


def test_describe_deployment_shows_conditions_replica_sets_and_events(deployed: Any) -> None:
    out = deployed.ok("-n", "demo", "describe", "deployment", "web")
    assert (
        "Replicas:               1 desired | 1 updated | 1 total | 1 available | 0 unavailable"
        in (out)
    )
    assert "  Available      True    MinimumReplicasAvailable" in out
    assert "  Progressing    True    NewReplicaSetAvailable" in out
    assert "NewReplicaSet:   web-" in out and "(1/1 replicas created)" in out
    assert "ScalingReplicaSet" in out.split("Events:")[1]


def test_describe_claim_shows_binding_users_and_events(deployed: Any) -> None:
    out = deployed.ok("-n", "demo", "describe", "pvc", "data")
    assert "Status:        Bound" in out
    assert "Finalizers:    [kubernetes.io/pvc-protection]" in out
    assert "Used By:       web-" in out
    events = out.split("Events:")[1]
    assert "ProvisioningSucceeded" in events
    assert "k8s.io/minikube-hostpath" in events


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def table_rows(sim: KubeSim, query: str) -> list[Any]:
    request = urllib.request.Request(
        f"{sim.url}/api/v1/namespaces/default/configmaps{query}", headers={"Accept": TABLE}
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        rows: list[Any] = json.loads(answer.read())["rows"]
    return rows


def test_include_object_chooses_what_each_row_carries(sim: KubeSim) -> None:
    (default,) = table_rows(sim, "")
    assert default["object"]["kind"] == "PartialObjectMetadata"
    assert "data" not in default["object"]
    (whole,) = table_rows(sim, "?includeObject=Object")
    assert whole["object"]["kind"] == "ConfigMap"
    assert "ca.crt" in whole["object"]["data"]
    (bare,) = table_rows(sim, "?includeObject=None")
    assert bare["object"] is None
    with pytest.raises(urllib.error.HTTPError) as raised:
        table_rows(sim, "?includeObject=Everything")
    assert raised.value.code == 400
    message = json.loads(raised.value.read())["message"]
    assert message == 'unrecognized includeObject value: "Everything"'
