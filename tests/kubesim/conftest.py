"""Fixtures shared by the kubesim tests."""

from __future__ import annotations

from collections.abc import Callable

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


@pytest.fixture
def web_deployment() -> Callable[[int], str]:
    """``web_deployment(replicas)``: the YAML of a minimal Deployment `web` in `default`."""
    return lambda replicas: _DEPLOYMENT.format(replicas=replicas)
