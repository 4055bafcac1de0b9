"""Mounts of a missing ConfigMap, Secret or key: named as the object to fix, after a second."""

from __future__ import annotations

import copy

import pytest

from asky_scripts.readiness.verdict import Failed, Stopwatch, Waiting
from tests.asky.readiness.recorded_objects import auth_with, items, recorded


def test_a_mount_of_a_missing_config_key_fails_after_a_second_with_the_kubelet_message() -> None:
    pod = recorded("pod-auth-containercreating.json")
    events = items("events-auth-failedmount.json")
    watch = Stopwatch()
    first = auth_with([pod], events, now=50.0, stopwatch=watch)
    assert isinstance(first, Waiting)
    assert "non-existent config key: settings.yaml" in first.reason
    verdict = auth_with([pod], events, now=51.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'ConfigMap auth-config has no key settings.yaml, needed by volume "config" (FailedMount)'
    )
    assert "config-maps/" in verdict.hint


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            'MountVolume.SetUp failed for volume "config" : configmap "auth-config" not found',
            'ConfigMap auth-config does not exist, needed by volume "config" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "tls" : secret "auth-tls" not found',
            'Secret auth-tls does not exist, needed by volume "tls" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "credentials" : [secret "auth-db" not found, '
            'secret "auth-token-key" not found]',
            "Secret auth-db does not exist; Secret auth-token-key does not exist, needed by "
            'volume "credentials" (FailedMount)',
        ),
        (
            'MountVolume.SetUp failed for volume "credentials" : references non-existent secret '
            "key: password",
            'Secret auth-db has no key password, needed by volume "credentials" (FailedMount)',
        ),
    ],
)
def test_every_missing_mount_source_names_the_object_to_fix(message: str, cause: str) -> None:
    """The kubelet's key error does not name the Secret: the pod's projected volume does."""
    events = items("events-auth-failedmount.json")
    events[-1]["message"] = message
    pod = recorded("pod-auth-containercreating.json")
    pod["spec"]["volumes"].append(
        {
            "name": "credentials",
            "projected": {
                "sources": [
                    {"secret": {"name": "auth-db", "items": [{"key": "password", "path": "p"}]}},
                    {"secret": {"name": "auth-token-key"}},
                ]
            },
        }
    )
    watch = Stopwatch()
    auth_with([pod], events, now=0.0, stopwatch=watch)
    verdict = auth_with([pod], events, now=2.0, stopwatch=watch)
    assert isinstance(verdict, Failed)
    assert verdict.cause == cause


def test_other_mount_failures_and_old_events_of_a_started_pod_never_fail() -> None:
    events = items("events-auth-failedmount.json")
    slow = copy.deepcopy(events)
    slow[-1]["message"] = 'MountVolume.SetUp failed for volume "data" : timed out waiting'
    watch = Stopwatch()
    pending = recorded("pod-auth-containercreating.json")
    for now in (0.0, 5.0):
        assert isinstance(auth_with([pending], slow, now=now, stopwatch=watch), Waiting)
    started = recorded("pod-auth-running-not-ready.json")
    started["metadata"]["uid"] = pending["metadata"]["uid"]
    for now in (0.0, 5.0):
        assert isinstance(auth_with([started], events, now=now, stopwatch=watch), Waiting)
