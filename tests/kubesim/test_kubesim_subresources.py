"""Subresources that answer with their own kind: ``scale`` reads and writes an
``autoscaling/v1`` Scale (kubectl scale decodes the answer as one and fails on a Deployment)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim

pytestmark = pytest.mark.e2e


def test_kubectl_scale_goes_through_the_scale_subresource(
    web_deployment, kubectl_on: Callable[[KubeSim], Any], sim: KubeSim
) -> None:
    kubectl = kubectl_on(sim)
    kubectl.ok("apply", "-f", "-", stdin=web_deployment(1))
    assert kubectl.ok("scale", "deployment/web", "--replicas=3").strip() == (
        "deployment.apps/web scaled"
    )
    deployment = sim.get("deployments", "web", "default", "apps")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 3
    assert deployment["metadata"]["generation"] == 2
    scale_writes = [r for r in sim.requests if r.path.endswith("/deployments/web/scale")]
    assert [r.method for r in scale_writes] == ["PATCH"]
    kubectl.ok("rollout", "status", "deployment/web", "--timeout=20s")
    scale = json.loads(
        kubectl.ok("get", "--raw", "/apis/apps/v1/namespaces/default/deployments/web/scale")
    )
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 3, "selector": "app=web"}
    assert scale["metadata"]["uid"] == deployment["metadata"]["uid"]


def test_namespace_finalize_accepts_a_chunked_body(kubectl, sim) -> None:
    """`kubectl replace --raw …/finalize -f -` streams its body chunked; the apiserver accepts
    it and, with the `kubernetes` finalizer gone, the empty namespace disappears."""
    kubectl.ok("create", "namespace", "demo")
    body = json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "demo"},
            "spec": {"finalizers": []},
        }
    )
    kubectl.ok("replace", "--raw", "/api/v1/namespaces/demo/finalize", "-f", "-", stdin=body)
    assert sim.get("namespaces", "demo")["spec"].get("finalizers", []) == []
