"""Recorded objects (tests/asky/recorded/) and the pods built from them, for the readiness tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from asky_scripts.readiness.deployment import deployment_verdict
from asky_scripts.readiness.verdict import Stopwatch, Verdict

RECORDED = Path(__file__).parents[1] / "recorded"


def recorded(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


def items(name: str) -> list[dict[str, Any]]:
    obj = recorded(name)
    return list(obj["items"]) if obj.get("kind") == "List" else [obj]


def auth_with(
    pods: list[dict[str, Any]],
    events: list[dict[str, Any]] | None = None,
    *,
    now: float = 0.0,
    stopwatch: Stopwatch | None = None,
    rolled_out: bool = False,
    nodes: list[dict[str, Any]] | None = None,
) -> Verdict:
    """The auth Deployment judged with these pods; its status says 1/2 unless ``rolled_out``."""
    dep = recorded("deployment-auth-ready.json")
    return deployment_verdict(
        dep if rolled_out else not_ready(dep),
        items("replicasets-auth.json"),
        pods,
        events or [],
        stopwatch=stopwatch or Stopwatch(),
        now=now,
        nodes=nodes or [],
    )


def not_ready(deployment: dict[str, Any]) -> dict[str, Any]:
    dep = copy.deepcopy(deployment)
    dep["status"].update(readyReplicas=1, availableReplicas=1)
    dep["status"]["conditions"][0].update(status="False", reason="MinimumReplicasUnavailable")
    dep["status"]["conditions"][1].update(reason="ReplicaSetUpdated")
    return dep


def pull_failure(message: str, reason: str = "ImagePullBackOff") -> dict[str, Any]:
    pod = recorded("pod-auth-errimagepull-notfound.json")
    pod["status"]["containerStatuses"][0]["state"]["waiting"] = {
        "reason": reason,
        "message": f'Back-off pulling image "asky-auth:1.0": ErrImagePull: {message}',
    }
    return pod


RESOLVE = (
    'failed to pull and unpack image "docker.io/library/asky-auth:1.0": failed to resolve '
    'reference "docker.io/library/asky-auth:1.0": '
)


def crash_looping(reason: str = "Error", exit_code: int = 3) -> dict[str, Any]:
    """The auth pod after its second exit: CrashLoopBackOff, the exit in lastState."""
    pod = recorded("pod-auth-crashloop.json")
    status = pod["status"]["containerStatuses"][0]
    status["lastState"]["terminated"].update(reason=reason, exitCode=exit_code)
    return pod


def node_with(**allocatable: str) -> dict[str, Any]:
    node = copy.deepcopy(items("nodes-minikube.json")[0])
    node["status"]["allocatable"].update(allocatable)
    return node


def unhealthy(pod: dict[str, Any], message: str, count: int) -> dict[str, Any]:
    """The kubelet's Warning event for a probe of ``pod`` that failed ``count`` times."""
    return {
        "kind": "Event",
        "type": "Warning",
        "reason": "Unhealthy",
        "message": message,
        "count": count,
        "lastTimestamp": "2026-11-20T10:02:00Z",
        "involvedObject": {"kind": "Pod", "uid": pod["metadata"]["uid"]},
    }
