"""One stage of the deploy, step by step: what to apply, apply it (with the generated Secrets
beside it), wait until it is really ready, then the stage's own step after readiness.

A stage whose objects only need to exist (the namespace, the configuration) is judged from what
its apply returned and the Secrets' names ``kubectl create`` answered, without another
``kubectl get``: that second kubectl process was half of such a stage's time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import ConflictError
from asky_scripts.cluster.lock import NamespaceLock
from asky_scripts.cluster.objects import Obj, kind_of, name_of
from asky_scripts.deploy import apply, secrets, storage
from asky_scripts.deploy.adoption import Adoption
from asky_scripts.deploy.database_log import check_database_log
from asky_scripts.deploy.graph import Epilogue, StageCancelledError
from asky_scripts.deploy.preflight import ClusterFacts
from asky_scripts.deploy.progress import Progress
from asky_scripts.model.manifests import DeployOptions, Manifest
from asky_scripts.model.ownership import owner_labels
from asky_scripts.model.secrets import secret_names
from asky_scripts.model.stages import PlannedStage, Stage
from asky_scripts.readiness.base import Context, Observed, Setting
from asky_scripts.readiness.registry import reader_for
from asky_scripts.readiness.verdict import Ready, Stopwatch, Verdict
from asky_scripts.readiness.watcher import StageWatcher, summarize_stage

Target = tuple[str, str]


@dataclass
class StageSteps:
    """What every stage of one deploy shares: the cluster, the options and the run's state."""

    kubectl: Kubectl
    options: DeployOptions
    facts: ClusterFacts
    progress: Progress
    adoption: Adoption | None
    force: bool
    timeout: float
    environ: Mapping[str, str]
    nodes: Sequence[Obj]
    clock: Callable[[], float] = time.monotonic
    #: Set once a stage failed or the run was interrupted: the others stop at their next step.
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: NamespaceLock | None = None
    #: Each stage's last look at the cluster, for the summary.
    observed: dict[str, Observed] = field(default_factory=dict)

    @property
    def namespace(self) -> str:
        return self.options.namespace

    def run(self, planned: PlannedStage, held: contextlib.ExitStack) -> str | Epilogue[str]:
        """Applies the stage and waits until it is ready: the stage line's detail, or what is
        left to do once the stages that need this one may start."""
        stage = planned.stage
        self.check_cancelled()
        if self.lock is not None:
            self.lock.ensure_held()
        manifests: Sequence[Manifest] = planned.manifests
        extra: list[Target] = []
        if stage.name == "storage" and not self.options.storage_class:
            manifests, extra = storage.claim_volume(
                self.kubectl, self.options, self.facts.host_directory, manifests, self.progress
            )
        if stage.generates_secrets:
            extra = [("Secret", name) for name in secret_names()]
        if self.adoption is not None:
            self.adoption.before(stage.name)
        self.check_cancelled()
        applied, present = self._apply(stage, manifests)
        detail = self._wait(stage, [(m.kind, m.name) for m in manifests] + extra, applied, present)
        if stage.name == "storage":
            storage.prepare_host_directory(self.facts.host_directory, self.environ, self.progress)
        if stage.checks_database_log:
            if self.adoption is None:
                # Ready with endpoints is serving: the apps may start while its log is read
                # (which only says what it shows; an adopted database's log decides, below).
                return Epilogue(lambda: detail + self._database_log())
            detail += self._database_log()
        if stage.name == "namespace":
            self.lock = held.enter_context(self._namespace_lock())
            detail += "; deploy lock taken"
        if self.adoption is not None:
            self.adoption.after(stage.name)
        return detail

    def _database_log(self) -> str:
        return check_database_log(self.kubectl, self.namespace, self.progress, self.adoption)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise StageCancelledError()

    def _apply(
        self, stage: Stage, manifests: Sequence[Manifest]
    ) -> tuple[list[Obj], set[str] | None]:
        """The stage's objects and its generated Secrets, at once (they are independent): what
        the server stored, and the Secrets' names known to exist (None: not known)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            made = pool.submit(self._ensure_secrets) if stage.generates_secrets else None
            stored: list[Obj] = []
            if manifests:
                try:
                    stored = apply.apply(self.kubectl, manifests, force=self.force)
                except ConflictError as exc:
                    raise apply.explain_conflict(stage.name, exc) from exc
            return stored, made.result() if made is not None else set()

    def _ensure_secrets(self) -> set[str] | None:
        created, present = secrets.ensure_secrets(
            self.kubectl,
            self.namespace,
            namespace_exists=self.facts.namespace_exists,
            given=self.adoption.secret_values if self.adoption else None,
        )
        if created:
            names = ", ".join(created)
            self.progress.note("configuration", f"generated Secrets {names} (values not shown)")
        return present

    def _wait(
        self, stage: Stage, targets: list[Target], applied: list[Obj], present: set[str] | None
    ) -> str:
        """Until every target is ready: judged from the apply's answer when the stage watches
        nothing else and that answer says all is ready, else by a StageWatcher."""
        setting = Setting(self.namespace, tuple(self.nodes), bool(self.options.storage_class))
        verdicts = judged_from_apply(targets, applied, present, setting)
        if verdicts is not None:
            for (kind, name), verdict in verdicts.items():
                self.progress.resource(stage.name, kind, name, verdict)
            return summarize_stage(verdicts)
        watcher = StageWatcher(
            self.kubectl,
            self.namespace,
            self.progress.resource,
            timeout=self.timeout,
            nodes=self.nodes,
            storage_class=bool(self.options.storage_class),
            clock=self._clock_or_cancelled,
        )
        try:
            return watcher.wait(stage, targets)
        finally:
            self.observed[stage.name] = watcher.last_observed

    def _clock_or_cancelled(self) -> float:
        """The watcher's clock, read once per tick: where a wait stops once the run is
        cancelled (another stage failed, or Ctrl-C)."""
        self.check_cancelled()
        return self.clock()

    def _namespace_lock(self) -> NamespaceLock:
        return NamespaceLock(
            self.kubectl,
            self.namespace,
            labels=owner_labels(self.namespace),
            command="run.py",
            wait=self.timeout,
            notify=lambda message: self.progress.note("namespace", message),
        )


def judged_from_apply(
    targets: list[Target], applied: list[Obj], present: set[str] | None, setting: Setting
) -> dict[Target, Verdict] | None:
    """The verdicts of a stage whose readers watch nothing but its own objects (a Namespace by
    its phase, the rest by their presence), judged as StageWatcher judges them from the objects
    its apply returned and the Secrets known to exist; None unless every one of them is Ready."""
    if any(reader_for(kind).watches(setting) for kind, _ in targets):
        return None
    context = Context(setting, now=0.0, stopwatch=Stopwatch())
    stored = {(kind_of(obj), name_of(obj)): obj for obj in applied}
    for name in present or ():
        stored[("Secret", name)] = {"kind": "Secret", "metadata": {"name": name}}
    verdicts: dict[Target, Verdict] = {}
    for kind, name in targets:
        obj = stored.get((kind, name))
        if obj is None:
            return None
        verdicts[(kind, name)] = reader_for(kind).verdict(obj, Observed(), context)
    return verdicts if all(isinstance(v, Ready) for v in verdicts.values()) else None
