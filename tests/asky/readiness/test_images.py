"""Image pulls: what fails at once (no repository, no tag, refused credentials) and what waits."""

from __future__ import annotations

from asky_scripts.readiness.verdict import Failed, Waiting
from tests.asky.readiness.recorded_objects import (
    RESOLVE,
    auth_with,
    items,
    pull_failure,
    recorded,
)


def test_image_not_found_fails_at_once_naming_the_image() -> None:
    verdict = auth_with(
        [recorded("pod-auth-errimagepull-notfound.json")], nodes=items("nodes-minikube.json")
    )
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'ErrImagePull — image "asky-auth:1.0" not found: the registry has no such tag'
    )
    assert "minikube image load asky-auth:1.0" in verdict.hint


def test_pull_back_off_for_an_unreachable_registry_waits_naming_the_registry_error() -> None:
    """A registry timeout may pass: the kubelet retries (10 s, doubling), so run.py waits, and
    what it waits on (shown live and in a timeout's headline) is the pull error."""
    pod = recorded("pod-auth-imagepullbackoff.json")
    verdict = auth_with([pod], items("events-auth-pull-backoff.json"))
    assert verdict == Waiting(
        '1/2 ready: ImagePullBackOff: Failed to pull image "registry.example:5000/asky-auth:1.0":'
        " dial tcp 10.0.0.9:5000: i/o timeout (3 attempts)"
    )


def test_an_image_in_no_registry_on_minikube_says_minikube_image_load_or_build() -> None:
    """Docker Hub answers an unknown repository (a local build never loaded into minikube, the
    most common failure of this stack) with containerd's "pull access denied"."""
    pod = pull_failure(
        RESOLVE + "pull access denied, repository does not exist or may require authorization: "
        "server message: insufficient_scope: authorization failed"
    )
    verdict = auth_with([pod], nodes=items("nodes-minikube.json"))
    assert isinstance(verdict, Failed)
    assert verdict.cause == (
        'ImagePullBackOff — image "asky-auth:1.0" is in no registry the node can reach: the '
        "registry says the repository does not exist (or needs credentials)"
    )
    assert "minikube image load asky-auth:1.0" in verdict.hint
    assert "minikube image build -t asky-auth:1.0" in verdict.hint
    elsewhere = auth_with([pod])
    assert isinstance(elsewhere, Failed) and "push the image to a registry" in elsewhere.hint


def test_credentials_the_registry_refuses_fail_at_once_asking_for_a_pull_secret() -> None:
    pod = pull_failure(
        RESOLVE + "unexpected status from HEAD request to https://registry-1.docker.io/v2/"
        "library/asky-auth/manifests/1.0: 401 Unauthorized"
    )
    verdict = auth_with([pod])
    assert isinstance(verdict, Failed)
    assert "refused the credentials" in verdict.cause and "imagePullSecret" in verdict.hint


def test_image_never_pull_says_the_image_must_be_loaded() -> None:
    pod = recorded("pod-auth-errimagepull-notfound.json")
    pod["status"]["containerStatuses"][0]["state"]["waiting"] = {
        "reason": "ErrImageNeverPull",
        "message": 'Container image "asky-auth:1.0" is not present with pull policy of Never',
    }
    verdict = auth_with([pod], nodes=items("nodes-minikube.json"))
    assert isinstance(verdict, Failed)
    assert "minikube image load asky-auth:1.0" in verdict.hint
