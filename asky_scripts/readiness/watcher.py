"""Waits until a stage's objects are ready, or stops at the first failure that will not heal.

One ``kubectl get`` per tick covers every object of the stage and the pods, ReplicaSets,
EndpointSlices and events behind them, in a tenacity loop ticking every 0.1 s (polling.py), so
readiness is noticed quickly.  A failure stops the wait at once with its evidence; a stage still
waiting at the timeout stops it too, saying what each object still waits on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.kinds import resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError, TransientError
from asky_scripts.cluster.objects import Obj, kind_of
from asky_scripts.errors import FailureReport, StageTimeoutError, WorkloadFailedError
from asky_scripts.model.stages import Stage
from asky_scripts.readiness import diagnostics
from asky_scripts.readiness.base import Context, Key, Observed, Setting
from asky_scripts.readiness.registry import reader_for
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Verdict, Waiting

# Attempts at one tick's read: a failed tick is simply followed by the next one.
_TICK_ATTEMPTS = 2

#: Told each time an object's verdict changes: (stage, kind, name, verdict).
OnChange = Callable[[str, str, str, Verdict], None]


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
        # An explicit --storage-class: its StorageClass is read with the claim to judge it.
        self._setting = Setting(namespace, tuple(nodes), storage_class)
        self._clock = clock
        # The last tick of the last wait: every object as judged ready, which is what the
        # summary shows, without reading them again.
        self.last_observed = Observed()

    def wait(self, stage: Stage, targets: list[Key]) -> str:
        """Ticks until every (kind, name) of ``targets`` is Ready; the stage line's detail."""
        last: dict[Key, Verdict] = {}
        stopwatch = Stopwatch()

        def tick() -> bool:
            try:
                observed = self._observe(targets)
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
                    raise self._failure(key, verdict, observed)
            return all(isinstance(v, Ready) for v in verdicts.values())

        try:
            polling.until_done(self._timeout)(tick)
        except tenacity.RetryError:
            raise self._timed_out(stage, last) from None
        return summarize_stage(last)

    def _observe(self, targets: list[Key]) -> Observed:
        """One kubectl get listing the targets' kinds and what their readers watch (one request
        per kind, not per object, which keeps a tick cheap and likely to pass on a flaky API)."""
        kinds = list(dict.fromkeys(kind for kind, _ in targets))
        for kind in list(kinds):
            kinds.extend(reader_for(kind).watches(self._setting))
        args = ["get", ",".join(resource(k) for k in dict.fromkeys(kinds)), "-n", self.namespace]
        observed = Observed()
        for item in self._kubectl.get_items(args, attempts=_TICK_ATTEMPTS):
            observed.by_kind.setdefault(kind_of(item), []).append(item)
        return observed

    def _judge(
        self, targets: list[Key], observed: Observed, stopwatch: Stopwatch
    ) -> dict[Key, Verdict]:
        context = Context(self._setting, self._clock(), stopwatch)
        # Workloads before the Services that need their verdict.
        for kind, name in sorted(targets, key=lambda t: not reader_for(t[0]).judged_first):
            obj = observed.find(kind, name)
            context.judged[(kind, name)] = (
                Waiting("not visible yet")
                if obj is None
                else reader_for(kind).verdict(obj, observed, context)
            )
        return {t: context.judged[t] for t in targets}

    def _report(self, key: Key, cause: str, hint: str, observed: Observed) -> FailureReport:
        kind, name = key
        subject = observed.find(kind, name) or {"kind": kind, "metadata": {"name": name}}
        evidence = reader_for(kind).evidence(subject, observed)
        return diagnostics.collect(self._kubectl, self.namespace, evidence, cause=cause, hint=hint)

    def _failure(self, key: Key, verdict: Failed, observed: Observed) -> WorkloadFailedError:
        cause = f"{key[1]}: {verdict.cause}"
        report = self._report(key, cause, verdict.hint, observed)
        return WorkloadFailedError(cause, verdict.hint, (report,))

    def _timed_out(self, stage: Stage, last: dict[Key, Verdict]) -> StageTimeoutError:
        """The objects still waiting, each with what it waits on; one whose waiting another
        waiting object already says (a Service behind its Deployment) is left out of the
        headline, and the evidence is one block per subject."""
        waiting = {k: v for k, v in last.items() if not isinstance(v, Ready)}
        said = {
            key: verdict
            for key, verdict in waiting.items()
            if reader_for(key[0]).said_by(key[1]) not in waiting
        }
        # What waits on a named cause (a probe, a pull) first, then what is merely slow.
        ordered = sorted(said.items(), key=lambda item: not _has_cause(item[1]))
        reasons = "; ".join(
            f"{name}: {v.reason if isinstance(v, Waiting) else v}" for (_, name), v in ordered
        )
        reports: dict[str, FailureReport] = {}
        try:
            observed = self._observe(list(waiting)) if waiting else Observed()
            for key, v in said.items():
                if not reader_for(key[0]).explained_on_timeout:
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


def summarize_stage(verdicts: dict[Key, Verdict]) -> str:
    """The stage line's detail: the state of the objects people wait for, else a count."""
    shown = [
        f"{name} {verdict.detail}"
        for (kind, name), verdict in verdicts.items()
        if reader_for(kind).shown_in_summary and isinstance(verdict, Ready)
    ]
    return ", ".join(shown) or f"{len(verdicts)} objects present"
