"""Checks, before anything changes, that this cluster can and may receive this deploy.

All problems are collected and reported together, so one run tells the whole story instead of
one refusal per attempt.  Read-only: the safe re-bind of our own Released volume
(volume_rebind.py) is only judged here; the storage stage judges it again under the namespace
lock and does it, after validation passed.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from asky_scripts import host_directory, volume_rebind
from asky_scripts.errors import ClusterRefusedError, UsageError
from asky_scripts.host_directory import HostDirectory
from asky_scripts.kubectl import Kubectl, KubectlError, KubectlMissingError, NotFoundError
from asky_scripts.manifests import MANAGED_BY, MANAGED_BY_LABEL, DeployOptions
from asky_scripts.volume_rebind import VolumeFinding, VolumeState

Obj = dict[str, Any]

SUPPORTED_SKEW = 1


@dataclass(frozen=True)
class ClusterFacts:
    """What preflight learnt that later stages act on."""

    context: str
    client_version: str
    server_version: str
    namespace_exists: bool
    #: The static volume as preflight found it (ABSENT with --storage-class).
    volume: VolumeFinding
    #: Where the static volume keeps its data on the node; None with --storage-class.
    host_directory: HostDirectory | None
    warnings: tuple[str, ...]

    @property
    def volume_exists(self) -> bool:
        return self.volume.state is not VolumeState.ABSENT


def check_kubeconfig(explicit: str | None, environ: Mapping[str, str]) -> None:
    """A missing kubeconfig makes kubectl silently try localhost:8080; say what is wrong."""
    if explicit:
        if not os.path.isfile(explicit):
            raise UsageError(f"--kubeconfig {explicit}: no such file")
        if not os.access(explicit, os.R_OK):
            raise UsageError(f"--kubeconfig {explicit}: not readable")
        return
    paths = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    if paths and not any(os.path.isfile(p) for p in paths):
        raise UsageError(f"KUBECONFIG={environ['KUBECONFIG']}: no such file")


def _minor(version: Obj) -> int | None:
    digits = "".join(ch for ch in str(version.get("minor", "")) if ch.isdigit())
    return int(digits) if digits else None


def versions(kubectl: Kubectl) -> tuple[str, str, str | None]:
    """Client and server versions, and a skew warning when they are too far apart."""
    out = kubectl.run(["version", "-o", "json"])
    try:
        parsed = json.loads(out)
        client, server = parsed["clientVersion"], parsed["serverVersion"]
    except (ValueError, KeyError, TypeError):
        raise KubectlMissingError(
            (kubectl.binary, "version"),
            0,
            f"{kubectl.binary} does not answer `version -o json` like kubectl",
            hint="point --kubectl or KUBECTL at a real kubectl binary",
        ) from None
    warning = None
    client_minor, server_minor = _minor(client), _minor(server)
    if client_minor and server_minor and abs(client_minor - server_minor) > SUPPORTED_SKEW:
        warning = (
            f"kubectl {client.get('gitVersion')} and server {server.get('gitVersion')} are more "
            f"than {SUPPORTED_SKEW} minor version apart; install a matching kubectl"
        )
    return str(client.get("gitVersion", "?")), str(server.get("gitVersion", "?")), warning


def current_context(kubectl: Kubectl, explicit: str | None) -> str:
    return explicit or kubectl.run(["config", "current-context"]).strip()


def namespace_problems(namespace: Obj | None, options: DeployOptions) -> list[str]:
    """Why an existing namespace cannot receive this deploy (Terminating, someone else's)."""
    if namespace is None:
        return []
    problems: list[str] = []
    ns = options.namespace
    if (namespace.get("metadata") or {}).get("deletionTimestamp") or (
        namespace.get("status") or {}
    ).get("phase") == "Terminating":
        problems.append(
            f"namespace {ns} is Terminating; wait until it is gone (terminate.py waits "
            "for it), then run again"
        )
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY:
        problems.append(
            f"namespace {ns} exists and was not created by asky-scripts (no label "
            f"{MANAGED_BY_LABEL}={MANAGED_BY}); choose another --namespace"
        )
    return problems


def _can_i(kubectl: Kubectl, verb: str, resource: str, namespace: str | None) -> str | None:
    args = ["auth", "can-i", verb, resource] + (["-n", namespace] if namespace else [])
    try:
        result = kubectl.call(args, ok_codes=(0, 1))
    except NotFoundError:
        return None  # no authorization API to ask: the server-side dry run still checks RBAC
    if result.stdout.strip() == "no":
        where = f" in namespace {namespace}" if namespace else ""
        return f"not allowed to {verb} {resource}{where} (kubectl auth can-i {verb} {resource})"
    return None


def rbac_problems(kubectl: Kubectl, options: DeployOptions, checks: Sequence[str]) -> list[str]:
    """``auth can-i`` for what we create, asked concurrently (each is one round trip)."""
    cluster_scoped = ("namespaces", "persistentvolumes")
    jobs: list[tuple[str, str, str | None]] = [
        ("create", resource, None if resource in cluster_scoped else options.namespace)
        for resource in checks
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda job: _can_i(kubectl, *job), jobs))
    return [answer for answer in answers if answer]


def run_preflight(
    kubectl: Kubectl,
    options: DeployOptions,
    context: str | None,
    namespaced_resources: Sequence[str],
    host_path: str | None,
    environ: Mapping[str, str],
) -> ClusterFacts:
    """Every check of the preflight stage; raises one error listing every problem found.

    ``host_path`` is the hostPath of the static volume, None with ``--storage-class``.
    """
    client, server, skew_warning = versions(kubectl)
    context_name = current_context(kubectl, context)
    found = kubectl.get_items(
        [
            "get",
            f"namespaces/{options.namespace}",
            f"persistentvolumes/{options.pv_name}",
            "--ignore-not-found",
        ]
    )
    namespace = next((o for o in found if o.get("kind") == "Namespace"), None)
    volume = next((o for o in found if o.get("kind") == "PersistentVolume"), None)
    problems = namespace_problems(namespace, options)
    finding = VolumeFinding(VolumeState.ABSENT)
    directory = None
    if host_path is not None:
        finding = volume_rebind.inspect(kubectl, options, volume, host_path)
        problems += finding.problems
        directory = host_directory.locate(kubectl, host_path, environ)
    checks = ["secrets"]
    if namespace is None:
        checks = ["namespaces", *namespaced_resources, "secrets"]
        if host_path is not None:
            checks.append("persistentvolumes")
    try:
        problems += rbac_problems(kubectl, options, checks)
    except KubectlError as exc:
        problems.append(f"cannot check permissions: {exc.message}")
    if problems:
        raise ClusterRefusedError(
            "preflight found "
            + (f"{len(problems)} problems" if len(problems) > 1 else "a problem")
            + " in context "
            + context_name
            + ":\n"
            + "\n".join(
                textwrap.fill(
                    p,
                    100,
                    initial_indent="  - ",
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                for p in problems
            )
        )
    return ClusterFacts(
        context=context_name,
        client_version=client,
        server_version=server,
        namespace_exists=namespace is not None,
        volume=finding,
        host_directory=directory,
        warnings=tuple(w for w in (skew_warning,) if w),
    )
