"""Deletion as the apiserver and garbage collector carry it out: the three propagation policies
kubectl's ``--cascade`` chooses, and ``deletecollection`` for API clients."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim

pytestmark = pytest.mark.e2e


def wait_until(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.fixture
def rolled_out(
    kubectl_on: Callable[[KubeSim], Any], sim: KubeSim, web_deployment: Callable[[int], str]
) -> Any:
    kubectl = kubectl_on(sim)
    kubectl.ok("apply", "-f", "-", stdin=web_deployment(2))
    kubectl.ok("rollout", "status", "deploy/web", "--timeout=20s")
    return kubectl


def test_orphan_keeps_dependents_without_their_owner(rolled_out: Any, sim: KubeSim) -> None:
    rolled_out.ok("delete", "deployment", "web", "--cascade=orphan")
    wait_until(lambda: sim.get("deployments", "web", "default", "apps") is None)
    (replica_set,) = sim.objects("replicasets", "default", "apps")
    assert "ownerReferences" not in replica_set["metadata"]
    assert len(sim.objects("pods", "default")) == 2
    assert all(not p["metadata"].get("deletionTimestamp") for p in sim.objects("pods", "default"))


def test_foreground_waits_for_dependents(rolled_out: Any, sim: KubeSim) -> None:
    rolled_out.ok("delete", "deployment", "web", "--cascade=foreground", "--wait=false")
    deployment = sim.get("deployments", "web", "default", "apps")
    assert deployment is not None, "a foreground deletion waits for the dependents"
    assert deployment["metadata"]["finalizers"] == ["foregroundDeletion"]
    assert deployment["metadata"]["deletionTimestamp"]
    rolled_out.ok("wait", "--for=delete", "deployment/web", "--timeout=20s")
    assert sim.objects("replicasets", "default", "apps") == []
    assert sim.objects("pods", "default") == []


def test_background_is_kubectls_default(rolled_out: Any, sim: KubeSim) -> None:
    rolled_out.ok("delete", "deployment", "web", "--wait=false")
    assert sim.get("deployments", "web", "default", "apps") is None
    wait_until(lambda: not sim.objects("replicasets", "default", "apps"))


def test_an_unknown_policy_is_invalid(sim: KubeSim) -> None:
    body = json.dumps({"propagationPolicy": "Sideways"}).encode()
    request = urllib.request.Request(
        f"{sim.url}/api/v1/namespaces/default/configmaps/kube-root-ca.crt",
        data=body,
        method="DELETE",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 422
    assert json.loads(raised.value.read())["message"] == (
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
        '"Sideways": supported values: "Foreground", "Background", "Orphan", "nil"'
    )


def test_deletecollection_deletes_what_the_selector_matches(sim: KubeSim) -> None:
    for name, tier in (("a", "front"), ("b", "front"), ("c", "back")):
        body = {"metadata": {"name": name, "labels": {"tier": tier}}}
        request = urllib.request.Request(
            f"{sim.url}/api/v1/namespaces/default/configmaps",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).close()
    request = urllib.request.Request(
        f"{sim.url}/api/v1/namespaces/default/configmaps?labelSelector=tier%3Dfront",
        method="DELETE",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        deleted = json.loads(answer.read())
    assert deleted["kind"] == "ConfigMapList"
    assert [item["metadata"]["name"] for item in deleted["items"]] == ["a", "b"]
    left = sorted(c["metadata"]["name"] for c in sim.objects("configmaps", "default"))
    assert left == ["c", "kube-root-ca.crt"]


def test_namespaces_have_no_deletecollection(sim: KubeSim) -> None:
    request = urllib.request.Request(f"{sim.url}/api/v1/namespaces", method="DELETE")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 405
    assert sim.get("namespaces", "default") is not None
