"""A Deployment's verdict: its newest ReplicaSet's pods, its rollout conditions and counts."""

from __future__ import annotations

from asky_scripts.readiness.deployment import deployment_verdict
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Waiting
from tests.asky.readiness.recorded_objects import auth_with, items, not_ready, recorded


def test_ready_deployment_ignores_crashing_pods_of_an_old_replicaset() -> None:
    verdict = auth_with(items("pods-auth-ready.json"), rolled_out=True)
    assert verdict == Ready("2/2 ready")


def test_unobserved_generation_is_never_judged_ready() -> None:
    dep = recorded("deployment-auth-ready.json")
    dep["metadata"]["generation"] = 2
    verdict = deployment_verdict(
        dep,
        items("replicasets-auth.json"),
        items("pods-auth-ready.json"),
        [],
        stopwatch=Stopwatch(),
        now=0.0,
    )
    assert isinstance(verdict, Waiting)
    assert "not observed" in verdict.reason


def test_progress_deadline_exceeded_fails() -> None:
    dep = not_ready(recorded("deployment-auth-ready.json"))
    dep["status"]["conditions"][1].update(
        status="False",
        reason="ProgressDeadlineExceeded",
        message='ReplicaSet "auth-5d8f7c9b6d" has timed out progressing.',
    )
    verdict = deployment_verdict(dep, [], [], [], stopwatch=Stopwatch(), now=0.0)
    assert isinstance(verdict, Failed)
    assert "timed out progressing" in verdict.cause


def test_scaled_to_zero_is_ready() -> None:
    dep = recorded("deployment-auth-ready.json")
    dep["spec"]["replicas"] = 0
    dep["status"] = {"observedGeneration": 1, "conditions": dep["status"]["conditions"]}
    assert deployment_verdict(dep, [], [], [], stopwatch=Stopwatch(), now=0) == Ready("scaled to 0")
