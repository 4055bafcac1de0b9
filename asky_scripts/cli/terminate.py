"""``python terminate.py``: removes what run.py deployed, waits until it is gone, says why not.

With no arguments it does what terminate.sh did (namespace asky and its volume, current kube
context), but only to objects carrying run.py's labels, after a typed confirmation when a person
is at a terminal, and it returns only when everything is really gone.  Exit codes: see ExitCode.
Parse, choose the report, run the teardown task (teardown/task.py); error_handler.py says how it
ended.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from asky_scripts.cli import common as cli_common
from asky_scripts.cli.error_handler import ReportsEndings
from asky_scripts.cli.teardown_report import TeardownJsonReport, TeardownTextReport
from asky_scripts.errors import ExitCode, UsageError
from asky_scripts.teardown.plan import TeardownPlan
from asky_scripts.teardown.task import TeardownRequest, TeardownTask


def build_parser() -> cli_common.CliParser:
    parser = cli_common.CliParser(
        prog="terminate.py",
        description="Delete what run.py deployed in one namespace, and wait until it is gone. "
        "Only objects labelled app.kubernetes.io/managed-by=asky-scripts are deleted.",
        epilog="exit codes: 0 gone (or nothing to delete), 2 bad input or confirmation refused, "
        "3 cluster unreachable/forbidden/namespace not ours, 4 timeout, 5 kubectl itself "
        "failed (a defect: please report it), 130 interrupted, 143 terminated, 141 output "
        "closed (piped into head)",
    )
    cli_common.add_target_arguments(
        parser, timeout_help="seconds to wait for everything to be gone (default: 300)"
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the database volume, its data, the Secrets with its passwords and the "
        "namespace that holds them; the next run.py re-binds the volume",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be deleted")
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    parser.add_argument(
        "--force",
        action="store_true",
        help="delete the namespace even though asky-scripts did not create it",
    )
    parser.add_argument(
        "--run-sh",
        action="store_true",
        help="remove a deployment made by the original run.sh as terminate.sh did: its "
        "namespace and its volume postgres-pv-volume",
    )
    parser.add_argument(
        "--force-finalize",
        action="store_true",
        help="remove finalizers that hold objects of a stuck namespace (their clean-up is lost)",
    )
    cli_common.add_output_arguments(parser)
    return parser


def confirm(plan: TeardownPlan, stdin: TextIO, prompt_to: TextIO) -> None:
    """A person at a terminal types the namespace name, as for deleting a GitHub repository."""
    what = "everything listed above except what is kept" if plan.keep_data else "it"
    prompt_to.write(f"Type the namespace name ({plan.namespace}) to delete {what}: ")
    prompt_to.flush()
    answer = stdin.readline().strip()
    if answer != plan.namespace:
        raise UsageError(
            f"confirmation {answer!r} does not match {plan.namespace!r}; nothing was deleted",
            hint="type the namespace name exactly, or pass --yes",
        )


class TerminateSteps:
    """One terminate.py run: reach the cluster, then the teardown task's phases."""

    def __init__(
        self,
        args: argparse.Namespace,
        report: TeardownTextReport | TeardownJsonReport,
        environ: Mapping[str, str],
        confirm: Callable[[TeardownPlan], None] | None,
        started: float,
    ) -> None:
        self._args, self._report, self._environ = args, report, environ
        self._confirm, self._started = confirm, started
        self._task: TeardownTask | None = None

    def stage(self) -> str:
        return self._task.stage if self._task else "discover"

    def run(self) -> int:
        args = self._args
        self._report.stage_started("discover")
        kubectl = cli_common.connect(args, self._environ, self._report)
        request = TeardownRequest(
            namespace=args.namespace,
            context=args.context,
            timeout=args.timeout,
            keep_data=args.keep_data,
            dry_run=args.dry_run,
            force=args.force,
            run_sh=args.run_sh,
            force_finalize=args.force_finalize,
        )
        self._task = TeardownTask(
            kubectl, request, self._report, confirm=self._confirm, started=self._started
        )
        self._task.run()
        return int(ExitCode.OK)


def main(
    argv: list[str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    out, err, in_ = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    env = os.environ if environ is None else environ
    started = time.monotonic()

    def steps_of(args: argparse.Namespace) -> tuple[ReportsEndings, cli_common.Steps]:
        report = cli_common.choose_report(
            args, out, err, env, text=TeardownTextReport, json=TeardownJsonReport, live=False
        )
        asks = not args.yes and in_.isatty()
        confirming = (lambda plan: confirm(plan, in_, err)) if asks else None
        return report, TerminateSteps(args, report, env, confirming, started)

    return cli_common.run_command(build_parser(), argv, out, err, steps_of, started)
