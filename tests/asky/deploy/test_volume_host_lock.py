"""Pure rules behind the re-bind of our volume, the minikube host directory and the lock."""

from __future__ import annotations

from typing import Any

import pytest

from asky_scripts.cluster.lock import _epoch, _iso, _pointer
from asky_scripts.deploy.host_directory import HostDirectory, minikube_profile
from asky_scripts.deploy.summary import load_balancer_pending
from asky_scripts.deploy.volume_rebind import VolumeState, judge
from asky_scripts.model.manifests import DeployOptions

OURS = {"app.kubernetes.io/managed-by": "asky-scripts", "app.kubernetes.io/instance": "asky"}


def volume(
    phase: str, labels: dict[str, str] | None = None, ref: dict[str, Any] | None = None
) -> dict[str, Any]:
    claim_ref = {"namespace": "asky", "name": "postgres-data", "uid": "old"} if ref is None else ref
    return {
        "metadata": {"name": "asky-postgres-data", "labels": OURS if labels is None else labels},
        "spec": {"claimRef": claim_ref},
        "status": {"phase": phase},
    }


def test_our_released_volume_is_rebound_with_its_stale_claim_uid() -> None:
    finding = judge(volume("Released"), DeployOptions())
    assert finding.state is VolumeState.RELEASED
    assert finding.stale_claim_ref is not None and finding.stale_claim_ref["uid"] == "old"


@pytest.mark.parametrize(
    ("found", "needle"),
    [
        (volume("Released", labels={}), "is not ours"),
        (volume("Released", labels={**OURS, "app.kubernetes.io/instance": "staging"}), "not ours"),
        (volume("Released", ref={"namespace": "x", "name": "y", "uid": "u"}), "claimed by x/y"),
        (volume("Failed"), "is Failed"),
    ],
)
def test_volumes_that_are_not_safely_ours_are_refused(found: dict[str, Any], needle: str) -> None:
    finding = judge(found, DeployOptions())
    assert finding.state is VolumeState.REFUSED
    assert needle in finding.problems[0]


@pytest.mark.parametrize("phase", ["Bound", "Available"])
def test_a_volume_in_use_or_free_is_kept_as_it_is(phase: str) -> None:
    assert judge(volume(phase), DeployOptions()).state is VolumeState.USABLE


def test_no_volume_means_the_storage_stage_creates_it() -> None:
    assert judge(None, DeployOptions()).state is VolumeState.ABSENT


@pytest.mark.parametrize(
    ("view", "profile"),
    [
        ({"contexts": [{"name": "minikube", "context": {}}]}, "minikube"),
        (
            {
                "contexts": [{"name": "dev", "context": {}}],
                "clusters": [
                    {
                        "name": "dev",
                        "cluster": {
                            "extensions": [
                                {
                                    "name": "cluster_info",
                                    "extension": {"provider": "minikube.sigs.k8s.io"},
                                }
                            ]
                        },
                    }
                ],
            },
            "dev",
        ),
        ({"contexts": [{"name": "kind-kind", "context": {}}]}, None),
        ({"contexts": []}, None),
    ],
)
def test_minikube_is_recognised_from_the_kubeconfig_only(
    view: dict[str, Any], profile: str | None
) -> None:
    assert minikube_profile(view) == profile


def test_the_prepare_command_names_the_profile_only_when_it_is_not_the_default() -> None:
    default = HostDirectory("/data/asky/postgres", "minikube", None).command()
    assert " ".join(default) == (
        "minikube ssh -- sudo install -d -o 999 -g 999 -m 0700 /data/asky/postgres"
    )
    assert HostDirectory("/data/x/postgres", "dev", None).command()[:3] == ["minikube", "-p", "dev"]


def test_lock_annotations_are_valid_json_pointers_and_times_round_trip() -> None:
    assert _pointer("asky-scripts/holder") == "/metadata/annotations/asky-scripts~1holder"
    assert _epoch(_iso(1_700_000_000.0)) == 1_700_000_000.0
    assert _epoch("soon") is None


def test_only_a_load_balancer_without_ingress_is_pending() -> None:
    service = {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}
    assert load_balancer_pending(service)
    service["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}
    assert not load_balancer_pending(service)
    assert not load_balancer_pending({"spec": {"type": "NodePort"}})
