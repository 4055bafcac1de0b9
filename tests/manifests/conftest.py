"""Fixtures shared by the manifest gates: manifests/ parsed once, and views the gates reuse.

Every gate reads the same files the deploy applies, so a gate can never pass on a copy that
differs from what reaches the cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from asky_scripts.model.secrets import GENERATED_SECRETS

MANIFESTS_DIR = Path(__file__).resolve().parents[2] / "manifests"


@pytest.fixture(scope="session")
def manifests_dir() -> Path:
    return MANIFESTS_DIR


@pytest.fixture(scope="session")
def manifest_files() -> list[Path]:
    """Every manifest file; the yamllint config beside them is not a manifest."""
    files = sorted(path for path in MANIFESTS_DIR.rglob("*.yaml") if not path.name.startswith("."))
    assert files, f"no manifests found under {MANIFESTS_DIR}"
    return files


@pytest.fixture(scope="session")
def manifests(manifest_files: list[Path]) -> list[dict[str, Any]]:
    """Every document of every manifest file, in file order."""
    documents: list[dict[str, Any]] = []
    for path in manifest_files:
        with path.open(encoding="utf-8") as stream:
            documents.extend(doc for doc in yaml.safe_load_all(stream) if doc is not None)
    return documents


@pytest.fixture(scope="session")
def objects(manifests: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The manifests keyed by (kind, name); a duplicate would be applied over its twin."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in manifests:
        key = (doc["kind"], doc["metadata"]["name"])
        assert key not in by_key, f"{key[0]}/{key[1]} is defined twice"
        by_key[key] = doc
    return by_key


@pytest.fixture(scope="session")
def deployments(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: doc for (kind, name), doc in objects.items() if kind == "Deployment"}


@pytest.fixture(scope="session")
def pod_specs(deployments: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Pod template spec of each Deployment, keyed by Deployment name."""
    return {name: doc["spec"]["template"]["spec"] for name, doc in deployments.items()}


@pytest.fixture(scope="session")
def containers(pod_specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every container, init containers included, keyed "deployment/container"."""
    return {
        f"{workload}/{container['name']}": container
        for workload, spec in pod_specs.items()
        for container in [*spec.get("initContainers", []), *spec["containers"]]
    }


@pytest.fixture(scope="session")
def generated_secret_keys() -> dict[str, frozenset[str]]:
    """The Secrets run.py creates, with their keys: the only Secrets a pod may reference."""
    return {secret.name: frozenset(secret.keys) for secret in GENERATED_SECRETS}
