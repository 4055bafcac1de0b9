"""What every kind's readiness module answers: the interface the watcher dispatches through.

One module per kind (krane's ``kubernetes_resource/``, helm's status readers): each says which
kinds it must read with its objects (``watches``), judges one object (``verdict``) and names the
objects a failure report shows for it (``evidence``).  The watcher knows no kind: it reads what
the readers watch, asks the reader of each object's kind (registry.py), and reports.  Reader
modules import this module whole (``base.KindReadiness``, ``base.Context``), as the interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field

from asky_scripts.cluster.kinds import reports_observed_generation
from asky_scripts.cluster.objects import Obj, kind_of, meta, name_of, status
from asky_scripts.readiness.verdict import Stopwatch, Verdict, Waiting

#: An object of a stage: (kind, name).
Key = tuple[str, str]


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
    def verdict(self, obj: Obj, observed: Observed, context: Context) -> Verdict:
        """Ready, Waiting or Failed for ``obj``, with this tick's read of what it watches."""

    def evidence(self, subject: Obj, observed: Observed) -> Evidence:
        """What a failure report shows for ``subject`` (a placeholder if it was not read)."""
        return Evidence(subject)

    def said_by(self, name: str) -> Key | None:
        """Another object whose waiting says all this one's does (left out of a timeout's
        headline while that one waits)."""
        return None


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
