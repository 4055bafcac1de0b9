"""Fixtures shared by the kubesim tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: default}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "web:1"}}]
"""


def deployment(**container: Any) -> dict[str, Any]:
    """Deployment auth in namespace asky, its one container ``app`` given ``container``'s
    fields: what the defaults and validation tests hand kubesim."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "auth", "namespace": "asky"},
        "spec": {
            "selector": {"matchLabels": {"app": "auth"}},
            "template": {
                "metadata": {"labels": {"app": "auth"}},
                "spec": {"containers": [{"name": "app", "image": "auth:1.0", **container}]},
            },
        },
    }


@pytest.fixture
def web_deployment() -> Callable[[int], str]:
    """``web_deployment(replicas)``: the YAML of a minimal Deployment `web` in `default`."""
    return lambda replicas: _DEPLOYMENT.format(replicas=replicas)
