"""``python terminate.py``: removes what run.py deployed, waits until it is gone, says why not.

With no arguments it does what terminate.sh did (namespace asky and its volume, current kube
context), but only to objects carrying run.py's labels, after a typed confirmation when a person
is at a terminal, and it returns only when everything is really gone.  Exit codes: see ExitCode.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from asky_scripts.cli import common as cli_common
from asky_scripts.cli.interrupts import interrupted_exit_code, sigterm_raises
from asky_scripts.cli.teardown_report import TeardownJsonReport, TeardownTextReport
from asky_scripts.cluster.connection import current_context
from asky_scripts.cluster.lock import NamespaceLock
from asky_scripts.errors import AskyError, ExitCode, Interrupted, UsageError
from asky_scripts.model import run_sh
from asky_scripts.model.ownership import is_ours, owner_labels
from asky_scripts.teardown.plan import (
    Found,
    TeardownPlan,
    build_plan,
    check_namespace_owner,
    check_run_sh,
    plan_run_sh,
)
from asky_scripts.teardown.task import Teardown, discover, read_namespace, refuse_unless_allowed


def build_parser() -> cli_common.CliParser:
    parser = cli_common.CliParser(
        prog="terminate.py",
        description="Delete what run.py deployed in one namespace, and wait until it is gone. "
        "Only objects labelled app.kubernetes.io/managed-by=asky-scripts are deleted.",
        epilog="exit codes: 0 gone (or nothing to delete), 2 bad input or confirmation refused, "
        "3 cluster unreachable/forbidden/namespace not ours, 4 timeout, 5 kubectl itself "
        "failed (a defect: please report it), 130 interrupted, 143 terminated",
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


def _discovered(found: Found) -> str:
    ns = found.namespace_obj
    if ns is None:
        state = "absent"
    elif (ns.get("metadata") or {}).get("deletionTimestamp"):
        state = "Terminating"
    elif is_ours(ns, found.namespace):
        state = "created by asky-scripts"
    else:
        state = "NOT created by asky-scripts"
    volumes = len(found.volumes)
    return f"namespace {found.namespace} {state}, {volumes} volume{'s' * (volumes != 1)} of ours"


def _lockable(namespace: dict[str, Any] | None) -> bool:
    """The namespace can hold run.py's deploy lock: it exists and is not being deleted."""
    return namespace is not None and not (namespace.get("metadata") or {}).get("deletionTimestamp")


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
    args = cli_common.parse(build_parser(), argv, err)
    if isinstance(args, int):
        return args
    report = cli_common.choose_report(
        args, out, err, env, text=TeardownTextReport, json=TeardownJsonReport, live=False
    )
    stage = "discover"
    try:
        with sigterm_raises():
            report.stage_started(stage)
            kubectl = cli_common.connect(args, env, report)
            with ThreadPoolExecutor(max_workers=2) as pool:
                named = pool.submit(current_context, kubectl, args.context)
                by_run_sh = pool.submit(run_sh.read, kubectl, args.namespace)
                namespace_obj = read_namespace(kubectl, args.namespace)
                context = named.result()
                legacy = by_run_sh.result()
            # run.sh's deployment, and someone else's namespace, are refused before anything
            # is written, the lock included.
            check_run_sh(legacy, run_sh=args.run_sh, keep_data=args.keep_data)
            if legacy is None:
                check_namespace_owner(Found(args.namespace, namespace_obj), force=args.force)
            with contextlib.ExitStack() as held:
                if not args.dry_run and _lockable(namespace_obj):
                    # Taken before the rest is read, so the plan shown is the plan carried out
                    # even if a run.py was just adding to the namespace.
                    stage = "lock"
                    held.enter_context(
                        NamespaceLock(
                            kubectl,
                            args.namespace,
                            labels=owner_labels(args.namespace),
                            command="terminate.py",
                            wait=args.timeout,
                            notify=lambda message: report.note("lock", message),
                        )
                    )
                    stage = "discover"
                found = discover(kubectl, args.namespace, namespace_obj)
                plan = (
                    plan_run_sh(found, legacy)
                    if legacy is not None
                    else build_plan(found, keep_data=args.keep_data, force=args.force)
                )
                report.stage_done(stage, time.monotonic() - started, _discovered(found))
                if plan.nothing_to_do:
                    report.nothing_left(plan, context)
                    return int(ExitCode.OK)
                report.plan(plan, context)
                if args.dry_run:
                    report.dry_run_done()
                    return int(ExitCode.OK)
                if not args.yes and in_.isatty():
                    stage = "confirm"
                    confirm(plan, in_, err)
                teardown = Teardown(
                    kubectl,
                    plan,
                    report,
                    timeout=args.timeout,
                    force_finalize=args.force_finalize,
                )
                stage = "delete"
                refuse_unless_allowed(kubectl, plan, found)
                teardown.delete()
                stage = "wait"
                deleted = teardown.wait()
            report.finished(plan, deleted, time.monotonic() - started)
            return int(ExitCode.OK)
    except AskyError as exc:
        report.failure(exc, stage, time.monotonic() - started)
        return int(exc.exit_code)
    except (KeyboardInterrupt, Interrupted) as exc:
        code = interrupted_exit_code(exc)
        report.interrupted(stage, int(code))
        return int(code)
