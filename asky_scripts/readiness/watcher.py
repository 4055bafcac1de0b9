"""Waits until a stage's objects are ready, or stops at the first failure that will not heal.

One ``kubectl get`` per tick covers every object of the stage and the pods, ReplicaSets,
EndpointSlices and events behind them, in a tenacity loop ticking every 0.1 s (polling.py), so
readiness is noticed quickly.  A failure stops the wait at once with its evidence; a stage still
waiting at the timeout stops it too, saying what each object still waits on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError, TransientError
from asky_scripts.cluster.objects import Obj
from asky_scripts.errors import FailureReport, StageTimeoutError, WorkloadFailedError
from asky_scripts.model.manifests import CLAIM_NAME
from asky_scripts.model.stages import Stage
from asky_scripts.readiness import diagnostics
from asky_scripts.readiness import verdicts as readiness
from asky_scripts.readiness.verdicts import Failed, Ready, Stopwatch, Verdict, Waiting

# Attempts at one tick's read: a failed tick is simply followed by the next one.
_TICK_ATTEMPTS = 2

#: Told each time an object's verdict changes: (stage, kind, name, verdict).
OnChange = Callable[[str, str, str, Verdict], None]


@dataclass
class Observed:
    """One tick's read of the cluster, grouped by kind."""

    by_kind: dict[str, list[Obj]] = field(default_factory=dict)

    def of(self, kind: str) -> list[Obj]:
        return self.by_kind.get(kind, [])

    def find(self, kind: str, name: str) -> Obj | None:
        return next((o for o in self.of(kind) if readiness.name_of(o) == name), None)


class StageWatcher:
    """Judges one namespace's objects, stage by stage, until ready, failed or timed out."""

    def __init__(
        self,
        kubectl: Kubectl,
        namespace: str,
        on_change: OnChange,
        *,
        timeout: float,
        nodes: Sequence[Obj] = (),
        storage_class: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._kubectl = kubectl
        self.namespace = namespace
        self._on_change = on_change
        self._timeout = timeout
        self._nodes = list(nodes)
        # An explicit --storage-class: its StorageClass is read with the claim to judge it.
        self._storage_class = storage_class
        self._clock = clock
        # The last tick of the last wait: every object as judged ready, which is what the
        # summary shows, without reading them again.
        self.last_observed = Observed()

    def wait(self, stage: Stage, targets: list[tuple[str, str]]) -> str:
        """Ticks until every (kind, name) of ``targets`` is Ready; the stage line's detail."""
        last: dict[tuple[str, str], Verdict] = {}
        stopwatch = Stopwatch()

        def tick() -> bool:
            try:
                observed = self._observe(stage, targets)
            except TransientError:
                return False  # kubectl already retried; the next tick reads again
            verdicts = self._judge(targets, observed, stopwatch)
            stopwatch.end_tick()
            self.last_observed = observed
            for key, verdict in verdicts.items():
                if last.get(key) != verdict:
                    self._on_change(stage.name, key[0], key[1], verdict)
                last[key] = verdict
                if isinstance(verdict, Failed):
                    raise self._failure(stage, key, verdict, observed)
            return all(isinstance(v, Ready) for v in verdicts.values())

        try:
            polling.until_done(self._timeout)(tick)
        except tenacity.RetryError:
            raise self._timed_out(stage, last) from None
        return summarize_stage(last)

    def _observe(self, stage: Stage, targets: list[tuple[str, str]]) -> Observed:
        """One kubectl get listing every kind of the stage (one request per kind, not per object,
        which keeps a tick cheap and likely to pass on a flaky API)."""
        kinds = list(dict.fromkeys([kind for kind, _ in targets] + list(stage.watch)))
        if self._storage_class and "PersistentVolumeClaim" in kinds:
            kinds.append("StorageClass")
        args = ["get", ",".join(resource(k) for k in kinds), "-n", self.namespace]
        observed = Observed()
        for item in self._kubectl.get_items(args, attempts=_TICK_ATTEMPTS):
            observed.by_kind.setdefault(str(item.get("kind")), []).append(item)
        return observed

    def _judge(
        self, targets: list[tuple[str, str]], observed: Observed, stopwatch: Stopwatch
    ) -> dict[tuple[str, str], Verdict]:
        now = self._clock()
        events = observed.of("Event")
        verdicts: dict[tuple[str, str], Verdict] = {}
        ordered = sorted(targets, key=lambda t: t[0] != "Deployment")  # workloads before Services
        for kind, name in ordered:
            obj = observed.find(kind, name)
            if obj is None:
                verdicts[(kind, name)] = Waiting("not visible yet")
            elif kind == "Namespace":
                verdicts[(kind, name)] = readiness.namespace_verdict(obj)
            elif kind == "PersistentVolume":
                verdicts[(kind, name)] = readiness.volume_verdict(obj, self.namespace, CLAIM_NAME)
            elif kind == "PersistentVolumeClaim":
                class_name = (obj.get("spec") or {}).get("storageClassName")
                storage_class = observed.find("StorageClass", str(class_name))
                verdicts[(kind, name)] = readiness.claim_verdict(obj, storage_class, events)
            elif kind == "Deployment":
                verdicts[(kind, name)] = readiness.deployment_verdict(
                    obj,
                    observed.of("ReplicaSet"),
                    observed.of("Pod"),
                    events,
                    stopwatch=stopwatch,
                    now=now,
                    nodes=self._nodes,
                )
            elif kind == "Service":
                workload = observed.find("Deployment", name)
                wanted = int(((workload or {}).get("spec") or {}).get("replicas", 1))
                verdicts[(kind, name)] = readiness.service_verdict(
                    obj,
                    observed.of("EndpointSlice"),
                    expect_endpoints=workload is not None and wanted > 0,
                    workload_ready=isinstance(verdicts.get(("Deployment", name)), Ready),
                    stopwatch=stopwatch,
                    now=now,
                )
            else:
                verdicts[(kind, name)] = readiness.exists_verdict(obj)
        return {t: verdicts[t] for t in targets}

    def _report(
        self, key: tuple[str, str], cause: str, hint: str, observed: Observed
    ) -> FailureReport:
        kind, name = key
        subject = observed.find(kind, name) or {"kind": kind, "metadata": {"name": name}}
        related: list[Obj] = []
        pods: list[Obj] = []
        if kind == "Service":
            workload = observed.find("Deployment", name)
            if workload:
                related.append(workload)
                subject, related = workload, [subject]
        if subject.get("kind") == "Deployment":
            rs = readiness.newest_replicaset(subject, observed.of("ReplicaSet"))
            if rs:
                related.append(rs)
                pods = readiness.pods_of(rs, observed.of("Pod"))
        return diagnostics.collect(
            self._kubectl,
            self.namespace,
            subject,
            cause=cause,
            hint=hint,
            related=related,
            pods=pods,
        )

    def _failure(
        self, stage: Stage, key: tuple[str, str], verdict: Failed, observed: Observed
    ) -> WorkloadFailedError:
        cause = f"{key[1]}: {verdict.cause}"
        report = self._report(key, cause, verdict.hint, observed)
        return WorkloadFailedError(cause, verdict.hint, (report,))

    def _timed_out(self, stage: Stage, last: dict[tuple[str, str], Verdict]) -> StageTimeoutError:
        """The objects still waiting, each with what it waits on; a Service whose Deployment
        is not ready says nothing the Deployment does not (its endpoints are those pods), so
        it is left out of the headline and the evidence is one block per workload."""
        waiting = {k: v for k, v in last.items() if not isinstance(v, Ready)}
        workloads_waiting = {name for kind, name in waiting if kind == "Deployment"}
        said = {
            key: verdict
            for key, verdict in waiting.items()
            if not (key[0] == "Service" and key[1] in workloads_waiting)
        }
        # What waits on a named cause (a probe, a pull) first, then what is merely slow.
        ordered = sorted(said.items(), key=lambda item: not _has_cause(item[1]))
        reasons = "; ".join(
            f"{name}: {v.reason if isinstance(v, Waiting) else v}" for (_, name), v in ordered
        )
        try:
            observed = self._observe(stage, list(waiting))
            reports: dict[str, FailureReport] = {}
            for key, v in said.items():
                if key[0] not in ("Deployment", "PersistentVolumeClaim", "Service", "Namespace"):
                    continue
                report = self._report(
                    key,
                    f"{key[1]}: still waiting: {v.reason if isinstance(v, Waiting) else v}",
                    "",
                    observed,
                )
                reports.setdefault(report.subject, report)
        except KubectlError:
            reports = {}
        return StageTimeoutError(
            f"stage {stage.name} not ready after {self._timeout:g}s: {reasons or 'no answer'}",
            hint=f"raise --timeout (now {self._timeout:g}s) if it is only slow",
            reports=tuple(reports.values()),
        )


def _has_cause(verdict: Verdict) -> bool:
    """A workload verdict that says why it waits ("0/2 ready: Startup probe failed ...")."""
    return isinstance(verdict, Waiting) and " ready: " in verdict.reason


def summarize_stage(verdicts: dict[tuple[str, str], Verdict]) -> str:
    """The stage line's detail: the state of the objects people wait for, else a count."""
    shown = [
        f"{name} {verdict.detail}"
        for (kind, name), verdict in verdicts.items()
        if kind in ("Namespace", "PersistentVolumeClaim", "Deployment")
        and isinstance(verdict, Ready)
    ]
    return ", ".join(shown) or f"{len(verdicts)} objects present"
