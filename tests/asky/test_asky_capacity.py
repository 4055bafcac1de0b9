"""Whether a pod can ever fit: quantities and requests as the scheduler counts them."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.capacity import never_fits, parse_quantity, pod_requests


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
