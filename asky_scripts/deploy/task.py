"""The deploy task, as its phases: validate everything, then the stages as a dependency graph.

    validate    one server-side dry run of every object (validation.py): a refusal writes nothing
    diff        or, for --diff, what would change (diff.py)
    deploy      each stage once what it needs is done (graph.py): claim or re-bind the volume
                (storage.py), create the generated Secrets (secrets.py), apply (apply.py), wait
                until really ready (readiness/watcher.py), prepare the host directory, read the
                database's log (database_log.py); the namespace lock from the namespace stage on
    summary     the closing table, from the last look at the cluster (summary.py)

A stage whose objects only need to exist (the namespace, the configuration) is judged from what
its apply returned, without another ``kubectl get``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from asky_scripts.cluster.kubectl import ConflictError, Kubectl, KubectlError
from asky_scripts.cluster.lock import NamespaceLock
from asky_scripts.cluster.objects import Obj, kind_of, name_of
from asky_scripts.deploy import apply, secrets, storage, validation
from asky_scripts.deploy.adoption import Adoption
from asky_scripts.deploy.database_log import check_database_log
from asky_scripts.deploy.diff import diff
from asky_scripts.deploy.graph import StageCancelledError, StageGraph, stage_needs
from asky_scripts.deploy.preflight import ClusterFacts
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.summary import Summary, build
from asky_scripts.model.manifests import DeployOptions, Manifest
from asky_scripts.model.ownership import owner_labels
from asky_scripts.model.secrets import secret_names
from asky_scripts.model.stages import PlannedStage, Stage
from asky_scripts.readiness.verdicts import Ready, Verdict, exists_verdict, namespace_verdict
from asky_scripts.readiness.watcher import StageWatcher, summarize_stage


def read_nodes(kubectl: Kubectl) -> list[Obj]:
    """The nodes, read once per run: their allocatable judges pods too big to ever schedule and
    their address gives the gateway URL.  Namespace-scoped users may not list nodes: then []."""
    try:
        return kubectl.get_items(["get", "nodes"])
    except KubectlError:
        return []


class Deployer:
    """Validates and deploys one rewritten plan into one namespace."""

    def __init__(
        self,
        kubectl: Kubectl,
        plan: Sequence[PlannedStage],
        options: DeployOptions,
        facts: ClusterFacts,
        progress: Progress,
        *,
        timeout: float = 300.0,
        force_conflicts: bool = False,
        environ: Mapping[str, str] | None = None,
        nodes: Sequence[Obj] = (),
        clock: Callable[[], float] = time.monotonic,
        adoption: Adoption | None = None,
    ) -> None:
        self._kubectl = kubectl
        # Taking over run.sh's objects forces the apply: their fields belong to kubectl's
        # client-side apply, which kubectl then hands to our manager (see adoption.py).
        self._adoption = adoption
        self._facts = facts
        self._nodes = list(nodes)
        volume_exists = facts.volume_exists
        self._plan = [
            PlannedStage(
                p.stage, storage.without_volume(p.manifests) if volume_exists else p.manifests
            )
            for p in plan
        ]
        self._full_plan = list(plan)
        self._environ = dict(environ or {})
        self._lock: NamespaceLock | None = None
        self._options = options
        self._progress = progress
        self._timeout = timeout
        self._force = force_conflicts or adoption is not None
        self._clock = clock
        self._cancel = threading.Event()
        self._graph: StageGraph[tuple[float, str]] = StageGraph(
            [p.stage.name for p in plan], stage_needs(plan)
        )
        self._started: dict[str, float] = {}
        self._watchers: dict[str, StageWatcher] = {}
        self._phase = "preflight"

    @property
    def namespace(self) -> str:
        return self._options.namespace

    @property
    def current_stage(self) -> str:
        """Where the run is (or stopped): the failed stage, else the earliest unfinished one."""
        if self._phase != "deploy":
            return self._phase
        return self._graph.failed or self._graph.earliest_unfinished() or "summary"

    # -- the phases ---------------------------------------------------------------------------

    def validate(self) -> None:
        """One server-side dry run of every stage's objects: any refusal changes nothing."""
        self._phase = "validation"
        validation.validate(
            self._kubectl,
            [m for planned in self._plan for m in planned.manifests],
            namespace=self.namespace,
            namespace_exists=self._facts.namespace_exists,
            replaced=self._adoption.replaced_deployments() if self._adoption else set(),
            force=self._force,
        )

    def diff(self) -> tuple[bool, str]:
        """Whether anything would change, and kubectl diff's text (plus objects to create)."""
        self._phase = "diff"
        return diff(
            self._kubectl,
            self._plan,
            self._options,
            namespace_exists=self._facts.namespace_exists,
            volume_state=self._facts.volume.state,
            force=self._force,
        )

    def deploy(self) -> None:
        """Every stage once its needs are done; the namespace lock held from the namespace on."""
        self._phase = "deploy"
        by_name = {planned.stage.name: planned for planned in self._full_plan}
        with contextlib.ExitStack() as held:
            self._graph.run(
                start=self._start,
                work=lambda name: self._run_stage(by_name[name], held),
                done=lambda name, result: self._progress.stage_done(name, *result),
                cancel=self._cancel,
            )

    def summary(self) -> Summary:
        """The closing table, from the last tick that found everything ready."""
        self._phase = "summary"
        last = self._watchers.get(self._full_plan[-1].stage.name)
        observed = last.last_observed if last else None
        deployments = observed.of("Deployment") if observed else []
        services = observed.of("Service") if observed else []
        if not deployments:
            found = self._kubectl.get_items(
                ["get", "deployments.apps,services", "-n", self.namespace]
            )
            deployments = [o for o in found if kind_of(o) == "Deployment"]
            services = [o for o in found if kind_of(o) == "Service"]
        return build(self.namespace, deployments, services, self._nodes)

    # -- one stage ----------------------------------------------------------------------------

    def _start(self, name: str) -> None:
        self._progress.stage_started(name)
        self._started[name] = self._clock()

    def _run_stage(self, planned: PlannedStage, held: contextlib.ExitStack) -> tuple[float, str]:
        """Apply, wait, and the stage's own steps: (seconds taken, the stage line's detail)."""
        stage = planned.stage
        self._check_cancelled()
        if self._lock is not None:
            self._lock.ensure_held()
        manifests: Sequence[Manifest] = planned.manifests
        extra: list[tuple[str, str]] = []
        if stage.name == "storage" and not self._options.storage_class:
            manifests, extra = storage.claim_volume(
                self._kubectl, self._options, self._facts.host_directory, manifests, self._progress
            )
        if stage.generates_secrets:
            extra = [("Secret", name) for name in secret_names()]
        if self._adoption is not None:
            self._adoption.before(stage.name)
        self._check_cancelled()
        applied, present = self._apply(stage, manifests)
        targets = [(m.kind, m.name) for m in manifests] + extra
        detail = self._wait(stage, targets, applied, present)
        if stage.name == "storage":
            storage.prepare_host_directory(
                self._facts.host_directory, self._environ, self._progress
            )
        if stage.checks_database_log:
            detail += check_database_log(
                self._kubectl, self.namespace, self._progress, self._adoption
            )
        if stage.name == "namespace":
            self._lock = held.enter_context(self._namespace_lock())
            detail += "; deploy lock taken"
        if self._adoption is not None:
            self._adoption.after(stage.name)
        return self._clock() - self._started[stage.name], detail

    def _apply(
        self, stage: Stage, manifests: Sequence[Manifest]
    ) -> tuple[list[Obj], set[str] | None]:
        """The stage's objects and its generated Secrets, at once (they are independent): what
        the server stored, and the Secrets' names known to exist (None: unknown)."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            made = pool.submit(self._ensure_secrets) if stage.generates_secrets else None
            stored: list[Obj] = []
            if manifests:
                try:
                    stored = apply.apply(self._kubectl, manifests, force=self._force)
                except ConflictError as exc:
                    raise apply.explain_conflict(stage.name, exc) from exc
            return stored, made.result() if made is not None else set()

    def _ensure_secrets(self) -> set[str] | None:
        given = self._adoption.secret_values if self._adoption else None
        created, present = secrets.ensure_secrets(
            self._kubectl,
            self.namespace,
            namespace_exists=self._facts.namespace_exists,
            given=given,
        )
        if created:
            names = ", ".join(created)
            self._progress.note("configuration", f"generated Secrets {names} (values not shown)")
        return present

    def _wait(
        self,
        stage: Stage,
        targets: list[tuple[str, str]],
        applied: list[Obj],
        present: set[str] | None,
    ) -> str:
        """Until every target is ready: judged from the apply's answer when the stage watches
        nothing else and that answer says all is ready, else by the stage's watcher."""
        verdicts = None if stage.watch else _judged_from_apply(targets, applied, present)
        if verdicts is not None:
            for (kind, name), verdict in verdicts.items():
                self._progress.resource(stage.name, kind, name, verdict)
            return summarize_stage(verdicts)
        watcher = StageWatcher(
            self._kubectl,
            self.namespace,
            self._progress.resource,
            timeout=self._timeout,
            nodes=self._nodes,
            storage_class=bool(self._options.storage_class),
            clock=self._clock_or_cancelled,
        )
        self._watchers[stage.name] = watcher
        return watcher.wait(stage, targets)

    def _namespace_lock(self) -> NamespaceLock:
        return NamespaceLock(
            self._kubectl,
            self.namespace,
            labels=owner_labels(self.namespace),
            command="run.py",
            wait=self._timeout,
            notify=lambda message: self._progress.note("namespace", message),
        )

    def _check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise StageCancelledError()

    def _clock_or_cancelled(self) -> float:
        """The watcher's clock, read once per tick: the point where a wait stops once another
        stage failed or the run was interrupted."""
        self._check_cancelled()
        return self._clock()


def _judged_from_apply(
    targets: list[tuple[str, str]], applied: list[Obj], present: set[str] | None
) -> dict[tuple[str, str], Verdict] | None:
    """The verdicts of a stage that watches nothing but its own objects (its Namespace by its
    phase, the rest by their presence, as StageWatcher judges them), from the objects its apply
    returned and the Secrets known to exist; None unless every one of them is Ready."""
    stored = {(kind_of(obj), name_of(obj)): obj for obj in applied}
    stored.update(
        {("Secret", name): {"kind": "Secret", "metadata": {"name": name}} for name in present or ()}
    )
    verdicts: dict[tuple[str, str], Verdict] = {}
    for kind, name in targets:
        obj = stored.get((kind, name))
        if obj is None:
            return None
        verdicts[(kind, name)] = (
            namespace_verdict(obj) if kind == "Namespace" else exists_verdict(obj)
        )
    return verdicts if all(isinstance(v, Ready) for v in verdicts.values()) else None
