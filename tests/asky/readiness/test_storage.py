"""The storage stage's kinds: the PersistentVolume, its claim, and the Namespace before them."""

from __future__ import annotations

import pytest

from asky_scripts.readiness.claim import claim_verdict
from asky_scripts.readiness.namespace import namespace_verdict
from asky_scripts.readiness.verdict import Failed, Ready, Waiting
from asky_scripts.readiness.volume import volume_verdict
from tests.asky.readiness.recorded_objects import items, recorded


def test_released_volume_fails_with_the_fix() -> None:
    verdict = volume_verdict(recorded("pv-asky-released.json"), "asky", "postgres-data")
    assert isinstance(verdict, Failed)
    assert "released" in verdict.cause and "kubectl patch pv asky-postgres-data" in verdict.hint


def test_volume_bound_to_someone_elses_claim_fails() -> None:
    pv = recorded("pv-asky-released.json")
    pv["status"]["phase"] = "Bound"
    pv["spec"]["claimRef"]["namespace"] = "other"
    assert isinstance(volume_verdict(pv, "asky", "postgres-data"), Failed)
    assert isinstance(volume_verdict(pv, "other", "postgres-data"), Ready)


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
    verdict = claim_verdict(recorded("pvc-postgres-pending.json"), storage_class, [])
    assert isinstance(verdict, expected)


def test_provisioning_failed_event_fails_the_claim() -> None:
    verdict = claim_verdict(
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
    verdict = namespace_verdict(ns)
    assert isinstance(verdict, Failed) and "Terminating" in verdict.cause
