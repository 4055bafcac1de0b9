"""What every kind's readiness module answers, and the verdicts they answer with.

One module per kind (krane's ``kubernetes_resource/``, helm's status readers): each says which
kinds it must read with its objects (``watches``), judges one object (``verdict``) and names the
objects a failure report shows for it (``evidence``).  The watcher knows no kind: it reads what
the readers watch, asks the reader of each object's kind (registry.py), and reports.

A Verdict is Ready, Waiting (with what it waits for) or Failed (with a one-line cause and the
likely fix).  Failing fast matters as much as waiting: a crash loop or a missing image is
reported within a tick instead of after the timeout, which is the complaint users have about
``helm --wait`` and ``kubectl rollout status``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from asky_scripts.cluster.kinds import reports_observed_generation
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, status


@dataclass(frozen=True)
class Ready:
    detail: str = ""


@dataclass(frozen=True)
class Waiting:
    reason: str
    warning: str = ""


@dataclass(frozen=True)
class Failed:
    cause: str
    hint: str = ""


Verdict = Ready | Waiting | Failed
#: An object of a stage: (kind, name).
Key = tuple[str, str]


class Stopwatch:
    """How long a condition has been seen, for rules like 'Unschedulable for more than 15 s'.

    Measured on our clock from the first tick that saw it, so a skewed cluster clock cannot make
    us fail early; a condition that goes away and comes back starts again.
    """

    def __init__(self) -> None:
        self._first_seen: dict[str, float] = {}
        self._seen_now: set[str] = set()

    def seen_for(self, key: str, now: float) -> float:
        self._seen_now.add(key)
        return now - self._first_seen.setdefault(key, now)

    def end_tick(self) -> None:
        """Forgets the conditions not seen during the tick that just ended."""
        for key in set(self._first_seen) - self._seen_now:
            del self._first_seen[key]
        self._seen_now.clear()


@dataclass
class Observed:
    """One tick's read of the cluster, grouped by kind."""

    by_kind: dict[str, list[Obj]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Obj]:
        return self.by_kind.get(kind, [])

    def find(self, kind: str, name: str) -> Obj | None:
        return next((o for o in self.of(kind) if name_of(o) == name), None)


@dataclass(frozen=True)
class Setting:
    """What a deploy tells every reader: its namespace, the nodes (their allocatable), and
    whether a StorageClass was named with --storage-class (then it is read with the claim)."""

    namespace: str
    nodes: Sequence[Obj] = ()
    storage_class: bool = False


@dataclass
class Context:
    """One tick's judging: the setting, our clock, and the verdicts already given this tick
    (a Service is judged after its Deployment, whose readiness it needs)."""

    setting: Setting
    now: float
    stopwatch: Stopwatch
    judged: dict[Key, Verdict] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    """The objects a failure report shows: its subject, related objects, and pods."""

    subject: Obj
    related: Sequence[Obj] = ()
    pods: Sequence[Obj] = ()


class KindReadiness(ABC):
    """The readiness of one kind.  Defaults suit a kind with nothing behind it."""

    #: Judged before the others (a Deployment, whose readiness its Service needs).
    judged_first = False
    #: Its Ready detail is what the stage line shows (the objects people wait for).
    shown_in_summary = False
    #: A timeout's report shows its evidence (for kinds whose evidence says more than the name).
    explained_on_timeout = False

    def watches(self, setting: Setting) -> tuple[str, ...]:
        """The kinds read with its objects on every tick."""
        return ()

    @abstractmethod
    def verdict(self, obj: Obj, observed: Observed, context: Context) -> Verdict: ...

    def evidence(self, subject: Obj, observed: Observed) -> Evidence:
        """What a failure report shows for ``subject`` (a placeholder if it was not read)."""
        return Evidence(subject)

    def said_by(self, name: str) -> Key | None:
        """Another object whose waiting says all this one's does (left out of a timeout's
        headline while that one waits)."""
        return None


def uid_of(obj: Obj) -> str:
    return str(meta(obj).get("uid", ""))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in status(obj).get("conditions") or []:
        if cond.get("type") == kind:
            found: Obj = cond
            return found
    return None


def owned_by(owner: Obj, objects: Iterable[Obj]) -> list[Obj]:
    """The objects whose ownerReferences name ``owner``."""
    uid = uid_of(owner)
    return [
        obj
        for obj in objects
        if any(ref.get("uid") == uid for ref in meta(obj).get("ownerReferences") or [])
    ]


def container_statuses(pod: Obj) -> list[Obj]:
    """The statuses of a pod's init containers, then of its containers."""
    return list(status(pod).get("initContainerStatuses") or []) + list(
        status(pod).get("containerStatuses") or []
    )


def lifecycle_gate(obj: Obj) -> Verdict | None:
    """The checks every kind shares: being deleted, or a spec its controller has not seen yet."""
    if meta(obj).get("deletionTimestamp"):
        return Waiting("Terminating")
    if reports_observed_generation(kind_of(obj)):
        generation = int(meta(obj).get("generation") or 0)
        observed = int(status(obj).get("observedGeneration") or 0)
        if generation > observed:
            return Waiting("its controller has not observed the latest change yet")
    return None
