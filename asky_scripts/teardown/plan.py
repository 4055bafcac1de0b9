"""Decides what ``terminate.py`` deletes, waits for and keeps, from one read of the cluster.

Pure over the objects read, so the safety rules (only what carries our labels, never the
Secrets and volume that ``--keep-data`` promises to keep, a namespace someone else made is
refused) are unit-tested without a cluster.  The original terminate.sh deleted by name only;
a namespace called ``asky`` that another team made would have gone with everything in it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.lock import LOCK_NAME
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.ownership import is_ours, owner_selector
from asky_scripts.model.run_sh import RunShDeployment
from asky_scripts.model.secrets import GENERATED_SECRETS

Obj = dict[str, Any]

#: Every namespaced kind run.py creates, directly or through a Deployment (ReplicaSet, Pod).
#: A test checks it against the manifests, so a new kind cannot be forgotten here.
NAMESPACED_KINDS = (
    "Deployment",
    "ReplicaSet",
    "Pod",
    "Service",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "NetworkPolicy",
    "PodDisruptionBudget",
)
#: What every namespace holds without anyone creating it; not worth warning about.
_NAMESPACE_DEFAULTS = {("ConfigMap", "kube-root-ca.crt")}
_KEPT_SECRETS = frozenset(spec.name for spec in GENERATED_SECRETS)


def selector(namespace: str) -> str:
    """The label selector of every object run.py made for ``namespace``."""
    return owner_selector(namespace)


@dataclass(frozen=True)
class Target:
    """One object by identity: a new object with the same name but another UID is not it."""

    kind: str
    name: str
    namespace: str
    uid: str

    @classmethod
    def of(cls, obj: Obj) -> Target:
        meta = obj.get("metadata") or {}
        return cls(
            str(obj.get("kind", "")),
            str(meta.get("name", "")),
            str(meta.get("namespace", "")),
            str(meta.get("uid", "")),
        )

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def resource_ref(self) -> str:
        """``kubectl``'s group-qualified ``resource/name``."""
        return f"{resource(self.kind)}/{self.name}"


@dataclass(frozen=True)
class Found:
    """What discovery read: the namespace, our volumes, and everything inside the namespace."""

    namespace: str
    namespace_obj: Obj | None
    volumes: tuple[Obj, ...] = ()
    contents: tuple[Obj, ...] = ()
    #: Volumes our claims are bound to that are not labelled ours (provisioned by a class).
    claimed_volumes: tuple[Obj, ...] = ()
    #: Resources we may not delete, with the problem to report for each ...
    denied: Mapping[str, str] = field(default_factory=dict)
    #: ... among the resources discovery asked about.
    permissions_checked: tuple[str, ...] = ()


@dataclass(frozen=True)
class TeardownPlan:
    """What will be deleted (in one ``kubectl delete``), waited for, and deliberately kept."""

    namespace: str
    keep_data: bool
    delete: tuple[Target, ...]
    wait: tuple[Target, ...]
    kept: tuple[str, ...] = ()
    terminating: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    contents: tuple[str, ...] = ()
    data_warning: str = ""

    @property
    def nothing_to_do(self) -> bool:
        return not self.delete and not self.wait


def _terminating(objects: Sequence[Obj]) -> tuple[str, ...]:
    return tuple(
        Target.of(o).ref for o in objects if (o.get("metadata") or {}).get("deletionTimestamp")
    )


def _to_delete(objects: Sequence[Obj]) -> tuple[Target, ...]:
    """Targets to send a delete for; one already Terminating is only waited for (a namespace
    would answer 409 to a second delete)."""
    return tuple(
        Target.of(o) for o in objects if not (o.get("metadata") or {}).get("deletionTimestamp")
    )


def _reclaim(volume: Obj) -> str:
    return str((volume.get("spec") or {}).get("persistentVolumeReclaimPolicy") or "Delete")


def _host_path(volume: Obj) -> str:
    return str(((volume.get("spec") or {}).get("hostPath") or {}).get("path") or "")


def _count_by_kind(objects: Sequence[Obj]) -> str:
    counts = Counter(str(o.get("kind")) for o in objects)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def check_namespace_owner(found: Found, *, force: bool) -> None:
    """Refuses a namespace of the same name that run.py did not create, unless forced."""
    ns = found.namespace_obj
    if ns is None or is_ours(ns, found.namespace) or force:
        return
    raise ClusterRefusedError(
        f"namespace {found.namespace} exists but was not created by asky-scripts (labels "
        f"{selector(found.namespace)} missing); nothing was deleted",
        hint="check --namespace and --context; --force deletes it anyway, with everything in it",
    )


def _foreign(found: Found) -> tuple[str, ...]:
    """Objects in the namespace that are not ours and not owned by anything: they go with it."""
    return tuple(
        f"{o.get('kind')}/{o['metadata']['name']}"
        for o in found.contents
        if not is_ours(o, found.namespace)
        and not o["metadata"].get("ownerReferences")
        and (o.get("kind"), o["metadata"]["name"]) not in _NAMESPACE_DEFAULTS
    )


def _volume_notes(found: Found) -> tuple[tuple[str, ...], tuple[Target, ...]]:
    """Volumes of our claims provisioned by a StorageClass: the class's policy decides."""
    notes: list[str] = []
    waits: list[Target] = []
    for volume in found.claimed_volumes:
        name = volume["metadata"]["name"]
        if _reclaim(volume) == "Delete":
            notes.append(
                f"PersistentVolume {name} was provisioned for our claim with reclaim policy "
                "Delete: its provisioner deletes it, and the data on it, after the claim"
            )
            waits.append(Target.of(volume))
        else:
            notes.append(
                f"PersistentVolume {name} was provisioned for our claim with reclaim policy "
                f"{_reclaim(volume)}: it stays Released with its data; delete it yourself "
                "when the data is no longer needed"
            )
    return tuple(notes), tuple(waits)


def _data_warning(volumes: Sequence[Obj]) -> str:
    """Said before anything is deleted: what happens to the data, honestly."""
    if not volumes:
        return ""
    names = ", ".join(v["metadata"]["name"] for v in volumes)
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
    claims = [o for o in ours if o.get("kind") == "PersistentVolumeClaim"]
    volumes = [v for v in found.volumes if is_ours(v, found.namespace)]
    notes, provisioned = _volume_notes(found)
    return TeardownPlan(
        namespace=found.namespace,
        keep_data=False,
        delete=_to_delete([*namespace, *volumes]),
        terminating=_terminating([*namespace, *volumes]),
        wait=tuple(Target.of(o) for o in (*namespace, *claims, *volumes)) + provisioned,
        foreign=_foreign(found) if namespace else (),
        notes=notes,
        contents=(_count_by_kind(ours),) if ours else (),
        data_warning=_data_warning(volumes),
    )


def _is_kept(obj: Obj) -> bool:
    """The generated Secrets, and the lock ConfigMap that its holder removes on release."""
    name = obj["metadata"]["name"]
    kind = obj.get("kind")
    return (kind == "Secret" and name in _KEPT_SECRETS) or (kind, name) == ("ConfigMap", LOCK_NAME)


def _is_kept_secret(obj: Obj) -> bool:
    return obj.get("kind") == "Secret" and _is_kept(obj)


def _check_volumes_retained(found: Found, claims: Sequence[Obj]) -> None:
    """Deleting a claim whose volume says Delete would delete the data --keep-data promises."""
    volumes = {v["metadata"]["name"]: v for v in (*found.volumes, *found.claimed_volumes)}
    for claim in claims:
        volume = volumes.get((claim.get("spec") or {}).get("volumeName") or "")
        if volume is not None and _reclaim(volume) != "Retain":
            name = volume["metadata"]["name"]
            raise ClusterRefusedError(
                f"--keep-data: PersistentVolume {name} has reclaim policy {_reclaim(volume)}; "
                f"deleting claim {claim['metadata']['name']} would delete the data; nothing "
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
    ours = [o for o in found.contents if is_ours(o, found.namespace)]
    doomed = [o for o in ours if not _is_kept(o)]
    _check_volumes_retained(found, [o for o in doomed if o.get("kind") == "PersistentVolumeClaim"])
    kept: list[str] = []
    if found.namespace_obj is not None:
        kept.append(f"Namespace/{found.namespace} (it holds the Secrets)")
    secrets = sorted(o["metadata"]["name"] for o in ours if _is_kept_secret(o))
    if secrets:
        kept.append(f"Secrets {', '.join(secrets)} (the database passwords)")
    kept.extend(
        f"PersistentVolume/{v['metadata']['name']} with its data (reclaim policy "
        f"{_reclaim(v)}; the next run.py re-binds it)"
        for v in (*found.volumes, *found.claimed_volumes)
    )
    return TeardownPlan(
        namespace=found.namespace,
        keep_data=True,
        # Owned objects (ReplicaSets, Pods) are deleted by the garbage collector; we wait.
        delete=_to_delete([o for o in doomed if not o["metadata"].get("ownerReferences")]),
        terminating=_terminating([o for o in doomed if not o["metadata"].get("ownerReferences")]),
        wait=tuple(Target.of(o) for o in doomed),
        kept=tuple(kept),
        contents=(_count_by_kind(doomed),) if doomed else (),
    )


def build_plan(found: Found, *, keep_data: bool, force: bool) -> TeardownPlan:
    """The plan for this teardown, after the ownership check."""
    check_namespace_owner(found, force=force)
    ns = found.namespace_obj
    if keep_data and ns is not None and (ns.get("metadata") or {}).get("deletionTimestamp"):
        raise ClusterRefusedError(
            f"--keep-data: namespace {found.namespace} is already being deleted, and the "
            "database passwords in its Secrets with it; nothing was deleted",
            hint="back up the Secrets now if the namespace still holds them "
            f"(kubectl get secrets -n {found.namespace} -o yaml), then run without --keep-data",
        )
    return plan_keep_data(found) if keep_data else plan_full(found)


def refuse_if_denied(plan: TeardownPlan, denied: Mapping[str, str]) -> None:
    """Refuse before the first delete when RBAC forbids any of them: kubectl carries on past
    a refused object, so a forbidden namespace delete would otherwise still take the volume."""
    problems = sorted({denied[resource(t.kind)] for t in plan.delete if resource(t.kind) in denied})
    if problems:
        raise ClusterRefusedError(
            "nothing was deleted: " + "; ".join(problems),
            hint="ask a cluster admin for this permission, then run again",
        )


#: What terminate.sh did beyond Asky's namespace and volume, which terminate.py will not do.
TERMINATE_SH_EXTRAS = (
    "terminate.sh also ran `kubectl delete all --all -n default`, deleting everything in the "
    "default namespace, and `helm uninstall` of the logging stack; terminate.py does neither, "
    "because neither is Asky's: remove them yourself if you mean to",
)


def check_run_sh(legacy: RunShDeployment | None, *, run_sh: bool, keep_data: bool) -> None:
    """run.sh's deployment is removed only when asked for by name (``--run-sh``)."""
    if legacy is None:
        return
    if run_sh and keep_data:
        raise ClusterRefusedError(
            "--run-sh removes run.sh's deployment as terminate.sh did; --keep-data cannot "
            "keep it (run.sh's passwords are not in generated Secrets); nothing was deleted",
            hint="to keep run.sh's database, take it over with `python run.py --adopt`",
        )
    if run_sh:
        return
    found = "\n".join(f"  - {line}" for line in legacy.listing())
    raise ClusterRefusedError(
        f"namespace {legacy.namespace} holds a deployment made by the original run.sh "
        f"(not labelled by asky-scripts):\n{found}\nNothing was deleted.",
        hint=f"`python terminate.py --run-sh` removes it as terminate.sh did (namespace "
        f"{legacy.namespace} and volume {legacy.volume_name}); or keep its database and take it "
        "over with `python run.py --adopt`",
    )


def plan_run_sh(found: Found, legacy: RunShDeployment) -> TeardownPlan:
    """What terminate.sh removed of Asky: the namespace with everything in it, and run.sh's
    volume (plus ours, after an adoption that did not finish)."""
    base = plan_full(found)
    volumes = [legacy.volume] if legacy.volume is not None else []
    warning = base.data_warning
    if legacy.data_path:
        warning = (
            f"run.sh's volume {legacy.volume_name} and its claim will be deleted. Kubernetes "
            f"does not erase a hostPath volume: run.sh's database stays on the node at "
            f"{legacy.data_path} until you remove it (on minikube: minikube ssh -- sudo rm -rf "
            f"{legacy.data_path}). To keep using it, run `python run.py --adopt` instead. "
            + warning
        ).strip()
    return replace(
        base,
        delete=base.delete + _to_delete(volumes),
        terminating=base.terminating + _terminating(volumes),
        wait=base.wait + tuple(Target.of(v) for v in volumes),
        foreign=(),
        contents=(_count_by_kind(found.contents),) if found.contents else (),
        notes=base.notes + TERMINATE_SH_EXTRAS,
        data_warning=warning,
    )
