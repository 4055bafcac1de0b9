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
from typing import TextIO

from asky_scripts.errors import AskyError, ExitCode, Interrupted, UsageError
from asky_scripts.interrupts import interrupted_exit_code, sigterm_raises
from asky_scripts.kubectl import Kubectl, find_kubectl
from asky_scripts.manifests import DEFAULT_NAMESPACE
from asky_scripts.namespace_lock import NamespaceLock
from asky_scripts.preflight import check_kubeconfig, current_context
from asky_scripts.report import wants_color
from asky_scripts.run_cli import DEFAULT_TIMEOUT_SECONDS, _namespace, _Parser, _timeout
from asky_scripts.teardown import Teardown, discover
from asky_scripts.teardown_plan import Found, TeardownPlan, build_plan, is_ours
from asky_scripts.teardown_report import TeardownJsonReport, TeardownTextReport


def build_parser() -> _Parser:
    parser = _Parser(
        prog="terminate.py",
        description="Delete what run.py deployed in one namespace, and wait until it is gone. "
        "Only objects labelled app.kubernetes.io/managed-by=asky-scripts are deleted.",
        epilog="exit codes: 0 gone (or nothing to delete), 2 bad input or confirmation refused, "
        "3 cluster unreachable/forbidden/namespace not ours, 4 timeout, 130 interrupted, "
        "143 terminated",
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
        help="seconds to wait for everything to be gone (default: 300)",
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
        "--force-finalize",
        action="store_true",
        help="remove finalizers that hold objects of a stuck namespace (their clean-up is lost)",
    )
    parser.add_argument("--output", "-o", choices=("text", "json"), default="text")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--kubectl", help="kubectl binary (default: $KUBECTL, then PATH)")
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


def _lockable(found: Found) -> bool:
    """The namespace can hold run.py's deploy lock: it exists and is not being deleted."""
    ns = found.namespace_obj
    return ns is not None and not (ns.get("metadata") or {}).get("deletionTimestamp")


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
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"terminate.py: error: {exc.message}\nhint: {exc.hint}", file=err)
        return int(ExitCode.BAD_INPUT)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    verbosity = -1 if args.quiet else args.verbose
    report: TeardownTextReport | TeardownJsonReport
    if args.output == "json":
        report = TeardownJsonReport(out, verbosity=verbosity)
    else:
        report = TeardownTextReport(
            out, err, color=wants_color(out, env), live=False, verbosity=verbosity
        )
    stage = "discover"
    try:
        with sigterm_raises():
            report.stage_started(stage)
            check_kubeconfig(args.kubeconfig, env)
            kubectl = Kubectl(
                find_kubectl(args.kubectl, env),
                context=args.context,
                kubeconfig=args.kubeconfig,
                env=env,
                on_retry=report.retry,
                on_command=report.command,
            )
            context = current_context(kubectl, args.context)
            found = discover(kubectl, args.namespace)
            plan = build_plan(found, keep_data=args.keep_data, force=args.force)
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
            with contextlib.ExitStack() as held:
                if _lockable(found):
                    stage = "lock"
                    held.enter_context(
                        NamespaceLock(
                            kubectl,
                            args.namespace,
                            command="terminate.py",
                            wait=args.timeout,
                            notify=lambda message: report.note("lock", message),
                        )
                    )
                    # Under the lock: what a run.py that finished meanwhile may have added.
                    found = discover(kubectl, args.namespace)
                    plan = build_plan(found, keep_data=args.keep_data, force=args.force)
                teardown = Teardown(
                    kubectl,
                    plan,
                    report,
                    timeout=args.timeout,
                    force_finalize=args.force_finalize,
                )
                stage = "delete"
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
