"""Command line: ``serve`` keeps an emulator up; ``run`` wraps one command around a fresh one."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from kubesim.rig import add_run_arguments, run_command
from kubesim.scenario import Scenario, ScenarioError
from kubesim.sim import KubeSim


def _scenario(path: str | None) -> Scenario:
    if path is None:
        return Scenario()
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ScenarioError(f"cannot read scenario {path}: {error.strerror}") from error
    return Scenario.from_yaml(text)


def _serve(args: argparse.Namespace) -> int:
    with KubeSim(_scenario(args.scenario), port=args.port) as sim:
        if args.kubeconfig_out:
            sim.write_kubeconfig(Path(args.kubeconfig_out))
        print(
            f"kubesim serving {sim.url} (kubeconfig: {args.kubeconfig_out or sim.kubeconfig})",
            flush=True,
        )
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        stop.wait()
    return 0


def _run(args: argparse.Namespace) -> int:
    return run_command("kubesim", lambda: KubeSim(_scenario(args.scenario)), args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kubesim", description="A Kubernetes API emulator for kubectl."
    )
    commands = parser.add_subparsers(dest="action", required=True)
    serve = commands.add_parser("serve", help="serve until SIGINT/SIGTERM")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--scenario")
    serve.add_argument("--kubeconfig-out")
    serve.set_defaults(func=_serve)
    run = commands.add_parser("run", help="run one command against a fresh emulator")
    run.add_argument("--scenario")
    add_run_arguments(run)
    run.set_defaults(func=_run)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except ScenarioError as error:
        print(f"kubesim: {error}", file=sys.stderr)
        return 2
    return code
