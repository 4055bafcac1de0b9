"""Readiness rules on objects shaped as the apiserver returns them (tests/asky/recorded/)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from asky_scripts.readiness import verdicts as readiness
from asky_scripts.readiness.verdicts import Failed, Ready, Stopwatch, Waiting

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
        nodes=nodes or [],
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
    verdict = auth_with(
        [recorded("pod-auth-errimagepull-notfound.json")], nodes=items("nodes-minikube.json")
    )
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'ErrImagePull — image "asky-auth:1.0" not found: the registry has no such tag'
    )
    assert "minikube image load asky-auth:1.0" in verdict.hint


def test_pull_back_off_for_an_unreachable_registry_waits_naming_the_registry_error() -> None:
    """A registry timeout may pass: the kubelet retries (10 s, doubling), so run.py waits, and
    what it waits on (shown live and in a timeout's headline) is the pull error."""
    pod = recorded("pod-auth-imagepullbackoff.json")
    verdict = auth_with([pod], items("events-auth-pull-backoff.json"))
    assert verdict == Waiting(
        '1/2 ready: ImagePullBackOff: Failed to pull image "registry.example:5000/asky-auth:1.0":'
        " dial tcp 10.0.0.9:5000: i/o timeout (3 attempts)"
    )


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


def test_an_image_in_no_registry_on_minikube_says_minikube_image_load_or_build() -> None:
    """Docker Hub answers an unknown repository (a local build never loaded into minikube, the
    most common failure of this stack) with containerd's "pull access denied"."""
    pod = pull_failure(
        RESOLVE + "pull access denied, repository does not exist or may require authorization: "
        "server message: insufficient_scope: authorization failed"
    )
    verdict = auth_with([pod], nodes=items("nodes-minikube.json"))
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'ImagePullBackOff — image "asky-auth:1.0" is in no registry the node can reach: the '
        "registry says the repository does not exist (or needs credentials)"
    )
    assert "minikube image load asky-auth:1.0" in verdict.hint
    assert "minikube image build -t asky-auth:1.0" in verdict.hint
    elsewhere = auth_with([pod])
    assert isinstance(elsewhere, Failed) and "push the image to a registry" in elsewhere.hint


def test_credentials_the_registry_refuses_fail_at_once_asking_for_a_pull_secret() -> None:
    pod = pull_failure(
        RESOLVE + "unexpected status from HEAD request to https://registry-1.docker.io/v2/"
        "library/asky-auth/manifests/1.0: 401 Unauthorized"
    )
    verdict = auth_with([pod])
    assert isinstance(verdict, Failed)
    assert "refused the credentials" in verdict.cause and "imagePullSecret" in verdict.hint


def test_image_never_pull_says_the_image_must_be_loaded() -> None:
    pod = recorded("pod-auth-errimagepull-notfound.json")
    pod["status"]["containerStatuses"][0]["state"]["waiting"] = {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "asky-auth:1.0" is not present with pull policy of Never',
    }
    verdict = auth_with([pod], nodes=items("nodes-minikube.json"))
    assert isinstance(verdict, Failed)
    assert "minikube image load asky-auth:1.0" in verdict.hint


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


def crash_looping(reason: str = "Error", exit_code: int = 3) -> dict[str, Any]:
    """The auth pod after its second exit: CrashLoopBackOff, the exit in lastState."""
    pod = recorded("pod-auth-crashloop.json")
    status = pod["status"]["containerStatuses"][0]
    status["lastState"]["terminated"].update(reason=reason, exitCode=exit_code)
    return pod


def test_oom_killed_twice_reports_the_memory_limit() -> None:
    verdict = auth_with([crash_looping("OOMKilled", 137)])
    assert isinstance(verdict, Failed)
    assert "OOMKilled" in verdict.cause and "256Mi" in verdict.cause


def test_oom_killed_once_then_running_is_given_time() -> None:
    """The kubelet restarted it at once; a start-up memory spike may not come back."""
    verdict = auth_with([recorded("pod-auth-oomkilled.json")])
    assert isinstance(verdict, Waiting)


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


def test_running_but_not_ready_names_the_failing_probe() -> None:
    pod = recorded("pod-auth-running-not-ready.json")
    unhealthy = {
        "kind": "Event",
        "type": "Warning",
        "reason": "Unhealthy",
        "message": "Readiness probe failed: dial tcp 10.244.0.7:8000: connect: connection refused",
        "count": 4,
        "lastTimestamp": "2026-11-20T10:02:00Z",
        "involvedObject": {"kind": "Pod", "uid": pod["metadata"]["uid"]},
    }
    verdict = auth_with([pod], [unhealthy])
    assert verdict == Waiting(
        "1/2 ready: Readiness probe failed: dial tcp 10.244.0.7:8000: connect: connection "
        "refused (x4)"
    )


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
        'ConfigMap auth-config has no key settings.yaml, needed by volume "config" (FailedMount)'
    )
    assert "config-maps/" in verdict.hint


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            'MountVolume.SetUp failed for volume "config" : configmap "auth-config" not found',
            'ConfigMap auth-config does not exist, needed by volume "config" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "tls" : secret "auth-tls" not found',
            'Secret auth-tls does not exist, needed by volume "tls" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "credentials" : [secret "auth-db" not found, '
            'secret "auth-token-key" not found]',
            "Secret auth-db does not exist; Secret auth-token-key does not exist, needed by "
            'volume "credentials" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "credentials" : references non-existent secret '
            "key: password",
            'Secret auth-db has no key password, needed by volume "credentials" (FailedMount)',
        ),
    ],
)
def test_every_missing_mount_source_names_the_object_to_fix(message: str, cause: str) -> None:
    """The kubelet's key error does not name the Secret: the pod's projected volume does."""
    events = items("events-auth-failedmount.json")
    events[-1]["message"] = message
    pod = recorded("pod-auth-containercreating.json")
    pod["spec"]["volumes"].append(
        {
            "name": "credentials",
            "projected": {
                "sources": [
                    {"secret": {"name": "auth-db", "items": [{"key": "password", "path": "p"}]}},
                    {"secret": {"name": "auth-token-key"}},
                ]
            },
        }
    )
    watch = Stopwatch()
    auth_with([pod], events, now=0.0, stopwatch=watch)
    verdict = auth_with([pod], events, now=2.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert verdict.cause == cause


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
    ("CrashLoopBackOff (second exit)", crash_looping, Failed, "code 3 (Error) again"),
    ("OOMKilled again", lambda: crash_looping("OOMKilled", 137), Failed, "ran out of memory"),
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
        "auth-db",
    ),
    ("probe not passed yet", starting_with_probe_failing, Waiting, ""),
    ("evicted", lambda: recorded("pod-auth-evicted.json"), Failed, "Evicted"),
]


@pytest.mark.parametrize(("state", "pod", "verdict", "why"), POLICY, ids=[row[0] for row in POLICY])
def test_verdict_policy(state: str, pod: Any, verdict: type, why: str) -> None:
    """Fail at once only what will not heal by itself; everything else waits (until its own
    grace, or the stage timeout, whose headline then names what it waited on)."""
    judged = auth_with([pod()])
    assert isinstance(judged, verdict), (state, judged)
    if why:
        assert why in (judged.cause if isinstance(judged, Failed) else judged.reason)
