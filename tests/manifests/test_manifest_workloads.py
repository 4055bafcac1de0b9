"""Policy: workloads that stay up, stay inside their budget and run the images we chose.

No linter knows that a replicated service needs a PodDisruptionBudget, that a probe must point
at a port the container opens, or that our own images only exist inside minikube.
"""

from __future__ import annotations

import re
from typing import Any

OWN_IMAGES = {
    "auth": "asky-auth",
    "pyxis": "asky-pyxis",
    "request-management": "asky-request-management",
}
PROBES = ("readinessProbe", "livenessProbe")
# An exact version (major.minor at least), never a moving tag such as latest or stable.
PINNED_TAG = re.compile(r":\d+\.\d+[\w.-]*$")


def test_every_container_has_readiness_and_liveness_probes(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    missing = [
        f"{workload}/{c['name']}: {probe}"
        for workload, spec in pod_specs.items()
        for c in spec["containers"]
        for probe in PROBES
        if probe not in c
    ]

    assert missing == []


def test_every_probe_targets_a_port_the_container_opens(
    containers: dict[str, dict[str, Any]],
) -> None:
    wrong = []
    for name, c in containers.items():
        ports = {p["containerPort"] for p in c.get("ports", [])}
        ports |= {p["name"] for p in c.get("ports", []) if "name" in p}
        for probe in ("startupProbe", *PROBES):
            handler = c.get(probe, {}).get("tcpSocket") or c.get(probe, {}).get("httpGet")
            if handler is not None and handler["port"] not in ports:
                wrong.append(f"{name}: {probe} port {handler['port']}")

    assert wrong == []


def test_every_container_has_cpu_and_memory_requests_and_limits(
    containers: dict[str, dict[str, Any]],
) -> None:
    missing = [
        f"{name}: {bound}.{resource}"
        for name, c in containers.items()
        for bound in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in c.get("resources", {}).get(bound, {})
    ]

    assert missing == []


def test_stateless_services_run_two_replicas_and_postgres_one(
    deployments: dict[str, dict[str, Any]],
) -> None:
    replicas = {name: doc["spec"].get("replicas", 1) for name, doc in deployments.items()}

    assert replicas == {
        "postgres": 1,
        "auth": 2,
        "gateway": 2,
        "pyxis": 2,
        "request-management": 2,
    }


def allowed_disruptions(budget: dict[str, Any], replicas: int) -> int:
    spec = budget["spec"]
    if "maxUnavailable" in spec:
        return int(spec["maxUnavailable"])
    return replicas - int(spec.get("minAvailable", 0))


def test_every_replicated_deployment_has_a_disruption_budget_it_can_satisfy(
    deployments: dict[str, dict[str, Any]], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    budgets = [doc for (kind, _), doc in objects.items() if kind == "PodDisruptionBudget"]
    problems = []
    for name, doc in deployments.items():
        replicas = doc["spec"].get("replicas", 1)
        labels = doc["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        if replicas > 1 and len(covering) != 1:
            problems.append(f"{name}: {len(covering)} budgets")
        # A budget over a single replica would block every node drain for good.
        if replicas == 1 and covering:
            problems.append(f"{name}: budget on a single replica")
        # One eviction at a time, whatever run.py --replicas makes of the replica count.
        for budget in covering:
            if not 0 < allowed_disruptions(budget, replicas) < replicas:
                problems.append(f"{name}: budget must allow some but not all pods to go")
            if "maxUnavailable" not in budget["spec"]:
                problems.append(f"{name}: minAvailable blocks drains once scaled to one replica")

    assert problems == []


def test_every_image_is_pinned_to_an_exact_version(containers: dict[str, dict[str, Any]]) -> None:
    floating = [
        f"{name}: {c['image']}"
        for name, c in containers.items()
        if not PINNED_TAG.search(c["image"])
    ]

    assert floating == []


def test_own_images_are_used_from_minikube_without_pulling(
    containers: dict[str, dict[str, Any]],
) -> None:
    images = {
        name.split("/")[0]: (c["image"].rsplit(":", 1)[0], c.get("imagePullPolicy"))
        for name, c in containers.items()
        if name.split("/")[0] in OWN_IMAGES
    }

    assert images == {workload: (image, "IfNotPresent") for workload, image in OWN_IMAGES.items()}


def test_postgres_is_a_17_release_and_gateway_runs_unprivileged_nginx(
    containers: dict[str, dict[str, Any]],
) -> None:
    # PostgreSQL 18 images moved PGDATA out of /var/lib/postgresql/data: an upgrade is a
    # deliberate migration, never a tag bump.
    assert re.fullmatch(r"postgres:17\.\d+-\w+", containers["postgres/postgres"]["image"])
    assert containers["gateway/gateway"]["image"].startswith("nginxinc/nginx-unprivileged:")


def test_rolling_updates_never_drop_below_the_desired_replicas(
    deployments: dict[str, dict[str, Any]],
) -> None:
    risky = [
        name
        for name, doc in deployments.items()
        if doc["spec"].get("replicas", 1) > 1
        and doc["spec"]["strategy"].get("rollingUpdate", {}).get("maxUnavailable") != 0
    ]

    assert risky == []
