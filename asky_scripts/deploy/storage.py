"""The storage stage's own steps: claiming our volume under the lock (re-binding it when it was
Released) and preparing the database's directory on a minikube node once the claim is Bound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.deploy import host_directory, volume_rebind
from asky_scripts.deploy.host_directory import HostDirectory
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.volume_rebind import VolumeState
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.manifests import DeployOptions, Manifest


def without_volume(manifests: Sequence[Manifest]) -> tuple[Manifest, ...]:
    return tuple(m for m in manifests if m.kind != "PersistentVolume")


def claim_volume(
    kubectl: Kubectl,
    options: DeployOptions,
    directory: HostDirectory | None,
    manifests: Sequence[Manifest],
    progress: Progress,
) -> tuple[Sequence[Manifest], list[tuple[str, str]]]:
    """Judges our volume again, now under the lock, and re-binds it when it was Released:
    (what to apply, what else to wait for).

    An existing volume of ours is never re-applied: it holds the data, its spec is
    immutable anyway, and applying our claimRef (an atomic field) would drop the UID its
    binding controller set, changing the volume on every run.
    """
    host_path = directory.path if directory else ""
    volume = volume_rebind.read_volume(kubectl, options)
    finding = volume_rebind.inspect(kubectl, options, volume, host_path)
    if finding.state is VolumeState.REFUSED:
        raise ClusterRefusedError("; ".join(finding.problems))
    if finding.state is VolumeState.ABSENT:
        return manifests, []
    if finding.state is VolumeState.RELEASED and finding.stale_claim_ref is not None:
        volume_rebind.rebind(kubectl, options.pv_name, finding.stale_claim_ref)
        progress.note(
            "storage",
            f"re-binding volume {options.pv_name} to the new claim: same volume, "
            "the data on it is kept",
        )
    return without_volume(manifests), [("PersistentVolume", options.pv_name)]


def prepare_host_directory(
    directory: HostDirectory | None, environ: Mapping[str, str], progress: Progress
) -> None:
    """On minikube, makes the data directory the postgres uid's before postgres starts."""
    if directory is None or directory.minikube_profile is None:
        return
    command = " ".join(directory.command())
    if directory.minikube is None:
        progress.note(
            "storage",
            f"no minikube binary on PATH, so the data directory was not prepared; if postgres "
            f"cannot write to it, run: {command}",
            warning=True,
        )
        return
    problem = host_directory.prepare(directory, environ)
    if problem:
        progress.note(
            "storage",
            f"could not prepare the data directory ({problem}); run: {command}",
            warning=True,
        )
    else:
        progress.note(
            "storage",
            f"data directory {directory.path} on the minikube node owned by uid "
            f"{host_directory.POSTGRES_UID}",
        )
