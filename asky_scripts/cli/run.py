"""``python run.py``: the command line of the staged deploy, and the only layer that prints.

With no arguments it does what run.sh did (namespace asky, current kube context, same stage
order) but returns 0 only when everything is really serving.  Exit codes: see ExitCode.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from asky_scripts.cli import common as cli_common
from asky_scripts.cli.interrupts import interrupted_exit_code, sigterm_raises
from asky_scripts.cli.report import JsonReport, TextReport
from asky_scripts.cluster.connection import versions
from asky_scripts.cluster.kinds import KINDS, resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.cluster.versions import OLDEST_KUBECTL_MINOR
from asky_scripts.deploy import adoption_plan, volume_rebind
from asky_scripts.deploy.preflight import run_preflight
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.task import Deployer, read_nodes
from asky_scripts.errors import AskyError, ExitCode, Interrupted, UsageError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import (
    DATABASE,
    GATEWAY_TYPES,
    MANIFESTS_DIR,
    DeployOptions,
    check_image_reference,
)
from asky_scripts.model.stages import (
    PlannedStage,
    for_deploy,
    load_plan,
    volume_host_path,
)


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise argparse.ArgumentTypeError(f"expected SVC=VALUE, got {text!r}")
    return name, value


def _replicas(text: str) -> tuple[str, int]:
    name, value = _pair(text)
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{name}: replicas must be a whole number >= 0")
    return name, int(value)


def _image(text: str) -> tuple[str, str]:
    name, image = _pair(text)
    try:
        check_image_reference(image)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message} ({exc.hint})") from None
    return name, image


def build_parser() -> argparse.ArgumentParser:
    parser = cli_common.CliParser(
        prog="run.py",
        description="Deploy Asky stage by stage and wait until every part is really serving.",
        epilog="exit codes: 0 ready (or --diff: no differences), 1 workload failed (or --diff: "
        "differences), 2 bad input, 3 cluster unreachable/forbidden/not ours or kubectl older "
        f"than 1.{OLDEST_KUBECTL_MINOR}, 4 timeout, 5 kubectl itself failed (a defect: please "
        "report it), "
        "130 interrupted, 143 terminated",
    )
    cli_common.add_target_arguments(
        parser, timeout_help="seconds each stage may wait (default: 300)"
    )
    parser.add_argument("--replicas", type=_replicas, action="append", default=[], metavar="SVC=N")
    parser.add_argument(
        "--set-image", type=_image, action="append", default=[], metavar="SVC=IMAGE"
    )
    parser.add_argument(
        "--storage-class",
        metavar="NAME",
        help="let this StorageClass provision the database volume instead of the hostPath PV",
    )
    parser.add_argument("--gateway-type", choices=GATEWAY_TYPES)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="validate everything on the server, change nothing"
    )
    mode.add_argument(
        "--diff", action="store_true", help="show what would change (exit 1 when something would)"
    )
    parser.add_argument(
        "--adopt",
        action="store_true",
        help="take over a deployment made by the original run.sh, keeping its database",
    )
    parser.add_argument(
        "--force-conflicts",
        action="store_true",
        help="take over fields another field manager owns",
    )
    cli_common.add_output_arguments(parser)
    parser.add_argument(
        "--manifests",
        type=Path,
        default=MANIFESTS_DIR,
        help=argparse.SUPPRESS,  # another manifest tree, for tests and forks
    )
    return parser


def _options(args: argparse.Namespace) -> DeployOptions:
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


def main(
    argv: list[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out, err = stdout or sys.stdout, stderr or sys.stderr
    env = os.environ if environ is None else environ
    started = time.monotonic()
    stage = "arguments"
    args = cli_common.parse(build_parser(), argv, err)
    if isinstance(args, int):
        return args
    report = cli_common.choose_report(
        args, out, err, env, text=TextReport, json=JsonReport, live=True
    )
    deployer: Deployer | None = None
    try:
        with sigterm_raises():
            options = _options(args)
            stage = "preflight"
            report.stage_started("preflight")
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
            deployer = Deployer(
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
            deployer.validate()
            objects = sum(len(p.manifests) for p in plan)
            report.stage_done(
                "preflight",
                time.monotonic() - started,
                f"kubectl {facts.client_version}, server {facts.server_version}, "
                f"context {facts.context}, {objects} objects validated",
            )
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
            stage = "summary"
            summary = deployer.summary()
            report.summary(summary, time.monotonic() - started)
            return int(ExitCode.OK)
    except AskyError as exc:
        where = deployer.current_stage if deployer else stage
        report.failure(exc, where, time.monotonic() - started)
        return int(exc.exit_code)
    except (KeyboardInterrupt, Interrupted) as exc:
        where = deployer.current_stage if deployer else stage
        code = interrupted_exit_code(exc)
        report.interrupted(where, int(code))
        return int(code)
