"""What both test backends share: a cluster in a work directory of its own, reached through the
kubeconfig written there, and the ``run`` subcommand that wraps one command around a fresh one.

kubesim's ``KubeSim`` and realk8s's ``RealCluster`` are both a ``Rig``; ``python -m kubesim run``
and ``python -m realk8s run`` are both ``run_command``, so the two keep one contract: CMD gets
KUBECONFIG and a private HOME, ``run`` exits with CMD's exit code and prints nothing of its own
unless ``-v`` (exit 127 for a command not found), and the cluster is stopped and its work
directory removed afterwards, also on Ctrl-C and SIGTERM. This module lives in kubesim, which
needs nothing of realk8s; realk8s imports it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import TypeVar

# How long CMD may take to finish after a Ctrl-C it received too (run.py releases its lock).
INTERRUPT_GRACE_SECONDS = 30

R = TypeVar("R", bound="Rig")


class Rig(ABC):
    """Start with ``with Backend() as cluster:``; ``cluster.env`` runs kubectl against it."""

    def __init__(self, workdir: Path | None, prefix: str) -> None:
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=prefix))
        self.kubeconfig = self.workdir / "kubeconfig"

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the API server listens."""

    @property
    def env(self) -> dict[str, str]:
        """The environment for a child process: this kubeconfig and a private kubectl cache."""
        home = self.workdir / "home"
        home.mkdir(exist_ok=True)
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig), "HOME": str(home)}

    def describe(self) -> str:
        """What ``run -v`` says about the started cluster."""
        return f"serving {self.url}"

    @abstractmethod
    def start(self) -> Rig: ...

    @abstractmethod
    def stop(self) -> None: ...

    def remove_workdir(self) -> None:
        """Remove the work directory, unless the caller gave it (then it is the caller's)."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self: R) -> R:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Stop whether the block ended or raised; an exception goes on up."""
        self.stop()


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """The options of ``run`` that both backends take; ``run_command`` reads them."""
    run.add_argument("-v", "--verbose", action="store_true")
    run.add_argument(
        "--keep-home",
        action="store_true",
        help="use your HOME (and kubectl cache) instead of a private one",
    )
    run.add_argument("command", nargs=argparse.REMAINDER)


def run_command(name: str, rig: Callable[[], Rig], args: argparse.Namespace) -> int:
    """``NAME run [-v] [--keep-home] -- CMD``: CMD against the cluster ``rig()`` makes."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        print(f"{name} run: give the command to run after --", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with rig() as cluster:
            if args.verbose:
                print(f"{name}: {cluster.describe()}", file=sys.stderr)
            env = cluster.env
            if args.keep_home:
                env["HOME"] = os.environ.get("HOME", env["HOME"])
            try:
                return _call(command, env)
            except FileNotFoundError:
                print(f"{name} run: command not found: {command[0]}", file=sys.stderr)
                return 127
    except KeyboardInterrupt:
        return 130


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM unwinds like Ctrl-C, so the ``with`` block stops the cluster."""
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
