"""What a teardown plan is made of, and the refusals every plan shares.

The plans themselves are in plan_full.py (the default), keep_data.py and run_sh.py.  All are
pure over the objects read, so the safety rules (only what carries our labels, never the
Secrets and volume that ``--keep-data`` promises to keep, a namespace someone else made is
refused) are unit-tested without a cluster.  The original terminate.sh deleted by name only;
a namespace called ``asky`` that another team made would have gone with everything in it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, spec, uid_of
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.ownership import is_ours, owner_selector


@dataclass(frozen=True)
class Target:
    """One object by identity: a new object with the same name but another UID is not it."""

    kind: str
    name: str
    namespace: str
    uid: str

    @classmethod
    def of(cls, obj: Obj) -> Target:
        return cls(kind_of(obj), name_of(obj), str(meta(obj).get("namespace", "")), uid_of(obj))

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
    denied: Mapping[str, str] = dataclasses.field(default_factory=dict)
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


def being_deleted(obj: Obj) -> bool:
    return bool(meta(obj).get("deletionTimestamp"))


def terminating_refs(objects: Sequence[Obj]) -> tuple[str, ...]:
    return tuple(Target.of(o).ref for o in objects if being_deleted(o))


def to_delete(objects: Sequence[Obj]) -> tuple[Target, ...]:
    """Targets to send a delete for; one already Terminating is only waited for (a namespace
    would answer 409 to a second delete)."""
    return tuple(Target.of(o) for o in objects if not being_deleted(o))


def reclaim_policy(volume: Obj) -> str:
    return str(spec(volume).get("persistentVolumeReclaimPolicy") or "Delete")


def count_by_kind(objects: Sequence[Obj]) -> str:
    counts = Counter(str(kind_of(o)) for o in objects)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))


def check_namespace_owner(found: Found, *, force: bool) -> None:
    """Refuses a namespace of the same name that run.py did not create, unless forced."""
    ns = found.namespace_obj
    if ns is None or is_ours(ns, found.namespace) or force:
        return
    raise ClusterRefusedError(
        f"namespace {found.namespace} exists but was not created by asky-scripts (labels "
        f"{owner_selector(found.namespace)} missing); nothing was deleted",
        hint="check --namespace and --context; --force deletes it anyway, with everything in it",
    )


def refuse_if_denied(plan: TeardownPlan, denied: Mapping[str, str]) -> None:
    """Refuse before the first delete when RBAC forbids any of them: kubectl carries on past
    a refused object, so a forbidden namespace delete would otherwise still take the volume."""
    problems = sorted({denied[resource(t.kind)] for t in plan.delete if resource(t.kind) in denied})
    if problems:
        raise ClusterRefusedError(
            "nothing was deleted: " + "; ".join(problems),
            hint="ask a cluster admin for this permission, then run again",
        )
