"""Preflight's checks of the target namespace: is it ours, is it going away, may we write in it.

Ownership is model/ownership.py's one rule, the same that terminate.py and the volume re-bind
apply: a namespace this command accepts is one the other commands will also treat as ours.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.access import access_problems
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, labels_of, meta, status
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.ownership import is_ours, owner_labels


def namespace_problems(
    namespace: Obj | None, options: DeployOptions, *, adopting: bool = False
) -> list[str]:
    """Why an existing namespace cannot receive this deploy (Terminating, someone else's).

    A namespace run.sh made is not ours either, but ``--adopt`` takes it over (adoption.py).
    """
    if namespace is None:
        return []
    problems: list[str] = []
    ns = options.namespace
    if meta(namespace).get("deletionTimestamp") or status(namespace).get("phase") == "Terminating":
        problems.append(
            f"namespace {ns} is Terminating; wait until it is gone (terminate.py waits "
            "for it), then run again"
        )
    if not is_ours(namespace, ns) and not adopting:
        labels = labels_of(namespace)
        lacking = next(f"{k}={v}" for k, v in owner_labels(ns).items() if labels.get(k) != v)
        problems.append(
            f"namespace {ns} exists and was not created by asky-scripts (no label "
            f"{lacking}); choose another --namespace"
        )
    return problems


def permission_problems(
    kubectl: Kubectl, options: DeployOptions, resources: Sequence[str]
) -> dict[str, str]:
    """The resources a deploy may not create."""
    return access_problems(kubectl, options.namespace, resources, "create")
