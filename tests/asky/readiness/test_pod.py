"""A pod's verdict (through its Deployment, as the watcher asks it): the verdict policy."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.cluster.objects import name_of
from asky_scripts.readiness.accessors import uid_of
from asky_scripts.readiness.pod import pod_verdict
from asky_scripts.readiness.verdict import Failed, Stopwatch, Waiting
from tests.asky.readiness.recorded_objects import (
    RESOLVE,
    auth_with,
    crash_looping,
    items,
    node_with,
    pull_failure,
    recorded,
    unhealthy,
)


def test_config_error_from_a_cold_kubelet_cache_is_only_waiting() -> None:
    pod = recorded("pod-auth-createcontainerconfigerror.json")
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "failed to sync secret cache: timed out waiting for the condition"
    )
    assert isinstance(auth_with([pod]), Waiting)


def test_unschedulable_waits_15_seconds_then_fails() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    watch = Stopwatch()
    assert isinstance(auth_with([pod], now=100.0, stopwatch=watch), Waiting)
    assert isinstance(auth_with([pod], now=110.0, stopwatch=watch), Waiting)
    verdict = auth_with([pod], now=116.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert "Insufficient memory" in verdict.cause


def test_running_but_not_ready_names_the_failing_probe() -> None:
    pod = recorded("pod-auth-running-not-ready.json")
    probe_failed = unhealthy(
        pod, "Readiness probe failed: dial tcp 10.244.0.7:8000: connect: connection refused", 4
    )
    verdict = auth_with([pod], [probe_failed])
    assert verdict == Waiting(
        "1/2 ready: Readiness probe failed: dial tcp 10.244.0.7:8000: connect: connection "
        "refused (x4)"
    )


def test_a_pod_bigger_than_every_node_fails_at_once_naming_the_allocatable() -> None:
    pod = recorded("pod-auth-unschedulable.json")  # requests 128Mi: Insufficient memory
    verdict = pod_verdict(pod, [], Stopwatch(), 0.0, [node_with(memory="100Mi")])
    assert isinstance(verdict, Failed)
    assert "Insufficient memory" in verdict.cause
    assert "requests 128Mi memory but the largest node, minikube, has 100Mi allocatable" in (
        verdict.cause
    )
    assert "resources.requests" in verdict.hint


def test_a_pod_that_fits_an_empty_node_still_gets_the_unschedulable_grace() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    nodes = items("nodes-minikube.json")  # 3912Mi: busy now, room once other pods go
    verdict = pod_verdict(pod, [], Stopwatch(), 0.0, nodes)
    assert isinstance(verdict, Waiting)
    assert verdict.reason.startswith("Unschedulable for 0s")


def test_the_largest_of_several_nodes_decides_whether_a_pod_can_ever_fit() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    small, large = node_with(memory="100Mi"), node_with(memory="1Gi")
    large["metadata"]["name"] = "worker-2"
    assert isinstance(pod_verdict(pod, [], Stopwatch(), 0.0, [small, large]), Waiting)


def test_a_scale_up_in_progress_keeps_an_oversized_pod_waiting() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    scale_up = {
        "kind": "Event",
        "reason": "TriggeredScaleUp",
        "message": "pod triggered scale-up: [{pool-large 1->2 (max: 5)}]",
        "involvedObject": {
            "kind": "Pod",
            "name": name_of(pod),
            "uid": uid_of(pod),
        },
    }
    verdict = pod_verdict(pod, [scale_up], Stopwatch(), 0.0, [node_with(memory="100Mi")])
    assert isinstance(verdict, Waiting)


# -- the verdict policy, as a table (README "When things go wrong" says the same) ----------------


def exited_once() -> dict[str, Any]:
    """The auth pod right after its first exit: terminated, not yet restarted."""
    pod = recorded("pod-auth-crashloop.json")
    status = pod["status"]["containerStatuses"][0]
    status["state"] = {"terminated": dict(status["lastState"]["terminated"])}
    status["lastState"] = {}
    status["restartCount"] = 0
    return pod


def starting_with_probe_failing() -> dict[str, Any]:
    pod = recorded("pod-auth-running-not-ready.json")
    return pod


POLICY: list[tuple[str, Any, type, str]] = [
    # (state, pod, verdict at once, why)
    ("first exit, kubelet restarts it", exited_once, Waiting, "the kubelet restarts it"),
    ("OOMKilled once, running again", lambda: recorded("pod-auth-oomkilled.json"), Waiting, ""),
    (
        "CrashLoopBackOff (second exit)",
        crash_looping,
        Failed,
        "CrashLoopBackOff — container auth exited with code 3 (Error) again",
    ),
    (
        "OOMKilled again",
        lambda: crash_looping("OOMKilled", 137),
        Failed,
        "ran out of memory (limit 256Mi)",
    ),
    (
        "repository missing",
        lambda: pull_failure(RESOLVE + "pull access denied, repository does not exist"),
        Failed,
        "in no registry",
    ),
    ("tag missing", lambda: recorded("pod-auth-errimagepull-notfound.json"), Failed, "no such tag"),
    ("credentials refused", lambda: pull_failure(RESOLVE + "401 Unauthorized"), Failed, "refused"),
    (
        "registry timeout",
        lambda: pull_failure(RESOLVE + "dial tcp 10.0.0.9:443: i/o timeout"),
        Waiting,
        "",
    ),
    (
        "config error",
        lambda: recorded("pod-auth-createcontainerconfigerror.json"),
        Failed,
        'secret "auth-db" not found',
    ),
    ("probe not passed yet", starting_with_probe_failing, Waiting, ""),
    (
        "evicted",
        lambda: recorded("pod-auth-evicted.json"),
        Failed,
        "Evicted — The node was low on resource: memory",
    ),
]


@pytest.mark.parametrize(("state", "pod", "verdict", "why"), POLICY, ids=[row[0] for row in POLICY])
def test_verdict_policy(state: str, pod: Any, verdict: type, why: str) -> None:
    """Fail at once only what will not heal by itself; everything else waits (until its own
    grace, or the stage timeout, whose headline then names what it waited on)."""
    judged = auth_with([pod()])
    assert isinstance(judged, verdict), (state, judged)
    if why:
        assert why in (judged.cause if isinstance(judged, Failed) else judged.reason)
