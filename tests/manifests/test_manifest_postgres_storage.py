"""Policy: the database keeps its data, in one place, written by one pod at a time.

Each rule here guards against a way of losing or corrupting the hospital's data that no schema
validator sees: a claim bound to a freshly provisioned empty volume, two pods on one data
directory during a rollout, initdb refusing a mount point, a deleted claim taking the data.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

PV_NAME = "asky-postgres-data"
PVC_NAME = "postgres-data"
# Directories minikube keeps across restarts.
MINIKUBE_PERSISTED = (
    "/data/",
    "/var/lib/minikube/",
    "/tmp/hostpath_pv/",
    "/tmp/hostpath-provisioner/",
)
QUANTITY_UNITS = {"Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def to_bytes(quantity: str) -> int:
    return int(quantity[:-2]) * QUANTITY_UNITS[quantity[-2:]]


@pytest.fixture(scope="module")
def pv(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = objects[("PersistentVolume", PV_NAME)]["spec"]
    return spec


@pytest.fixture(scope="module")
def pvc(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = objects[("PersistentVolumeClaim", PVC_NAME)]["spec"]
    return spec


def test_pgdata_is_a_subdirectory_of_the_mounted_volume(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    spec = pod_specs["postgres"]
    container = spec["containers"][0]
    claim_volumes = {
        v["name"]
        for v in spec["volumes"]
        if v.get("persistentVolumeClaim", {}).get("claimName") == PVC_NAME
    }
    (mount,) = [m for m in container["volumeMounts"] if m["name"] in claim_volumes]
    pgdata = PurePosixPath(next(e["value"] for e in container["env"] if e["name"] == "PGDATA"))

    assert PurePosixPath(mount["mountPath"]) in pgdata.parents


def test_postgres_runs_alone_and_is_replaced_not_overlapped(
    deployments: dict[str, dict[str, Any]],
) -> None:
    spec = deployments["postgres"]["spec"]

    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}


def test_volume_and_claim_are_pre_bound_to_each_other_and_to_nothing_else(
    pv: dict[str, Any],
    pvc: dict[str, Any],
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    namespace = next(name for kind, name in objects if kind == "Namespace")

    assert pvc["volumeName"] == PV_NAME
    assert pv["claimRef"] == {"namespace": namespace, "name": PVC_NAME}
    # Empty, not absent: absent would let the default StorageClass provision a new volume.
    assert pv["storageClassName"] == pvc["storageClassName"] == ""
    # run.py turns the leading "<namespace>-" into the target namespace's name.
    assert PV_NAME.startswith(f"{namespace}-")


def test_volume_is_single_writer_retained_and_large_enough(
    pv: dict[str, Any], pvc: dict[str, Any]
) -> None:
    assert pv["accessModes"] == pvc["accessModes"] == ["ReadWriteOnce"]
    assert pv["persistentVolumeReclaimPolicy"] == "Retain"
    assert to_bytes(pv["capacity"]["storage"]) >= to_bytes(pvc["resources"]["requests"]["storage"])


def test_host_directory_survives_minikube_restarts_and_is_per_namespace(
    pv: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    namespace = next(name for kind, name in objects if kind == "Namespace")
    path = pv["hostPath"]["path"]

    assert path.startswith(MINIKUBE_PERSISTED)
    assert namespace in PurePosixPath(path).parts
    assert pv["hostPath"]["type"] == "DirectoryOrCreate"


def test_postgres_is_ready_only_once_it_accepts_tcp_connections(
    containers: dict[str, dict[str, Any]], pod_specs: dict[str, dict[str, Any]]
) -> None:
    postgres = containers["postgres/postgres"]
    for probe in ("startupProbe", "readinessProbe"):
        command = postgres[probe]["exec"]["command"]
        # The init scripts run against a server listening on the Unix socket only: a TCP
        # check keeps the pod un-Ready until they are done.
        assert command[0] == "pg_isready"
        assert "--host=127.0.0.1" in command
    # SIGINT makes PostgreSQL checkpoint before exiting; 30 s (the default) can cut that short.
    assert pod_specs["postgres"]["terminationGracePeriodSeconds"] >= 60
