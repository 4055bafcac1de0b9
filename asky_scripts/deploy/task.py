"""The deploy task, as its phases:

validate    one server-side dry run of every object (validation.py): a refusal writes nothing
diff        or, for --diff, what would change (diff.py)
deploy      each stage as soon as what it needs is done (graph.py), step by step (stage.py):
            claim or re-bind the volume (storage.py), apply (apply.py) beside the generated
            Secrets (secrets.py), wait until really ready (readiness/watcher.py), prepare
            the host directory, read the database's log (database_log.py); the namespace
            lock held from the namespace stage on
summary     the closing table, from the last look at the cluster (summary.py)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.cluster.objects import Obj, kind_of
from asky_scripts.deploy import storage, validation
from asky_scripts.deploy.adoption import Adoption
from asky_scripts.deploy.diff import diff
from asky_scripts.deploy.graph import Epilogue, StageGraph, stage_needs
from asky_scripts.deploy.preflight import ClusterFacts
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.stage import StageSteps
from asky_scripts.deploy.summary import Summary, build
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.stages import PlannedStage


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
        self._adoption = adoption
        self._facts = facts
        self._nodes = list(nodes)
        # An existing volume of ours is never validated nor applied again (see storage.py).
        self._plan = [
            PlannedStage(p.stage, storage.without_volume(p.manifests)) if facts.volume_exists else p
            for p in plan
        ]
        self._full_plan = list(plan)
        self._options = options
        self._progress = progress
        self._clock = clock
        # Taking over run.sh's objects forces the apply: their fields belong to kubectl's
        # client-side apply, which kubectl then hands to our manager (see adoption.py).
        self._force = force_conflicts or adoption is not None
        self._steps = StageSteps(
            kubectl,
            options,
            facts,
            progress,
            adoption,
            force=self._force,
            timeout=timeout,
            environ=dict(environ or {}),
            nodes=self._nodes,
            clock=clock,
        )
        self._graph: StageGraph[tuple[float, str]] = StageGraph(
            [p.stage.name for p in plan], stage_needs(plan)
        )
        self._started: dict[str, float] = {}
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
        """Every stage once its needs are done; stage lines in the plan's order."""
        self._phase = "deploy"
        by_name = {planned.stage.name: planned for planned in self._full_plan}

        def start(name: str) -> None:
            self._progress.stage_started(name)
            self._started[name] = self._clock()

        def line(name: str, detail: str) -> tuple[float, str]:
            return self._clock() - self._started[name], detail

        def work(name: str) -> tuple[float, str] | Epilogue[tuple[float, str]]:
            outcome = self._steps.run(by_name[name], held)
            if isinstance(outcome, Epilogue):
                rest = outcome.rest
                return Epilogue(lambda: line(name, rest()))
            return line(name, outcome)

        with contextlib.ExitStack() as held:
            self._graph.run(
                start=start,
                work=work,
                done=lambda name, result: self._progress.stage_done(name, *result),
                cancel=self._steps.cancel,
            )

    def summary(self) -> Summary:
        """The closing table, from the last stage's last look, which found everything ready."""
        self._phase = "summary"
        observed = self._steps.observed.get(self._full_plan[-1].stage.name)
        deployments = observed.of("Deployment") if observed else []
        services = observed.of("Service") if observed else []
        if not deployments:
            found = self._kubectl.get_items(
                ["get", "deployments.apps,services", "-n", self.namespace]
            )
            deployments = [o for o in found if kind_of(o) == "Deployment"]
            services = [o for o in found if kind_of(o) == "Service"]
        return build(self.namespace, deployments, services, self._nodes)
