"""``terminate.py --keep-data``: everything of ours except the data and what unlocks it.

Kept: the namespace (it holds the Secrets), the generated Secrets (the database on the kept
volume was initialised with those passwords) and the volumes.  Refused when keeping is not
possible: a volume whose reclaim policy would delete the data with its claim, or a namespace
already being deleted with the Secrets in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.lock import LOCK_NAME
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, spec
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.ownership import is_ours
from asky_scripts.model.secrets import GENERATED_SECRETS
from asky_scripts.teardown.plan import (
    Found,
    Target,
    TeardownPlan,
    being_deleted,
    count_by_kind,
    reclaim_policy,
    terminating_refs,
    to_delete,
)

_KEPT_SECRETS = frozenset(secret.name for secret in GENERATED_SECRETS)


def _is_kept(obj: Obj) -> bool:
    """The generated Secrets, and the lock ConfigMap that its holder removes on release."""
    name = name_of(obj)
    kind = kind_of(obj)
    return (kind == "Secret" and name in _KEPT_SECRETS) or (kind, name) == ("ConfigMap", LOCK_NAME)


def _is_kept_secret(obj: Obj) -> bool:
    return kind_of(obj) == "Secret" and _is_kept(obj)


def _check_volumes_retained(found: Found, claims: Sequence[Obj]) -> None:
    """Deleting a claim whose volume says Delete would delete the data --keep-data promises."""
    volumes = {name_of(v): v for v in (*found.volumes, *found.claimed_volumes)}
    for claim in claims:
        volume = volumes.get(spec(claim).get("volumeName") or "")
        if volume is not None and reclaim_policy(volume) != "Retain":
            name, policy = name_of(volume), reclaim_policy(volume)
            raise ClusterRefusedError(
                f"--keep-data: PersistentVolume {name} has reclaim policy {policy}; "
                f"deleting claim {name_of(claim)} would delete the data; nothing "
                "was deleted",
                hint=f"kubectl patch persistentvolume {name} -p "
                '\'{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}\' and run again',
            )


def plan_keep_data(found: Found) -> TeardownPlan:
    """Everything of ours except the namespace, the generated Secrets and the volumes.

    The namespace stays because it holds the Secrets: the database on the kept volume was
    initialised with those passwords, and run.py would generate new ones without them.
    The claim goes, so a Retain volume turns Released and the next run.py re-binds it.
    """
    if found.namespace_obj is not None and being_deleted(found.namespace_obj):
        raise ClusterRefusedError(
            f"--keep-data: namespace {found.namespace} is already being deleted, and the "
            "database passwords in its Secrets with it; nothing was deleted",
            hint="back up the Secrets now if the namespace still holds them "
            f"(kubectl get secrets -n {found.namespace} -o yaml), then run without --keep-data",
        )
    ours = [o for o in found.contents if is_ours(o, found.namespace)]
    doomed = [o for o in ours if not _is_kept(o)]
    _check_volumes_retained(found, [o for o in doomed if kind_of(o) == "PersistentVolumeClaim"])
    kept: list[str] = []
    if found.namespace_obj is not None:
        kept.append(f"Namespace/{found.namespace} (it holds the Secrets)")
    secrets = sorted(name_of(o) for o in ours if _is_kept_secret(o))
    if secrets:
        kept.append(f"Secrets {', '.join(secrets)} (the database passwords)")
    kept.extend(
        f"PersistentVolume/{name_of(v)} with its data (reclaim policy "
        f"{reclaim_policy(v)}; the next run.py re-binds it)"
        for v in (*found.volumes, *found.claimed_volumes)
    )
    return TeardownPlan(
        namespace=found.namespace,
        keep_data=True,
        # Owned objects (ReplicaSets, Pods) are deleted by the garbage collector; we wait.
        delete=to_delete([o for o in doomed if not meta(o).get("ownerReferences")]),
        terminating=terminating_refs([o for o in doomed if not meta(o).get("ownerReferences")]),
        wait=tuple(Target.of(o) for o in doomed),
        kept=tuple(kept),
        contents=(count_by_kind(doomed),) if doomed else (),
    )
