"""Image pulls: which failures will never heal (fail at once), which the kubelet retries.

The markers are how containerd (core/remotes/docker/resolver.go) and dockerd word a pull that
will never work; Docker Hub answers an unknown repository exactly like a private one, so these
two are one case.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, field, labels_of
from asky_scripts.readiness.accessors import container_statuses
from asky_scripts.readiness.events import event_count, event_message, event_time
from asky_scripts.readiness.verdict import Failed

_NO_REPOSITORY = (
    "repository does not exist",
    "pull access denied",
    "insufficient_scope",
)
_NO_TAG = (": not found", "manifest unknown", "manifest for ")
_REFUSED_CREDENTIALS = (
    "401 unauthorized",
    "authentication required",
    "no basic auth credentials",
    "403 forbidden",
)
PULL_FAILURES = ("ErrImagePull", "ImagePullBackOff")


def on_minikube(nodes: Sequence[Obj]) -> bool:
    """minikube labels its nodes minikube.k8s.io/name (and names the first one minikube)."""
    return any("minikube.k8s.io/name" in labels_of(node) for node in nodes)


def load_image_hint(image: str, minikube: bool) -> str:
    if minikube:
        return (
            f"a locally built image must be put into minikube: minikube image load {image} "
            f"(or build it there: minikube image build -t {image} DIR); otherwise fix the "
            "name with --set-image SVC=IMAGE"
        )
    return (
        "push the image to a registry the nodes can pull from, or fix the name with "
        "--set-image SVC=IMAGE (on minikube: minikube image load IMAGE)"
    )


def _pull_failed_events(pod_events: Sequence[Obj]) -> list[Obj]:
    return [
        e
        for e in pod_events
        if e.get("reason") == "Failed" and event_message(e).startswith("Failed to pull image")
    ]


def image_pull_failure(
    cs: Obj, reason: str, message: str, pod_events: Sequence[Obj], minikube: bool
) -> Failed | None:
    """A pull that will never work fails at once; anything else (a registry timeout, a 5xx,
    an unknown error) is left to the kubelet's retries (10 s, doubling to 5 min) until the
    stage timeout, whose report then names it."""
    image = cs.get("image", "")
    texts = [message.lower()] + [event_message(e).lower() for e in _pull_failed_events(pod_events)]

    def said(markers: tuple[str, ...]) -> bool:
        return any(marker in text for text in texts for marker in markers)

    if said(_NO_REPOSITORY):
        return Failed(
            f'{reason} — image "{image}" is in no registry the node can reach: the registry '
            "says the repository does not exist (or needs credentials)",
            hint=load_image_hint(image, minikube) + "; for a private registry, add an "
            "imagePullSecret",
        )
    if said(_REFUSED_CREDENTIALS):
        return Failed(
            f'{reason} — the registry refused the credentials for image "{image}"',
            hint="add or fix the imagePullSecret for its registry",
        )
    if said(_NO_TAG):
        return Failed(
            f'{reason} — image "{image}" not found: the registry has no such tag',
            hint="check the tag (--set-image SVC=IMAGE)"
            + (f"; a local build goes in with: minikube image load {image}" if minikube else ""),
        )
    return None


def pull_retry_reason(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """What a pod whose image pull keeps failing for a passing reason is waiting on."""
    for cs in container_statuses(pod):
        waiting = field(field(cs, "state"), "waiting")
        if waiting.get("reason") in PULL_FAILURES:
            failures = _pull_failed_events(pod_events)
            latest = event_message(max(failures, key=event_time)) if failures else ""
            count = sum(event_count(e) for e in failures)
            detail = latest or waiting.get("message", "")
            return f"{waiting['reason']}: {detail}" + (f" ({count} attempts)" if count else "")
    return ""
