"""Command line: ``build`` the binaries; ``run`` one command against a fresh control plane.

``run`` is ``python -m kubesim run``'s code (kubesim/rig.py), so it keeps its contract: CMD gets
KUBECONFIG and a private HOME, ``run`` exits with CMD's exit code and prints nothing of its own
unless ``-v`` (its own failures aside: exit 127 for a command not found, 3 for a control plane
that is not built or did not start). Everything is stopped and removed afterwards, also on Ctrl-C
and SIGTERM.
"""

from __future__ import annotations

import argparse
import sys

from kubesim.rig import add_run_arguments, run_command
from realk8s.build import BuildError, build
from realk8s.cluster import ClusterStartError, RealCluster


def _build(args: argparse.Namespace) -> int:
    build()
    return 0


def _run(args: argparse.Namespace) -> int:
    return run_command("realk8s", RealCluster, args)


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
    add_run_arguments(run)
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (BuildError, ClusterStartError) as error:
        print(f"realk8s: {error}", file=sys.stderr)
        return 3
    return code
