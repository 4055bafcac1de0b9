"""Readiness rules on objects shaped as the apiserver returns them (tests/asky/recorded/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from asky_scripts import readiness
from asky_scripts.readiness import Failed, Ready, Stopwatch, Waiting

RECORDED = Path(__file__).parent / "recorded"


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
) -> readiness.Verdict:
    """The auth Deployment judged with these pods; its status says 1/2 unless ``rolled_out``."""
    dep = recorded("deployment-auth-ready.json")
    return readiness.deployment_verdict(
        dep if rolled_out else not_ready(dep),
        items("replicasets-auth.json"),
        pods,
        events or [],
        stopwatch=stopwatch or Stopwatch(),
        now=now,
    )


def not_ready(deployment: dict[str, Any]) -> dict[str, Any]:
    dep = copy.deepcopy(deployment)
    dep["status"].update(readyReplicas=1, availableReplicas=1)
    dep["status"]["conditions"][0].update(status="False", reason="MinimumReplicasUnavailable")
    dep["status"]["conditions"][1].update(reason="ReplicaSetUpdated")
    return dep


def test_ready_deployment_ignores_crashing_pods_of_an_old_replicaset() -> None:
    verdict = auth_with(items("pods-auth-ready.json"), rolled_out=True)
    assert verdict == Ready("2/2 ready")


def test_unobserved_generation_is_never_judged_ready() -> None:
    dep = recorded("deployment-auth-ready.json")
    dep["metadata"]["generation"] = 2
    verdict = readiness.deployment_verdict(
        dep,
        items("replicasets-auth.json"),
        items("pods-auth-ready.json"),
        [],
        stopwatch=Stopwatch(),
        now=0.0,
    )
    assert isinstance(verdict, Waiting)
    assert "not observed" in verdict.reason


def test_crash_loop_fails_at_once_with_the_exit_code() -> None:
    verdict = auth_with([recorded("pod-auth-crashloop.json")])
    assert isinstance(verdict, Failed)
    assert "CrashLoopBackOff" in verdict.cause
    assert "exited with code 3" in verdict.cause
    assert verdict.cause.startswith("CrashLoopBackOff — container auth")


def test_image_not_found_fails_at_once_naming_the_image() -> None:
    verdict = auth_with([recorded("pod-auth-errimagepull-notfound.json")])
    assert isinstance(verdict, Failed)
    assert 'ErrImagePull — image "asky-auth:1.0" not found' in verdict.cause
    assert "minikube image load asky-auth:1.0" in verdict.hint


def test_pull_back_off_for_an_unreachable_registry_fails_after_two_back_offs() -> None:
    pod = recorded("pod-auth-imagepullbackoff.json")
    events = items("events-auth-pull-backoff.json")
    verdict = auth_with([pod], events)
    assert isinstance(verdict, Failed)
    assert "after 2 back-offs" in verdict.cause
    first_backoff = [copy.deepcopy(e) for e in events]
    for event in first_backoff:
        event["count"] = 1
    assert isinstance(auth_with([pod], first_backoff), Waiting)


def test_create_container_config_error_names_the_missing_secret() -> None:
    verdict = auth_with([recorded("pod-auth-createcontainerconfigerror.json")])
    assert isinstance(verdict, Failed)
    assert 'secret "auth-db" not found' in verdict.cause


def test_config_error_from_a_cold_kubelet_cache_is_only_waiting() -> None:
    pod = recorded("pod-auth-createcontainerconfigerror.json")
    pod["status"]["containerStatuses"][0]["state"]["waiting"]["message"] = (
        "failed to sync secret cache: timed out waiting for the condition"
    )
    assert isinstance(auth_with([pod]), Waiting)


def test_oom_killed_reports_the_memory_limit() -> None:
    verdict = auth_with([recorded("pod-auth-oomkilled.json")])
    assert isinstance(verdict, Failed)
    assert "OOMKilled" in verdict.cause and "256Mi" in verdict.cause


def test_evicted_pod_fails_with_the_node_message() -> None:
    verdict = auth_with([recorded("pod-auth-evicted.json")])
    assert isinstance(verdict, Failed)
    assert "Evicted — The node was low on resource: memory" in verdict.cause


def test_unschedulable_waits_15_seconds_then_fails() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    watch = Stopwatch()
    assert isinstance(auth_with([pod], now=100.0, stopwatch=watch), Waiting)
    assert isinstance(auth_with([pod], now=110.0, stopwatch=watch), Waiting)
    verdict = auth_with([pod], now=116.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert "Insufficient memory" in verdict.cause


def test_running_but_not_ready_with_restarts_warns() -> None:
    dep = not_ready(recorded("deployment-auth-ready.json"))
    verdict = readiness.deployment_verdict(
        dep,
        items("replicasets-auth.json"),
        [recorded("pod-auth-running-not-ready.json")],
        [],
        stopwatch=Stopwatch(),
        now=0.0,
    )
    assert isinstance(verdict, Waiting)
    assert verdict.reason.startswith("1/2 ready")
    assert "2 restart(s)" in verdict.warning


def test_progress_deadline_exceeded_fails() -> None:
    dep = not_ready(recorded("deployment-auth-ready.json"))
    dep["status"]["conditions"][1].update(
        status="False",
        reason="ProgressDeadlineExceeded",
        message='ReplicaSet "auth-5d8f7c9b6d" has timed out progressing.',
    )
    verdict = readiness.deployment_verdict(dep, [], [], [], stopwatch=Stopwatch(), now=0.0)
    assert isinstance(verdict, Failed)
    assert "timed out progressing" in verdict.cause


def test_scaled_to_zero_is_ready() -> None:
    dep = recorded("deployment-auth-ready.json")
    dep["spec"]["replicas"] = 0
    dep["status"] = {"observedGeneration": 1, "conditions": dep["status"]["conditions"]}
    assert readiness.deployment_verdict(dep, [], [], [], stopwatch=Stopwatch(), now=0) == Ready(
        "scaled to 0"
    )


def test_service_counts_only_ready_endpoints() -> None:
    verdict = readiness.service_verdict(
        recorded("service-gateway-nodeport.json"),
        [recorded("endpointslice-gateway.json")],
        expect_endpoints=True,
        workload_ready=True,
        stopwatch=Stopwatch(),
        now=0.0,
    )
    assert verdict == Ready("NodePort 10.96.120.15, 1 ready endpoint(s)")


def test_service_whose_selector_matches_no_ready_pod_fails_after_grace() -> None:
    svc = recorded("service-gateway-nodeport.json")
    watch = Stopwatch()
    args: dict[str, Any] = {"expect_endpoints": True, "workload_ready": True, "stopwatch": watch}
    assert isinstance(readiness.service_verdict(svc, [], now=0.0, **args), Waiting)
    verdict = readiness.service_verdict(svc, [], now=11.0, **args)
    assert isinstance(verdict, Failed)
    assert "no ready endpoint" in verdict.cause and "selector" in verdict.hint


def test_node_port_service_waits_for_its_node_port() -> None:
    svc = recorded("service-gateway-nodeport.json")
    del svc["spec"]["ports"][0]["nodePort"]
    verdict = readiness.service_verdict(
        svc, [], expect_endpoints=False, workload_ready=False, stopwatch=Stopwatch(), now=0.0
    )
    assert verdict == Waiting("no nodePort yet for port 80")


def test_released_volume_fails_with_the_fix() -> None:
    verdict = readiness.volume_verdict(recorded("pv-asky-released.json"), "asky", "postgres-data")
    assert isinstance(verdict, Failed)
    assert "released" in verdict.cause and "kubectl patch pv asky-postgres-data" in verdict.hint


def test_volume_bound_to_someone_elses_claim_fails() -> None:
    pv = recorded("pv-asky-released.json")
    pv["status"]["phase"] = "Bound"
    pv["spec"]["claimRef"]["namespace"] = "other"
    assert isinstance(readiness.volume_verdict(pv, "asky", "postgres-data"), Failed)
    assert isinstance(readiness.volume_verdict(pv, "other", "postgres-data"), Ready)


@pytest.mark.parametrize(
    ("mode", "expected"), [("WaitForFirstConsumer", Ready), ("Immediate", Waiting)]
)
def test_pending_claim_is_satisfied_only_by_a_wait_for_first_consumer_class(
    mode: str, expected: type
) -> None:
    storage_class = {
        "kind": "StorageClass",
        "metadata": {"name": "fast"},
        "volumeBindingMode": mode,
    }
    verdict = readiness.claim_verdict(recorded("pvc-postgres-pending.json"), storage_class, [])
    assert isinstance(verdict, expected)


def test_provisioning_failed_event_fails_the_claim() -> None:
    verdict = readiness.claim_verdict(
        recorded("pvc-postgres-pending.json"), None, items("events-pvc-provisioning-failed.json")
    )
    assert isinstance(verdict, Failed)
    assert 'storageclass.storage.k8s.io "fast" not found' in verdict.cause


def test_terminating_namespace_fails() -> None:
    ns = {
        "kind": "Namespace",
        "metadata": {"name": "asky", "deletionTimestamp": "2026-11-20T11:00:00Z"},
        "status": {"phase": "Terminating"},
    }
    verdict = readiness.namespace_verdict(ns)
    assert isinstance(verdict, Failed) and "Terminating" in verdict.cause


def node_with(**allocatable: str) -> dict[str, Any]:
    node = copy.deepcopy(items("nodes-minikube.json")[0])
    node["status"]["allocatable"].update(allocatable)
    return node


def test_a_pod_bigger_than_every_node_fails_at_once_naming_the_allocatable() -> None:
    pod = recorded("pod-auth-unschedulable.json")  # requests 128Mi: Insufficient memory
    verdict = readiness.pod_verdict(pod, [], Stopwatch(), 0.0, [node_with(memory="100Mi")])
    assert isinstance(verdict, Failed)
    assert "Insufficient memory" in verdict.cause
    assert "requests 128Mi memory but the largest node, minikube, has 100Mi allocatable" in (
        verdict.cause
    )
    assert "resources.requests" in verdict.hint


def test_a_pod_that_fits_an_empty_node_still_gets_the_unschedulable_grace() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    nodes = items("nodes-minikube.json")  # 3912Mi: busy now, room once other pods go
    verdict = readiness.pod_verdict(pod, [], Stopwatch(), 0.0, nodes)
    assert isinstance(verdict, Waiting)
    assert verdict.reason.startswith("Unschedulable for 0s")


def test_the_largest_of_several_nodes_decides_whether_a_pod_can_ever_fit() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    small, large = node_with(memory="100Mi"), node_with(memory="1Gi")
    large["metadata"]["name"] = "worker-2"
    assert isinstance(readiness.pod_verdict(pod, [], Stopwatch(), 0.0, [small, large]), Waiting)


def test_a_scale_up_in_progress_keeps_an_oversized_pod_waiting() -> None:
    pod = recorded("pod-auth-unschedulable.json")
    scale_up = {
        "kind": "Event",
        "reason": "TriggeredScaleUp",
        "message": "pod triggered scale-up: [{pool-large 1->2 (max: 5)}]",
        "involvedObject": {
            "kind": "Pod",
            "name": readiness.name_of(pod),
            "uid": readiness.uid_of(pod),
        },
    }
    verdict = readiness.pod_verdict(pod, [scale_up], Stopwatch(), 0.0, [node_with(memory="100Mi")])
    assert isinstance(verdict, Waiting)


def test_a_mount_of_a_missing_config_key_fails_after_a_second_with_the_kubelet_message() -> None:
    pod = recorded("pod-auth-containercreating.json")
    events = items("events-auth-failedmount.json")
    watch = Stopwatch()
    first = auth_with([pod], events, now=50.0, stopwatch=watch)
    assert isinstance(first, Waiting)
    assert "non-existent config key: settings.yaml" in first.reason
    verdict = auth_with([pod], events, now=51.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'FailedMount — MountVolume.SetUp failed for volume "config" : '
        "configmap references non-existent config key: settings.yaml"
    )
    assert "config-maps/" in verdict.hint


@pytest.mark.parametrize(
    "message",
    [
        'MountVolume.SetUp failed for volume "config" : configmap "auth-config" not found',
        'MountVolume.SetUp failed for volume "tls" : secret "auth-tls" not found',
        'MountVolume.SetUp failed for volume "tls" : references non-existent secret key: tls.crt',
    ],
)
def test_every_missing_mount_source_is_recognised(message: str) -> None:
    events = items("events-auth-failedmount.json")
    events[-1]["message"] = message
    watch = Stopwatch()
    auth_with([recorded("pod-auth-containercreating.json")], events, now=0.0, stopwatch=watch)
    verdict = auth_with(
        [recorded("pod-auth-containercreating.json")], events, now=2.0, stopwatch=watch
    )
    assert isinstance(verdict, Failed)
    assert verdict.cause == f"FailedMount — {message}"


def test_other_mount_failures_and_old_events_of_a_started_pod_never_fail() -> None:
    events = items("events-auth-failedmount.json")
    slow = copy.deepcopy(events)
    slow[-1]["message"] = 'MountVolume.SetUp failed for volume "data" : timed out waiting'
    watch = Stopwatch()
    pending = recorded("pod-auth-containercreating.json")
    for now in (0.0, 5.0):
        assert isinstance(auth_with([pending], slow, now=now, stopwatch=watch), Waiting)
    started = recorded("pod-auth-running-not-ready.json")
    started["metadata"]["uid"] = pending["metadata"]["uid"]
    for now in (0.0, 5.0):
        assert isinstance(auth_with([started], events, now=now, stopwatch=watch), Waiting)
