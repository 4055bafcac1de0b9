"""``python run.py``: the command line of the staged deploy, and the only layer that prints.

With no arguments it does what run.sh did (namespace asky, current kube context, same stage
order) but returns 0 only when everything is really serving.  Exit codes: see ExitCode.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn, TextIO

from asky_scripts.engine import Deployer
from asky_scripts.errors import AskyError, ExitCode, Interrupted, UsageError
from asky_scripts.kubectl import Kubectl, find_kubectl
from asky_scripts.manifests import (
    DEFAULT_NAMESPACE,
    GATEWAY_TYPES,
    MANIFESTS_DIR,
    DeployOptions,
    check_image_reference,
    check_namespace_name,
)
from asky_scripts.plan import RESOURCES, for_deploy, load_plan, volume_host_path
from asky_scripts.preflight import check_kubeconfig, run_preflight
from asky_scripts.report import JsonReport, TextReport, wants_color

DEFAULT_TIMEOUT_SECONDS = 300.0


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError, so main() returns 2 instead of exiting from inside."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, hint=f"see {self.prog} --help")


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


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _namespace(text: str) -> str:
    try:
        check_namespace_name(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message}: {exc.hint}") from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="run.py",
        description="Deploy Asky stage by stage and wait until every part is really serving.",
        epilog="exit codes: 0 ready (or --diff: no differences), 1 workload failed (or --diff: "
        "differences), 2 bad input, 3 cluster unreachable/forbidden/not ours, 4 timeout, "
        "130 interrupted, 143 terminated",
    )
    parser.add_argument("--context", help="kube context (default: the current context)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: kubectl's)")
    parser.add_argument(
        "--namespace", "-n", type=_namespace, default=DEFAULT_NAMESPACE, help="default: asky"
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds each stage may wait (default: 300)",
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
        "--force-conflicts",
        action="store_true",
        help="take over fields another field manager owns",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--kubectl", help="kubectl binary (default: $KUBECTL, then PATH)")
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


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM takes the same path as Ctrl-C: kubectl children killed, clean message, 143."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"run.py: error: {exc.message}\nhint: {exc.hint}", file=err)
        return int(ExitCode.BAD_INPUT)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    verbosity = -1 if args.quiet else args.verbose
    report: TextReport | JsonReport
    if args.output == "json":
        report = JsonReport(out, verbosity=verbosity)
    else:
        is_tty = out.isatty()
        report = TextReport(
            out,
            err,
            color=wants_color(out, env),
            live=is_tty and verbosity >= 0,
            verbosity=verbosity,
        )
    deployer: Deployer | None = None
    try:
        with _sigterm_raises():
            options = _options(args)
            stage = "preflight"
            report.stage_started("preflight")
            plan = for_deploy(load_plan(args.manifests), options)
            check_kubeconfig(args.kubeconfig, env)
            kubectl = Kubectl(
                find_kubectl(args.kubectl, env),
                context=args.context,
                kubeconfig=args.kubeconfig,
                env=env,
                on_retry=report.retry,
                on_command=report.command,
            )
            namespaced = sorted(
                {
                    RESOURCES[m.kind]
                    for planned in plan
                    for m in planned.manifests
                    if m.namespaced and m.kind in RESOURCES
                }
            )
            facts = run_preflight(
                kubectl, options, args.context, namespaced, volume_host_path(plan), env
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
        code = (
            ExitCode.TERMINATED
            if isinstance(exc, Interrupted) and exc.signal_number == signal.SIGTERM
            else ExitCode.INTERRUPTED
        )
        report.interrupted(where, int(code))
        return int(code)
