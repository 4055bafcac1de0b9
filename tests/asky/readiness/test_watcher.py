"""The per-stage wait loop against a scripted kubectl: what a user sees as a stage waits, ends,
fails or times out (the live verdict lines, the stage line's detail, the error and its report)."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.errors import StageTimeoutError, WorkloadFailedError
from asky_scripts.model.stages import Stage
from asky_scripts.readiness.verdict import Ready, Verdict, Waiting
from asky_scripts.readiness.watcher import StageWatcher
from tests.asky.fake_kubectl import FakeRunner, fake_kubectl, items
from tests.asky.readiness.recorded_objects import items as recorded_items
from tests.asky.readiness.recorded_objects import not_ready, recorded, unhealthy

STAGE = Stage("workloads", "the auth Service and Deployment; wait for them")
AUTH = [("Service", "auth"), ("Deployment", "auth")]
PROBE_503 = "Readiness probe failed: HTTP probe failed with statuscode: 503"
UNREACHABLE = "Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout"
Change = tuple[str, str, str, Verdict]


def service() -> dict[str, Any]:
    svc = recorded("service-gateway-nodeport.json")
    svc["metadata"]["name"] = "auth"
    return svc


def endpoints() -> dict[str, Any]:
    eps = recorded("endpointslice-gateway.json")
    eps["metadata"]["labels"]["kubernetes.io/service-name"] = "auth"
    return eps


def cluster(deployment: dict[str, Any], *pods: dict[str, Any], **more: Any) -> dict[str, Any]:
    """One tick's ``kubectl get`` answer: the auth Service and Deployment and what is behind."""
    objects = [service(), deployment, *recorded_items("replicasets-auth.json"), *pods]
    return items(*objects, *more.get("extra", ()))


def watcher(runner: FakeRunner, changes: list[Change], timeout: float = 5.0) -> StageWatcher:
    def on_change(stage: str, kind: str, name: str, verdict: Verdict) -> None:
        changes.append((stage, kind, name, verdict))

    return StageWatcher(fake_kubectl(runner), "asky", on_change, timeout=timeout)


def test_a_deployment_pending_then_ready_ends_the_wait_telling_each_change_once() -> None:
    deployment = recorded("deployment-auth-ready.json")
    pending = cluster(not_ready(deployment), *recorded_items("pods-auth-ready.json"))
    runner = FakeRunner().on("get", stdout=pending, times=2)
    runner.on(
        "get", stdout=cluster(deployment, *recorded_items("pods-auth-ready.json"), endpoints())
    )
    changes: list[Change] = []

    detail = watcher(runner, changes).wait(STAGE, AUTH)

    assert detail == "auth 2/2 ready"
    assert changes == [  # in the stage's order, each change once (two ticks were pending)
        ("workloads", "Service", "auth", Waiting("no ready endpoint yet")),
        ("workloads", "Deployment", "auth", Waiting("1/2 ready")),
        ("workloads", "Service", "auth", Ready("NodePort 10.96.120.15, 1 ready endpoint(s)")),
        ("workloads", "Deployment", "auth", Ready("2/2 ready")),
    ]
    assert len(runner.calls) == 3  # one kubectl get per tick


def test_a_crash_loop_stops_the_wait_naming_the_container_with_its_previous_log() -> None:
    deployment = not_ready(recorded("deployment-auth-ready.json"))
    runner = FakeRunner().on("get", stdout=cluster(deployment, recorded("pod-auth-crashloop.json")))
    runner.on("logs", stdout="panic: cannot reach postgres:5432\n")

    with pytest.raises(WorkloadFailedError) as failed:
        watcher(runner, []).wait(STAGE, AUTH)

    error = failed.value
    assert error.message.startswith("auth: CrashLoopBackOff — container auth exited with code")
    assert "logs --previous" in error.hint
    (report,) = error.reports
    assert report.subject == "Deployment/auth"
    assert ("auth-5d8f7c9b6d-x7k2p/auth (previous log)", "panic: cannot reach postgres:5432") in (
        report.logs
    )


def test_a_stage_still_waiting_at_the_timeout_says_what_each_object_waits_on() -> None:
    """The Service waits on the Deployment's pods, so the headline names the Deployment only,
    with the probe it waits on; a ConfigMap that is present says nothing."""
    pod = recorded("pod-auth-running-not-ready.json")
    probe_failed = unhealthy(
        pod, "Readiness probe failed: HTTP probe failed with statuscode: 503", 3
    )
    config = {"kind": "ConfigMap", "metadata": {"name": "auth-config"}}
    answer = cluster(
        not_ready(recorded("deployment-auth-ready.json")), pod, extra=(probe_failed, config)
    )
    runner = FakeRunner().on("get", stdout=answer).on("logs", stdout="listening on :8000\n")

    with pytest.raises(StageTimeoutError) as timed_out:
        watcher(runner, [], timeout=0.3).wait(STAGE, [*AUTH, ("ConfigMap", "auth-config")])

    error = timed_out.value
    assert error.message == (
        "stage workloads not ready after 0.3s: auth: 1/2 ready: Readiness probe failed: HTTP "
        "probe failed with statuscode: 503 (x3)"
    )
    assert error.hint == "raise --timeout (now 0.3s) if it is only slow"
    (report,) = error.reports
    assert report.subject == "Deployment/auth"
    assert report.cause.startswith("auth: still waiting: 1/2 ready: Readiness probe failed")
    assert any("Unhealthy (x3) on auth-5d8f7c9b6d-x7k2p" in line for line in report.events)


def test_a_tick_whose_read_fails_is_followed_by_the_next_tick() -> None:
    deployment = recorded("deployment-auth-ready.json")
    runner = FakeRunner().on("get", returncode=1, stderr=UNREACHABLE, times=2)
    runner.on(
        "get", stdout=cluster(deployment, *recorded_items("pods-auth-ready.json"), endpoints())
    )
    changes: list[Change] = []

    detail = watcher(runner, changes).wait(STAGE, AUTH)

    assert detail == "auth 2/2 ready"
    assert [verdict for *_, verdict in changes] == [
        Ready("NodePort 10.96.120.15, 1 ready endpoint(s)"),
        Ready("2/2 ready"),
    ]
    assert len(runner.calls) == 3  # two attempts of the failed tick, then the next tick


def test_objects_with_no_status_are_ready_once_present_and_counted_on_the_stage_line() -> None:
    present = items(
        {"kind": "ConfigMap", "metadata": {"name": "auth-config"}},
        {"kind": "Secret", "metadata": {"name": "auth-db"}},
    )
    runner = FakeRunner().on("get", stdout=present)
    stage = Stage("configuration", "ConfigMaps and Secrets")

    detail = watcher(runner, []).wait(stage, [("ConfigMap", "auth-config"), ("Secret", "auth-db")])

    assert detail == "2 objects present"
    assert runner.commands() == ["get configmaps,secrets"]
