"""The deploy as a dependency graph: each stage starts as soon as what it really needs is done.

What a stage needs is read from its objects, not listed by hand:

- the stage that applies the Namespace takes the namespace lock, so every other stage needs it
  (nothing else is written before the lock is held);
- a pod template needs what it mounts or reads: its claims, ConfigMaps and Secrets (volumes,
  projected sources, ``env`` and ``envFrom``), the generated Secrets coming from the stage that
  makes them;
- a pod template whose environment names one of our Services (``DATABASE_HOST=postgres``) needs
  that Service serving, that is, the stage that deploys it done;
- objects of one stage need nothing of each other here: the stage applies them in its order.

So the storage and configuration stages run side by side, the database waits for its claim,
ConfigMaps and Secrets, and each app waits for the database (Ready with endpoints; its log is
read beside the apps, see Epilogue).  Stage lines stay in the plan's order: a stage that
finishes early is reported once the ones before it are.  A stage's "started" line comes when it
really starts, so two stages may be under way at once.

Stopping: the first failure, Ctrl-C or SIGTERM sets a cancel event; each stage stops at its next
step or wait tick.  A kubectl already running in a side thread is not killed but left to finish
(a request is bounded by --request-timeout); the calling thread's kubectl is killed at once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Generic, TypeVar

from asky_scripts.cluster.objects import Obj, field, spec
from asky_scripts.model.secrets import secret_names
from asky_scripts.model.stages import PlannedStage

R = TypeVar("R")
T = TypeVar("T")
Ref = tuple[str, str]


class StageCancelledError(Exception):
    """Raised in a stage at its next step once another stage failed or the run was stopped."""


def _pod_spec(obj: Obj) -> Obj:
    return spec(obj) if obj.get("kind") == "Pod" else spec(field(spec(obj), "template"))


def _named(source: Obj, kind: str, key: str = "name") -> Iterator[Ref]:
    if source.get(key):
        yield kind, str(source[key])


def references(obj: Obj, services: set[str]) -> set[Ref]:
    """The (kind, name) of the objects ``obj``'s pods mount or read, and of the ``services``
    its containers' environment names (as ``host`` or ``host:port``)."""
    pod = _pod_spec(obj)
    found: set[Ref] = set()
    for volume in pod.get("volumes") or []:
        found.update(
            _named(field(volume, "persistentVolumeClaim"), "PersistentVolumeClaim", "claimName")
        )
        found.update(_named(field(volume, "configMap"), "ConfigMap"))
        found.update(_named(field(volume, "secret"), "Secret", "secretName"))
        for source in field(volume, "projected").get("sources") or []:
            found.update(_named(field(source, "configMap"), "ConfigMap"))
            found.update(_named(field(source, "secret"), "Secret"))
    for container in (pod.get("containers") or []) + (pod.get("initContainers") or []):
        for source in container.get("envFrom") or []:
            found.update(_named(field(source, "configMapRef"), "ConfigMap"))
            found.update(_named(field(source, "secretRef"), "Secret"))
        for env in container.get("env") or []:
            value_from = field(env, "valueFrom")
            found.update(_named(field(value_from, "configMapKeyRef"), "ConfigMap"))
            found.update(_named(field(value_from, "secretKeyRef"), "Secret"))
            host = str(env.get("value") or "").partition(":")[0].partition(".")[0]
            if host in services:
                found.add(("Service", host))
    return found


def stage_needs(plan: Sequence[PlannedStage]) -> dict[str, frozenset[str]]:
    """For each stage, the stages it must wait for (see the module docstring)."""
    made_by: dict[Ref, str] = {}
    for planned in plan:
        for m in planned.manifests:
            made_by[(m.kind, m.name)] = planned.stage.name
        if planned.stage.generates_secrets:
            made_by.update({("Secret", name): planned.stage.name for name in secret_names()})
    services = {name for kind, name in made_by if kind == "Service"}
    locking = next(
        (p.stage.name for p in plan if any(m.kind == "Namespace" for m in p.manifests)), None
    )
    needs: dict[str, frozenset[str]] = {}
    for planned in plan:
        name = planned.stage.name
        wanted = {
            made_by[ref]
            for m in planned.manifests
            for ref in references(m.obj, services)
            if ref in made_by
        }
        if locking is not None and name != locking:
            wanted.add(locking)
        needs[name] = frozenset(wanted - {name})
    return needs


@dataclass(frozen=True)
class Epilogue(Generic[R]):
    """What a stage returns when the stages that need it may start now: the rest of its work
    (reading a log, say) runs beside them, and its line is reported when that is done."""

    rest: Callable[[], R]


class StageGraph(Generic[R]):
    """Runs stages as their needs allow: the first one ready in the calling thread (so Ctrl-C
    stops its kubectl at once, as in a plain sequence), the others beside it in threads.  A
    stage's line is reported as soon as it and every stage before it are done, from whichever
    thread finished last."""

    def __init__(self, order: Sequence[str], needs: Mapping[str, frozenset[str]]) -> None:
        for position, name in enumerate(order):
            if not needs.get(name, frozenset()) <= set(order[:position]):
                raise ValueError(f"stage {name} needs a stage that comes after it")
        self.order = tuple(order)
        self.needs = {name: needs.get(name, frozenset()) for name in order}
        #: The stage whose failure stopped the run, once one did.
        self.failed: str | None = None
        self._results: dict[str, R] = {}
        # Stages whose dependents may start (finished, or past the point their Epilogue marks).
        self._satisfied: set[str] = set()
        self._running: dict[str, Future[R | Epilogue[R]]] = {}
        self._reported = 0
        # Re-entrant: a callback added to a future already done runs at once, lock held.
        self._mutex = threading.RLock()

    def earliest_unfinished(self) -> str | None:
        return next((name for name in self.order if name not in self._results), None)

    def run(
        self,
        start: Callable[[str], None],
        work: Callable[[str], R | Epilogue[R]],
        done: Callable[[str, R], None],
        cancel: threading.Event,
    ) -> None:
        """``start`` then ``work`` each stage once its needs are satisfied; ``done`` in order.

        The first failure sets ``cancel``: every other stage stops at its next step (see
        StageCancelledError), and the failure is raised once they have.
        """
        pool = ThreadPoolExecutor(max_workers=len(self.order))

        def submit(name: str, job: Callable[[], R | Epilogue[R]]) -> None:
            future = pool.submit(_guarded, job, cancel)
            self._running[name] = future
            future.add_done_callback(functools.partial(settle, name))

        def finish(name: str, outcome: R | Epilogue[R]) -> None:
            self._satisfied.add(name)
            if isinstance(outcome, Epilogue):
                submit(name, outcome.rest)
                return
            self._results[name] = outcome
            while self._reported < len(self.order) and self.order[self._reported] in self._results:
                reported = self.order[self._reported]
                done(reported, self._results[reported])
                self._reported += 1

        def settle(name: str, future: Future[R | Epilogue[R]]) -> None:
            with self._mutex:
                if self._running.get(name) is future and future.exception() is None:
                    del self._running[name]
                    finish(name, future.result())

        try:
            while True:
                with self._mutex:
                    self._raise_failure()
                    if self._reported == len(self.order):
                        return
                    ready = [
                        name
                        for name in self.order
                        if name not in self._satisfied
                        and name not in self._running
                        and self.needs[name] <= self._satisfied
                    ]
                    for name in ready:
                        start(name)
                    for name in ready[1:]:
                        submit(name, functools.partial(work, name))
                    running = list(self._running.values())
                if ready:
                    self.failed = ready[0]
                    outcome = work(ready[0])
                    self.failed = None
                    with self._mutex:
                        finish(ready[0], outcome)
                elif running:
                    wait(running, return_when=FIRST_COMPLETED)
        except BaseException as error:
            cancel.set()
            pool.shutdown(wait=True)
            if isinstance(error, StageCancelledError):
                self._raise_failure()
            raise
        finally:
            pool.shutdown(wait=True)

    def _raise_failure(self) -> None:
        """A stage's failure (one that was not merely stopped), raised as the run's."""
        for name, future in self._running.items():
            failure = future.exception() if future.done() else None
            if failure is not None and not isinstance(failure, StageCancelledError):
                self.failed = name
                raise failure


def _guarded(work: Callable[[], T], cancel: threading.Event) -> T:
    try:
        return work()
    except BaseException:
        cancel.set()  # the other stages stop at their next step
        raise
