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

from asky_scripts.cluster.access import access_problems
from asky_scripts.cluster.kubectl import (
    OLDEST_KUBECTL_MINOR,
    SUPPORTED_RANGE,
    ForbiddenError,
    Kubectl,
    KubectlError,
    KubectlMissingError,
)
from asky_scripts.deploy import host_directory, volume_rebind
from asky_scripts.deploy.host_directory import HostDirectory
from asky_scripts.deploy.volume_rebind import VolumeFinding, VolumeState
from asky_scripts.errors import ClusterRefusedError, UsageError
from asky_scripts.model.capacity import (
    Workload,
    limit_range_problems,
    node_problems,
    quota_problems,
)
from asky_scripts.model.manifests import MANAGED_BY, MANAGED_BY_LABEL, DeployOptions
from asky_scripts.model.stages import PlannedStage

Obj = dict[str, Any]

SUPPORTED_SKEW = 1


class UnsupportedKubectlError(ClusterRefusedError):
    """The kubectl is older than the range asky-scripts is tested with.  Refused before any
    change because an untested kubectl fails half way through a deploy, not at its start (as
    1.29-1.32 did on the Secrets' stream until that was fixed)."""


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


_KUBECONFIG_HINT = (
    "point --kubeconfig or KUBECONFIG at your cluster's kubeconfig (on minikube: "
    "minikube update-context writes ~/.kube/config)"
)


def _unreadable(path: str) -> str | None:
    """Why kubectl could not read ``path`` as a kubeconfig, or None when it can."""
    if os.path.isdir(path):
        return "a directory, not a file"
    if not os.path.isfile(path):
        return "no such file"
    if not os.access(path, os.R_OK):
        return "not readable (check its permissions)"
    return None


def check_kubeconfig(explicit: str | None, environ: Mapping[str, str]) -> None:
    """A missing kubeconfig makes kubectl silently try localhost:8080; say what is wrong."""
    if explicit:
        problem = _unreadable(explicit)
        if problem:
            raise UsageError(f"--kubeconfig {explicit}: {problem}", hint=_KUBECONFIG_HINT)
        return
    paths = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    problems = [problem for problem in map(_unreadable, paths) if problem]
    if paths and len(problems) == len(paths):
        why = "; ".join(dict.fromkeys(problems))
        raise UsageError(f"KUBECONFIG={environ['KUBECONFIG']}: {why}", hint=_KUBECONFIG_HINT)


def _minor(version: Obj) -> int | None:
    digits = "".join(ch for ch in str(version.get("minor", "")) if ch.isdigit())
    return int(digits) if digits else None


def versions(kubectl: Kubectl) -> tuple[str, str, str | None]:
    """Client and server versions, and a skew warning when they are too far apart."""
    not_kubectl = f"{kubectl.binary} does not answer `version -o json` like kubectl"
    hint = "point --kubectl or KUBECTL at a real kubectl binary"
    try:
        out = kubectl.run(["version", "-o", "json"])
    except KubectlError as exc:
        if type(exc) is not KubectlError:
            raise  # a kubectl that explained itself (unreachable, kubeconfig...)
        said = exc.message.splitlines()[0][:120]
        raise KubectlMissingError(
            (kubectl.binary, "version"), exc.returncode, f"{not_kubectl} (it said: {said})", hint
        ) from None
    try:
        parsed = json.loads(out)
        client, server = parsed["clientVersion"], parsed["serverVersion"]
    except (ValueError, KeyError, TypeError):
        raise KubectlMissingError((kubectl.binary, "version"), 0, not_kubectl, hint) from None
    warning = None
    client_minor, server_minor = _minor(client), _minor(server)
    client_version = str(client.get("gitVersion", "?"))
    if client_minor is not None and client_minor < OLDEST_KUBECTL_MINOR:
        raise UnsupportedKubectlError(
            f"{kubectl.binary} is kubectl {client_version}, older than the kubectl versions "
            f"asky-scripts supports and tests ({SUPPORTED_RANGE}); nothing was changed",
            hint="use a kubectl in that range, ideally your cluster's minor version: on "
            "minikube `minikube kubectl --` downloads the matching one; or install one from "
            "https://kubernetes.io/docs/tasks/tools/ and pass it with --kubectl",
        )
    kubectl.client_version = client_version
    # Within the range, kubectl's own skew policy still applies: one minor version either
    # side of the server is what kubectl itself promises to work with.
    if client_minor and server_minor and abs(client_minor - server_minor) > SUPPORTED_SKEW:
        warning = (
            f"kubectl {client_version} and server {server.get('gitVersion')} are more "
            f"than {SUPPORTED_SKEW} minor version apart; install a matching kubectl"
        )
    return client_version, str(server.get("gitVersion", "?")), warning


def current_context(kubectl: Kubectl, explicit: str | None) -> str:
    return explicit or kubectl.run(["config", "current-context"]).strip()


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
    if (namespace.get("metadata") or {}).get("deletionTimestamp") or (
        namespace.get("status") or {}
    ).get("phase") == "Terminating":
        problems.append(
            f"namespace {ns} is Terminating; wait until it is gone (terminate.py waits "
            "for it), then run again"
        )
    labels = (namespace.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY and not adopting:
        problems.append(
            f"namespace {ns} exists and was not created by asky-scripts (no label "
            f"{MANAGED_BY_LABEL}={MANAGED_BY}); choose another --namespace"
        )
    return problems


def rbac_problems(
    kubectl: Kubectl, options: DeployOptions, checks: Sequence[str]
) -> dict[str, str]:
    """The resources a deploy may not create."""
    return access_problems(kubectl, options.namespace, checks, "create")


def refusal(problems: Sequence[str], context: str, hint: str = "") -> ClusterRefusedError:
    """One error listing every problem preflight found, one wrapped item each."""
    return ClusterRefusedError(
        "preflight found "
        + (f"{len(problems)} problems" if len(problems) > 1 else "a problem")
        + " in context "
        + context
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
        ),
        hint=hint,
    )


def stack_workloads(plan: Sequence[PlannedStage]) -> list[Workload]:
    """The Deployments of the plan, with --replicas already applied by for_deploy."""
    return [
        Workload(
            m.name,
            {"spec": ((m.obj.get("spec") or {}).get("template") or {}).get("spec") or {}},
            int((m.obj.get("spec") or {}).get("replicas", 1)),
        )
        for planned in plan
        for m in planned.manifests
        if m.kind == "Deployment"
    ]


def capacity_problems(
    kubectl: Kubectl,
    namespace: str,
    namespace_exists: bool,
    plan: Sequence[PlannedStage],
    nodes: Sequence[Obj],
) -> list[str]:
    """Whether the whole stack fits, before anything changes: its requests (with --replicas)
    against the nodes' free allocatable, and the namespace's ResourceQuotas and LimitRanges.

    Another namespace's pods are only readable with cluster-wide list rights; without them the
    stack is compared with the allocatable alone (a pod that can never fit is still caught).
    """
    workloads = stack_workloads(plan)
    with ThreadPoolExecutor(max_workers=2) as pool:
        all_pods = pool.submit(_readable, kubectl, ["get", "pods", "--all-namespaces"])
        policies = (
            pool.submit(_readable, kubectl, ["get", "resourcequotas,limitranges", "-n", namespace])
            if namespace_exists
            else None
        )
        pods = all_pods.result()
        found = (policies.result() if policies else None) or []
    if pods is None and namespace_exists:
        pods = _readable(kubectl, ["get", "pods", "-n", namespace])
    ours = [p for p in pods or [] if (p.get("metadata") or {}).get("namespace") == namespace]
    others = (
        None
        if pods is None
        else [p for p in pods if (p.get("metadata") or {}).get("namespace") != namespace]
    )
    return (
        node_problems(workloads, nodes, others)
        + quota_problems(workloads, [o for o in found if o.get("kind") == "ResourceQuota"], ours)
        + limit_range_problems(workloads, [o for o in found if o.get("kind") == "LimitRange"])
    )


def check_capacity(
    kubectl: Kubectl,
    facts: ClusterFacts,
    namespace: str,
    plan: Sequence[PlannedStage],
    nodes: Sequence[Obj],
) -> None:
    """Refuses, before any change, a stack that cannot fit (see capacity_problems)."""
    problems = capacity_problems(kubectl, namespace, facts.namespace_exists, plan, nodes)
    if problems:
        raise refusal(
            problems,
            facts.context,
            hint="the pods would stay Pending (or be refused by admission); lower --replicas "
            "SVC=N or the Deployments' resources, or make room in the cluster",
        )


def _readable(kubectl: Kubectl, args: list[str]) -> list[Obj] | None:
    """The objects, or None when we may not read them (a namespace-scoped user)."""
    try:
        return kubectl.get_items(args)
    except ForbiddenError:
        return None


def run_preflight(
    kubectl: Kubectl,
    options: DeployOptions,
    context: str | None,
    namespaced_resources: Sequence[str],
    host_path: str | None,
    environ: Mapping[str, str],
    *,
    adopting: bool = False,
) -> ClusterFacts:
    """Every check of the preflight stage; raises one error listing every problem found.

    ``host_path`` is the hostPath of the static volume, None with ``--storage-class``.
    """
    # Independent questions, asked at once: each is a kubectl process (~40 ms here).  The
    # permissions for a new namespace are asked in any case and kept only if it is new.
    new_namespace_checks = ["namespaces", *namespaced_resources, "secrets"]
    if host_path is not None:
        new_namespace_checks.append("persistentvolumes")
    with ThreadPoolExecutor(max_workers=4) as pool:
        located = (
            pool.submit(host_directory.locate, kubectl, host_path, environ)
            if host_path is not None
            else None
        )
        asked_versions = pool.submit(versions, kubectl)
        asked_context = pool.submit(current_context, kubectl, context)
        asked_rbac = pool.submit(rbac_problems, kubectl, options, new_namespace_checks)
        try:
            found = kubectl.get_items(
                [
                    "get",
                    f"namespaces/{options.namespace}",
                    f"persistentvolumes/{options.pv_name}",
                    "--ignore-not-found",
                ]
            )
        except KubectlError:
            asked_versions.result()  # a binary that is not kubectl says so first
            raise
        # An unsupported kubectl is refused before any other finding is judged.
        client, server, skew_warning = asked_versions.result()
        namespace = next((o for o in found if o.get("kind") == "Namespace"), None)
        volume = next((o for o in found if o.get("kind") == "PersistentVolume"), None)
        problems = namespace_problems(namespace, options, adopting=adopting)
        finding = VolumeFinding(VolumeState.ABSENT)
        if host_path is not None:
            finding = volume_rebind.inspect(kubectl, options, volume, host_path)
            problems += finding.problems
        directory = located.result() if located is not None else None
        context_name = asked_context.result()
        try:
            denied = asked_rbac.result()
        except KubectlError as exc:
            permissions = [f"cannot check permissions: {exc.message}"]
        else:
            # Into an existing namespace, only the generated Secrets are created (the rest is
            # applied, and the server-side dry run already checked that).
            relevant = new_namespace_checks if namespace is None else ["secrets"]
            permissions = [denied[r] for r in relevant if r in denied]
        problems += permissions
    if problems:
        raise refusal(
            problems,
            context_name,
            hint=(
                "ask a cluster admin for the permissions listed "
                f"(`kubectl auth can-i --list -n {options.namespace}` shows yours)"
                if permissions
                else ""
            ),
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
