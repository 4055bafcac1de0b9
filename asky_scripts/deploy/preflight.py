"""Checks, before anything changes, that this cluster can and may receive this deploy.

The checks are independent questions, so they are asked at once, each a kubectl process
(40-120 ms, most of it kubectl starting): the versions, the context, the permissions, the
namespace and volume, the host directory and the pods that capacity counts.  The checks that
need an answer first (the volume's Secrets, the namespace's quotas) start as soon as it is in.
All problems are collected and reported together, so one run tells the whole story instead of
one refusal per attempt.  Read-only: the safe re-bind of our own Released volume
(volume_rebind.py) is only judged here; the storage stage judges it again under the namespace
lock and does it, after validation passed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asky_scripts.cluster.connection import current_context, versions
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.cluster.objects import Obj, kind_of
from asky_scripts.deploy import host_directory, preflight_capacity, volume_rebind
from asky_scripts.deploy.host_directory import HostDirectory
from asky_scripts.deploy.preflight_namespace import namespace_problems, permission_problems
from asky_scripts.deploy.volume_rebind import VolumeFinding, VolumeState
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.stages import PlannedStage

#: Every check's kubectl at once: host directory, versions, context, permissions, pods,
#: quotas (the namespace and volume are read by the calling thread).
_CHECKS_AT_ONCE = 6


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


def run_preflight(
    kubectl: Kubectl,
    options: DeployOptions,
    context: str | None,
    namespaced_resources: Sequence[str],
    host_path: str | None,
    environ: Mapping[str, str],
    *,
    plan: Sequence[PlannedStage],
    nodes: Callable[[], Sequence[Obj]],
    adopting: bool = False,
) -> ClusterFacts:
    """Every check of the preflight stage; raises one error listing every problem found.

    ``host_path`` is the hostPath of the static volume, None with ``--storage-class``;
    ``nodes`` gives the nodes read beside preflight.  A stack that does not fit is refused
    after the other problems, with its own hint.
    """
    # The permissions for a new namespace are asked in any case and kept only if it is new.
    new_namespace_checks = ["namespaces", *namespaced_resources, "secrets"]
    if host_path is not None:
        new_namespace_checks.append("persistentvolumes")
    ns = options.namespace
    with ThreadPoolExecutor(max_workers=_CHECKS_AT_ONCE) as pool:
        located = (
            pool.submit(host_directory.locate, kubectl, host_path, environ)
            if host_path is not None
            else None
        )
        asked_versions = pool.submit(versions, kubectl)
        asked_context = pool.submit(current_context, kubectl, context)
        asked_rbac = pool.submit(permission_problems, kubectl, options, new_namespace_checks)
        pods = pool.submit(preflight_capacity.all_pods, kubectl)
        try:
            found = kubectl.get_items(
                [
                    "get",
                    f"namespaces/{ns}",
                    f"persistentvolumes/{options.pv_name}",
                    "--ignore-not-found",
                ]
            )
        except KubectlError:
            asked_versions.result()  # a binary that is not kubectl says so first
            raise
        namespace = next((o for o in found if kind_of(o) == "Namespace"), None)
        volume = next((o for o in found if kind_of(o) == "PersistentVolume"), None)
        policies = pool.submit(preflight_capacity.policies, kubectl, ns) if namespace else None
        # An unsupported kubectl is refused before any other finding is judged.
        client, server, skew_warning = asked_versions.result()
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
                    f"(`kubectl auth can-i --list -n {ns}` shows yours)"
                    if permissions
                    else ""
                ),
            )
        too_big = preflight_capacity.capacity_problems(
            kubectl,
            ns,
            plan,
            nodes(),
            pods.result(),
            (policies.result() if policies else None) or [],
            namespace_exists=namespace is not None,
        )
    if too_big:
        raise refusal(too_big, context_name, hint=preflight_capacity.CAPACITY_HINT)
    return ClusterFacts(
        context=context_name,
        client_version=client,
        server_version=server,
        namespace_exists=namespace is not None,
        volume=finding,
        host_directory=directory,
        warnings=tuple(w for w in (skew_warning,) if w),
    )
