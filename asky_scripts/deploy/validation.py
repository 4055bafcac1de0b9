"""Validates every object of every stage with one server-side dry run, before anything is written.

A refusal changes nothing; an invalid object is pinpointed by re-validating object by object, so
the error names the file and line the server refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import ConflictError, ForbiddenError, InvalidError
from asky_scripts.cluster.objects import meta
from asky_scripts.deploy.apply import apply, apply_args, explain_conflict, stream_of
from asky_scripts.errors import ClusterRefusedError, ManifestError
from asky_scripts.model.manifests import Manifest

# Where namespaced objects are validated when their namespace does not exist yet: a server-side
# dry run needs an existing namespace, and creating ours just to validate would change the
# cluster even when validation then fails.  Nothing is written there (dry run).
VALIDATION_NAMESPACE = "default"


def validate(
    kubectl: Kubectl,
    manifests: Sequence[Manifest],
    *,
    namespace: str,
    namespace_exists: bool,
    replaced: set[str],
    force: bool,
) -> None:
    """One server-side dry run of every object: any refusal changes nothing.

    ``replaced`` names the Deployments of run.sh that ours replace (deleted, not patched: their
    selectors cannot change), validated as new objects where nothing of that name is in the way.
    """
    if namespace_exists:
        elsewhere = [m for m in manifests if m.kind == "Deployment" and m.name in replaced]
        _dry_run(kubectl, [m for m in manifests if m not in elsewhere], force=force)
        _dry_run(kubectl, [in_namespace(m, VALIDATION_NAMESPACE) for m in elsewhere], force=True)
        return
    # Forbidden here fails the run too: a user who may not even dry-run in the default
    # namespace is very unlikely to be allowed to create a namespace.
    try:
        _dry_run(kubectl, [in_namespace(m, VALIDATION_NAMESPACE) for m in manifests], force=True)
    except ForbiddenError as exc:
        raise ClusterRefusedError(
            exc.message,
            hint=f"namespace {namespace} does not exist yet, so its objects were "
            f"validated (dry run, nothing written) in namespace {VALIDATION_NAMESPACE}; "
            "ask for these permissions, or have the namespace created first",
        ) from exc


def _dry_run(kubectl: Kubectl, manifests: list[Manifest], *, force: bool) -> None:
    if not manifests:
        return
    try:
        apply(kubectl, manifests, dry_run=True, force=force)
    except ConflictError as exc:
        raise explain_conflict("validation", exc) from exc
    except InvalidError as exc:
        raise pinpoint_invalid(kubectl, manifests, exc) from exc


def pinpoint_invalid(
    kubectl: Kubectl, manifests: list[Manifest], error: InvalidError
) -> ManifestError:
    """Re-validates object by object to name the file the server refused."""
    if len(manifests) > 1:
        for manifest in manifests:
            try:
                kubectl.run(
                    apply_args(dry_run=True, force_conflicts=True), stdin=stream_of([manifest])
                )
            except InvalidError as exc:
                return ManifestError(
                    f"{manifest.where}: {manifest.kind} {manifest.name} refused by the "
                    f"server: {exc.message}"
                )
    where = manifests[0].where if len(manifests) == 1 else "manifests"
    return ManifestError(f"{where}: refused by the server: {error.message}")


def in_namespace(manifest: Manifest, namespace: str) -> Manifest:
    if not manifest.namespaced:
        return manifest
    obj = dict(manifest.obj)
    obj["metadata"] = {**meta(manifest.obj), "namespace": namespace}
    return manifest.with_obj(obj)
