"""A Service's verdict: cluster IP, node ports, and ready endpoints behind a ready workload."""

from __future__ import annotations

from typing import Any

from asky_scripts.readiness.service import service_verdict
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Waiting
from tests.asky.readiness.recorded_objects import recorded


def test_service_counts_only_ready_endpoints() -> None:
    verdict = service_verdict(
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
    assert isinstance(service_verdict(svc, [], now=0.0, **args), Waiting)
    verdict = service_verdict(svc, [], now=11.0, **args)
    assert isinstance(verdict, Failed)
    assert "no ready endpoint" in verdict.cause and "selector" in verdict.hint


def test_node_port_service_waits_for_its_node_port() -> None:
    svc = recorded("service-gateway-nodeport.json")
    del svc["spec"]["ports"][0]["nodePort"]
    verdict = service_verdict(
        svc, [], expect_endpoints=False, workload_ready=False, stopwatch=Stopwatch(), now=0.0
    )
    assert verdict == Waiting("no nodePort yet for port 80")
