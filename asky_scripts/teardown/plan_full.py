"""The default teardown: the namespace with everything in it, our claims, and our volumes.

Said before anything is deleted: what else the namespace holds (it goes with it), and what
happens to the data on the volume, honestly (a hostPath volume's files stay on the node).
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, field, kind_of, meta, name_of, spec
from asky_scripts.model.ownership import is_ours
from asky_scripts.teardown.plan import (
    Found,
    Target,
    TeardownPlan,
    count_by_kind,
    reclaim_policy,
    terminating_refs,
    to_delete,
)

#: What every namespace holds without anyone creating it; not worth warning about.
_NAMESPACE_DEFAULTS = {("ConfigMap", "kube-root-ca.crt")}


def _host_path(volume: Obj) -> str:
    return str(field(spec(volume), "hostPath").get("path") or "")


def _foreign(found: Found) -> tuple[str, ...]:
    """Objects in the namespace that are not ours and not owned by anything: they go with it."""
    return tuple(
        f"{kind_of(o)}/{name_of(o)}"
        for o in found.contents
        if not is_ours(o, found.namespace)
        and not meta(o).get("ownerReferences")
        and (kind_of(o), name_of(o)) not in _NAMESPACE_DEFAULTS
    )


def _volume_notes(found: Found) -> tuple[tuple[str, ...], tuple[Target, ...]]:
    """Volumes of our claims provisioned by a StorageClass: the class's policy decides."""
    notes: list[str] = []
    waits: list[Target] = []
    for volume in found.claimed_volumes:
        name = name_of(volume)
        if reclaim_policy(volume) == "Delete":
            notes.append(
                f"PersistentVolume {name} was provisioned for our claim with reclaim policy "
                "Delete: its provisioner deletes it, and the data on it, after the claim"
            )
            waits.append(Target.of(volume))
        else:
            notes.append(
                f"PersistentVolume {name} was provisioned for our claim with reclaim policy "
                f"{reclaim_policy(volume)}: it stays Released with its data; delete it yourself "
                "when the data is no longer needed"
            )
    return tuple(notes), tuple(waits)


def _data_warning(volumes: Sequence[Obj]) -> str:
    """Said before anything is deleted: what happens to the data, honestly."""
    if not volumes:
        return ""
    names = ", ".join(name_of(v) for v in volumes)
    paths = [p for p in (_host_path(v) for v in volumes) if p]
    text = (
        f"the database volume {names} and its claim will be deleted, and with them Asky's "
        "access to the data (use --keep-data to keep it)."
    )
    if paths:
        where = ", ".join(paths)
        text += (
            f" Kubernetes does not erase a hostPath volume (reclaim policy Retain): the files "
            f"stay on the node at {where} until you remove them "
            f"(on minikube: minikube ssh -- sudo rm -rf {where}). A later run.py that finds "
            "them starts on the old database, whose passwords are deleted with the namespace."
        )
    return text


def plan_full(found: Found) -> TeardownPlan:
    """Default: the namespace with everything in it, our claims, and our volumes."""
    ours = [o for o in found.contents if is_ours(o, found.namespace)]
    namespace = [found.namespace_obj] if found.namespace_obj is not None else []
    claims = [o for o in ours if kind_of(o) == "PersistentVolumeClaim"]
    volumes = [v for v in found.volumes if is_ours(v, found.namespace)]
    notes, provisioned = _volume_notes(found)
    return TeardownPlan(
        namespace=found.namespace,
        keep_data=False,
        delete=to_delete([*namespace, *volumes]),
        terminating=terminating_refs([*namespace, *volumes]),
        wait=tuple(Target.of(o) for o in (*namespace, *claims, *volumes)) + provisioned,
        foreign=_foreign(found) if namespace else (),
        notes=notes,
        contents=(count_by_kind(ours),) if ours else (),
        data_warning=_data_warning(volumes),
    )
