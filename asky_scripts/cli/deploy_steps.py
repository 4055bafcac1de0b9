"""run.py's steps from the parsed flags to the summary: preflight (with the adoption of run.sh's
deployment), then validate, then diff, dry run or deploy.  ``stage`` names the step running,
for the failure line; errors are raised, never printed (error_handler.py prints).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from asky_scripts.cli import common as cli_common
from asky_scripts.cli.report import DeployJsonReport, DeployTextReport
from asky_scripts.cluster.connection import versions
from asky_scripts.cluster.kinds import KINDS, resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.deploy import adoption_plan, volume_rebind
from asky_scripts.deploy.preflight import run_preflight
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.task import Deployer, read_nodes
from asky_scripts.errors import ExitCode, UsageError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import DATABASE, DeployOptions
from asky_scripts.model.stages import PlannedStage, for_deploy, load_plan, volume_host_path

Report = DeployTextReport | DeployJsonReport


def options_of(args: argparse.Namespace) -> DeployOptions:
    for flag, pairs in (("--replicas", args.replicas), ("--set-image", args.set_image)):
        names = [name for name, _ in pairs]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise UsageError(f"{flag} given twice for {', '.join(repeated)}")
    return DeployOptions(
        namespace=args.namespace,
        replicas=dict(args.replicas),
        images=dict(args.set_image),
        storage_class=args.storage_class,
        gateway_type=args.gateway_type,
    )


def _database_image(plan: list[PlannedStage]) -> str:
    for planned in plan:
        for m in planned.manifests:
            if m.kind == "Deployment" and m.name == DATABASE:
                containers = m.obj["spec"]["template"]["spec"]["containers"]
                return str(containers[0].get("image", ""))
    return ""


def _adoption(
    kubectl: Kubectl,
    args: argparse.Namespace,
    options: DeployOptions,
    plan: list[PlannedStage],
    report: Progress,
) -> adoption_plan.AdoptionPlan:
    """Whether run.sh's deployment is there to adopt (or refused without --adopt), and the
    database layout an earlier adoption recorded on our volume (kept on every later run)."""
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            ours = pool.submit(volume_rebind.read_volume, kubectl, options)
            found = run_sh.read(kubectl, options.namespace)
            our_volume = ours.result()
    except KubectlError:
        versions(kubectl)  # a binary that is not kubectl, or a wrong context, says so first
        raise
    return adoption_plan.plan(
        kubectl,
        options,
        found,
        our_volume,
        adopt=args.adopt,
        our_postgres_image=_database_image(plan),
        timeout=args.timeout,
        notify=report.note,
    )


class DeploySteps:
    """One run.py run, from the parsed flags to its exit code."""

    def __init__(
        self,
        args: argparse.Namespace,
        report: Report,
        environ: Mapping[str, str],
        started: float,
    ) -> None:
        self._args, self._report, self._environ = args, report, environ
        self._started = started
        self._stage = "arguments"
        self._deployer: Deployer | None = None

    def stage(self) -> str:
        return self._deployer.current_stage if self._deployer else self._stage

    def _elapsed(self) -> float:
        return time.monotonic() - self._started

    def run(self) -> int:
        args, report = self._args, self._report
        options = options_of(args)
        self._stage = "preflight"
        report.stage_started("preflight")
        deployer, plan = self._preflight(options)
        if args.diff:
            changed, text = deployer.diff()
            report.diff(text, changed)
            return int(ExitCode.WORKLOAD_FAILED if changed else ExitCode.OK)
        if args.dry_run:
            report.dry_run(
                [(p.stage.name, [f"{m.kind}/{m.name}" for m in p.manifests]) for p in plan]
            )
            return int(ExitCode.OK)
        deployer.deploy()
        self._stage = "summary"
        report.summary(deployer.summary(), self._elapsed())
        return int(ExitCode.OK)

    def _preflight(self, options: DeployOptions) -> tuple[Deployer, list[PlannedStage]]:
        """Every check before the first write; the Deployer that validated every object."""
        args, report, env = self._args, self._report, self._environ
        loaded = load_plan(args.manifests)
        plan = for_deploy(loaded, options)
        kubectl = cli_common.connect(args, env, report)
        taking_over = _adoption(kubectl, args, options, plan, report)
        if taking_over.options != options:
            options = taking_over.options
            plan = for_deploy(loaded, options)
        namespaced = sorted(
            {
                resource(m.kind)
                for planned in plan
                for m in planned.manifests
                if m.namespaced and m.kind in KINDS
            }
        )
        # The nodes are read once, beside the preflight checks that do not need them.
        with ThreadPoolExecutor(max_workers=1) as pool:
            nodes = pool.submit(read_nodes, kubectl)
            facts = run_preflight(
                kubectl,
                options,
                args.context,
                namespaced,
                volume_host_path(plan),
                env,
                plan=plan,
                nodes=nodes.result,
                adopting=taking_over.adoption is not None,
            )
        for warning in facts.warnings:
            report.note("preflight", warning, warning=True)
        directory = facts.host_directory
        if directory is not None and directory.minikube_profile is None:
            report.note("preflight", directory.requirement())
        self._deployer = Deployer(
            kubectl,
            plan,
            options,
            facts,
            report,
            timeout=args.timeout,
            force_conflicts=args.force_conflicts,
            environ=env,
            nodes=nodes.result(),
            adoption=taking_over.adoption,
        )
        self._deployer.validate()
        objects = sum(len(p.manifests) for p in plan)
        report.stage_done(
            "preflight",
            self._elapsed(),
            f"kubectl {facts.client_version}, server {facts.server_version}, "
            f"context {facts.context}, {objects} objects validated",
        )
        return self._deployer, plan
