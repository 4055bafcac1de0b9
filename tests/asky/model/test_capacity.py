"""Whether a pod can ever fit: quantities and requests as the scheduler counts them."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.model.capacity import (
    Workload,
    limit_range_problems,
    never_fits,
    node_problems,
    parse_quantity,
    pod_requests,
    quota_problems,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("250m", 0.25), ("2", 2.0), ("1Gi", 2.0**30), ("3912Mi", 3912 * 2.0**20), ("1k", 1e3)],
)
def test_quantities_read_as_the_apiserver_writes_them(text: str, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value)


def test_an_unreadable_quantity_is_none_and_never_judged() -> None:
    assert parse_quantity("lots") is None
    node = {"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "lots"}}}
    assert never_fits(pod(cpu="64"), [node]) is None


def pod(init: dict[str, str] | None = None, **requests: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "resources": {"requests": requests}}]}
    if init:
        spec["initContainers"] = [{"name": "init", "resources": {"requests": init}}]
    return {"spec": spec}


def test_the_larger_of_the_containers_and_an_init_container_is_what_must_fit() -> None:
    assert pod_requests(pod(init={"cpu": "2"}, cpu="500m")) == {"cpu": 2.0}
    assert pod_requests(pod(init={"cpu": "100m"}, cpu="500m")) == {"cpu": 0.5}


def test_limits_stand_in_for_missing_requests() -> None:
    only_limits = {"spec": {"containers": [{"resources": {"limits": {"memory": "1Gi"}}}]}}
    assert pod_requests(only_limits) == {"memory": 2.0**30}


def test_without_nodes_nothing_is_judged_too_big() -> None:
    assert never_fits(pod(cpu="64"), []) is None


# -- the whole stack, before anything changes ---------------------------------------------------


def node(cpu: str = "2", memory: str = "3912Mi", name: str = "minikube") -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"allocatable": {"cpu": cpu, "memory": memory}}}


def workload(name: str, replicas: int, cpu: str, memory: str, limit: str = "") -> Workload:
    resources: dict[str, Any] = {"requests": {"cpu": cpu, "memory": memory}}
    if limit:
        resources["limits"] = {"memory": limit}
    return Workload(
        name, {"spec": {"containers": [{"name": name, "resources": resources}]}}, replicas
    )


def running_on(node_name: str, cpu: str, namespace: str = "kube-system") -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace},
        "spec": {"nodeName": node_name, "containers": [{"resources": {"requests": {"cpu": cpu}}}]},
        "status": {"phase": "Running"},
    }


def test_a_stack_that_fits_has_no_problem() -> None:
    stack = [workload("db", 1, "250m", "256Mi"), workload("api", 2, "50m", "128Mi")]
    assert node_problems(stack, [node()], []) == []


def test_replicas_beyond_the_nodes_name_the_resource_the_workloads_and_the_shortfall() -> None:
    stack = [workload("db", 1, "250m", "256Mi"), workload("api", 30, "50m", "128Mi")]
    assert node_problems(stack, [node()], []) == [
        "the stack requests 4096Mi memory (db 256Mi, api 30 x 128Mi) but the nodes have 3912Mi "
        "free of 3912Mi allocatable: short by 184Mi memory; lower --replicas or the requests, "
        "or add a node"
    ]


def test_what_other_namespaces_already_requested_is_not_free() -> None:
    stack = [workload("db", 1, "250m", "256Mi"), workload("api", 2, "50m", "128Mi")]
    busy = [running_on("minikube", "1800m"), running_on("elsewhere", "4")]
    (problem,) = node_problems(stack, [node()], busy)
    assert problem.startswith("the stack requests 350m cpu (db 250m, api 2 x 50m) but the nodes")
    assert "200m free of 2 allocatable, 1.8 of it requested by 1 pods of other namespaces" in (
        problem
    )
    assert "short by 150m cpu" in problem


def test_a_pod_bigger_than_every_node_is_named() -> None:
    (problem, *_) = node_problems([workload("db", 1, "4", "256Mi")], [node()], None)
    assert problem == (
        "db: it requests 4 cpu but the largest node, minikube, has 2 allocatable; it could never "
        "be scheduled"
    )


def test_a_quota_counts_other_pods_but_gives_back_the_stacks_own() -> None:
    stack = [workload("api", 4, "100m", "64Mi")]
    quota = {
        "metadata": {"name": "team"},
        "spec": {"hard": {"requests.cpu": "500m", "pods": "10"}},
        "status": {
            "hard": {"requests.cpu": "500m", "pods": "10"},
            "used": {"requests.cpu": "300m"},
        },
    }
    ours_now = [running_on("minikube", "100m", "asky")]
    assert quota_problems(stack, [quota], ours_now) == [
        "ResourceQuota team allows 500m requests.cpu in the namespace, 200m of it used by other "
        "pods; the stack needs 400m: short by 100m"
    ]
    assert quota_problems(stack, [quota], ours_now * 3) == []


def test_a_limit_range_maximum_below_a_containers_limit_is_named() -> None:
    limits = {
        "metadata": {"name": "small"},
        "spec": {"limits": [{"type": "Container", "max": {"memory": "200Mi"}}]},
    }
    stack = [workload("db", 1, "250m", "128Mi", limit="1Gi"), workload("api", 1, "50m", "64Mi")]
    assert limit_range_problems(stack, [limits]) == [
        "LimitRange small: container db/db limits 1024Mi memory, above its maximum 200Mi"
    ]
