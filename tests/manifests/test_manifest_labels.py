"""Policy: labels, selectors and namespaces that let run.py deploy independent copies.

run.py rewrites app.kubernetes.io/instance to the target namespace, and the namespace itself;
that only yields an independent copy when no manifest hard-codes a namespace and every selector
pairs name with instance. A selector that matches no pod fails silently: a Service with no
endpoints, a policy that protects nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMMON_LABELS = {
    "app.kubernetes.io/part-of": "asky",
    "app.kubernetes.io/managed-by": "asky-scripts",
    "app.kubernetes.io/instance": "asky",
}
COMPONENTS = {
    "postgres": "database",
    "auth": "backend",
    "gateway": "gateway",
    "pyxis": "backend",
    "request-management": "backend",
}
SELECTOR_KEYS = {"app.kubernetes.io/name", "app.kubernetes.io/instance"}
# Objects that belong to the whole stack rather than to one component.
STACK_WIDE = {("Namespace", "asky"), ("NetworkPolicy", "default-deny-ingress")}
# The layout users of the original scripts know, plus policies and budgets.
REQUIRED_FILES = {
    "namespace.yaml",
    "persistent-volumes/postgres.yaml",
    "persistent-volume-claims/postgres.yaml",
    "config-maps/postgres-init.yaml",
    "config-maps/gateway.yaml",
    *(
        f"{folder}/{component}.yaml"
        for folder in ("deployments", "services")
        for component in COMPONENTS
    ),
    *(
        f"disruption-budgets/{component}.yaml"
        for component in COMPONENTS
        if component != "postgres"
    ),
    "network-policies/default-deny-ingress.yaml",
}
# Where each kind lives in manifests/ (the Namespace sits at the top).
FOLDERS = {
    "Deployment": "deployments",
    "Service": "services",
    "PersistentVolume": "persistent-volumes",
    "PersistentVolumeClaim": "persistent-volume-claims",
    "ConfigMap": "config-maps",
    "NetworkPolicy": "network-policies",
    "PodDisruptionBudget": "disruption-budgets",
}


def paths_of(node: Any, path: str = "") -> list[str]:
    """Every key path in a document, to find a "namespace" key wherever it hides."""
    if isinstance(node, dict):
        return [
            p
            for key, value in node.items()
            for p in [f"{path}.{key}", *paths_of(value, f"{path}.{key}")]
        ]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in paths_of(value, f"{path}[{index}]")]
    return []


def test_every_object_carries_the_stack_labels(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    missing = [
        f"{kind}/{name}"
        for (kind, name), doc in objects.items()
        if not COMMON_LABELS.items() <= doc["metadata"].get("labels", {}).items()
    ]

    assert missing == []


def test_every_component_object_says_which_component_it_belongs_to(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    wrong = []
    for key, doc in objects.items():
        if key in STACK_WIDE:
            continue
        labels = doc["metadata"].get("labels", {})
        component = labels.get("app.kubernetes.io/name")
        if COMPONENTS.get(component) != labels.get("app.kubernetes.io/component") or not component:
            wrong.append(
                f"{key[0]}/{key[1]}: {component}/{labels.get('app.kubernetes.io/component')}"
            )

    assert wrong == []


def test_no_namespace_is_hard_coded_but_the_pv_claim_ref(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    namespaces = [
        f"{kind}/{name}{path}"
        for (kind, name), doc in objects.items()
        for path in paths_of(doc)
        if path.endswith(".namespace")
    ]

    assert namespaces == ["PersistentVolume/asky-postgres-data.spec.claimRef.namespace"]


def test_deployment_selectors_use_name_and_instance_and_match_their_pods(
    deployments: dict[str, dict[str, Any]],
) -> None:
    wrong = [
        name
        for name, doc in deployments.items()
        if set(doc["spec"]["selector"]["matchLabels"]) != SELECTOR_KEYS
        or not doc["spec"]["selector"]["matchLabels"].items()
        <= doc["spec"]["template"]["metadata"]["labels"].items()
        or doc["spec"]["template"]["metadata"]["labels"] != doc["metadata"]["labels"]
    ]

    assert wrong == []


def test_every_selector_selects_exactly_one_deployment_s_pods(
    objects: dict[tuple[str, str], dict[str, Any]], deployments: dict[str, dict[str, Any]]
) -> None:
    pod_labels = {
        name: doc["spec"]["template"]["metadata"]["labels"] for name, doc in deployments.items()
    }
    selectors: list[tuple[str, dict[str, str]]] = []
    for (kind, name), doc in objects.items():
        spec = doc.get("spec", {})
        if kind == "Service":
            selectors.append((f"Service/{name}", spec["selector"]))
        if kind == "PodDisruptionBudget":
            selectors.append((f"{kind}/{name}", spec["selector"]["matchLabels"]))
        if kind == "NetworkPolicy" and spec["podSelector"]:
            selectors.append((f"{kind}/{name}", spec["podSelector"]["matchLabels"]))
            selectors += [
                (f"{kind}/{name} from", peer["podSelector"]["matchLabels"])
                for rule in spec.get("ingress", [])
                for peer in rule.get("from", [])
            ]
    for name, spec in ((n, d["spec"]["template"]["spec"]) for n, d in deployments.items()):
        selectors += [
            (f"Deployment/{name} spread", c["labelSelector"]["matchLabels"])
            for c in spec.get("topologySpreadConstraints", [])
        ]
    wrong = [
        f"{owner}: {selector}"
        for owner, selector in selectors
        if set(selector) != SELECTOR_KEYS
        or sum(selector.items() <= labels.items() for labels in pod_labels.values()) != 1
    ]

    assert wrong == []


def test_each_service_targets_a_port_its_pods_open(
    objects: dict[tuple[str, str], dict[str, Any]], deployments: dict[str, dict[str, Any]]
) -> None:
    wrong = []
    for (kind, name), doc in objects.items():
        if kind != "Service":
            continue
        pods = deployments[doc["spec"]["selector"]["app.kubernetes.io/name"]]
        open_ports = {
            p["containerPort"]
            for c in pods["spec"]["template"]["spec"]["containers"]
            for p in c.get("ports", [])
        }
        wrong += [
            f"Service/{name}: {p['targetPort']}"
            for p in doc["spec"]["ports"]
            if p["targetPort"] not in open_ports
        ]

    assert wrong == []


def test_service_types_and_ports_follow_the_contract(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    services = {
        name: (
            doc["spec"].get("type", "ClusterIP"),
            [(p["port"], p["targetPort"]) for p in doc["spec"]["ports"]],
        )
        for (kind, name), doc in objects.items()
        if kind == "Service"
    }

    assert services == {
        "postgres": ("ClusterIP", [(5432, 5432)]),
        "auth": ("ClusterIP", [(8000, 8000)]),
        "pyxis": ("ClusterIP", [(8000, 8000)]),
        "request-management": ("ClusterIP", [(8000, 8000)]),
        "gateway": ("NodePort", [(80, 8080)]),
    }
    assert all("nodePort" not in p for p in objects[("Service", "gateway")]["spec"]["ports"])


def test_layout_is_the_one_users_know_and_each_kind_sits_in_its_folder(
    manifests_dir: Path, manifest_files: list[Path]
) -> None:
    relative = {str(path.relative_to(manifests_dir)) for path in manifest_files}
    misplaced = [
        f"{doc['kind']}/{doc['metadata']['name']} in {path.relative_to(manifests_dir)}"
        for path in manifest_files
        for doc in yaml.safe_load_all(path.read_text("utf-8"))
        if str(path.parent.relative_to(manifests_dir)) != FOLDERS.get(doc["kind"], ".")
    ]

    assert REQUIRED_FILES - relative == set()
    assert misplaced == []
