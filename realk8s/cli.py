"""Command line: ``build`` the binaries; ``run`` one command against a fresh control plane.

``run`` has the contract of ``python -m kubesim run``: CMD gets KUBECONFIG and a private HOME,
``run`` exits with CMD's exit code and prints nothing of its own unless ``-v`` (its own failures
aside: exit 127 for a command not found, 3 for a control plane that is not built or did not
start). Everything is stopped and removed afterwards, also on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from types import FrameType

from realk8s.build import BuildError, build
from realk8s.cluster import ClusterStartError, RealCluster

# How long CMD may take to finish after a Ctrl-C it received too (run.py releases its lock).
INTERRUPT_GRACE_SECONDS = 30


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so the ``with`` blocks stop the components."""
    raise KeyboardInterrupt


def _call(command: list[str], env: dict[str, str]) -> int:
    """Run CMD; on Ctrl-C (which CMD receives too) give it time to finish on its own."""
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        try:
            process.wait(INTERRUPT_GRACE_SECONDS)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            process.kill()
            process.wait()
        return 130


def _build(args: argparse.Namespace) -> int:
    build()
    return 0


def _run(args: argparse.Namespace) -> int:
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print("realk8s run: give the command to run after --", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with RealCluster() as cluster:
            if args.verbose:
                print(
                    f"realk8s: serving {cluster.url} (started in {cluster.startup_seconds:.1f}s, "
                    f"logs in {cluster.logs})",
                    file=sys.stderr,
                )
            env = cluster.env
            if args.keep_home:
                env["HOME"] = os.environ.get("HOME", env["HOME"])
            try:
                return _call(command, env)
            except FileNotFoundError:
                print(f"realk8s run: command not found: {command[0]}", file=sys.stderr)
                return 127
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m realk8s",
        description="A real single-node Kubernetes control plane (kwok as node minikube).",
    )
    commands = parser.add_subparsers(dest="action", required=True)
    commands.add_parser("build", help="build the binaries that are missing").set_defaults(
        func=_build
    )
    run = commands.add_parser("run", help="run one command against a fresh control plane")
    run.add_argument("-v", "--verbose", action="store_true")
    run.add_argument(
        "--keep-home",
        action="store_true",
        help="use your HOME (and kubectl cache) instead of a private one",
    )
    run.add_argument("command", nargs=argparse.REMAINDER)
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except BuildError as error:
        print(f"realk8s: {error}", file=sys.stderr)
        return 3
    except ClusterStartError as error:
        print(f"realk8s: {error}", file=sys.stderr)
        return 3
    return code
