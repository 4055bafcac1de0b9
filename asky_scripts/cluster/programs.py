"""Starting child processes: kubectl and the few other programs a deploy needs.

This is the only module that imports plumbum, so every child process is started, timed out and
killed in one place: each runs in its own process group, and a timeout or a Ctrl-C kills the
whole group, so no child outlives the run.  ``minikube ssh`` (preparing the database's host
directory) goes through ``run_program`` too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from plumbum import local
from plumbum.commands.processes import CommandNotFound

from asky_scripts.cluster.kubectl_errors import KubectlMissingError

_KILL_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class Completed:
    """A finished kubectl call whose exit code the caller interprets (``kubectl diff``)."""

    returncode: int
    stdout: str
    stderr: str


def find_program(name: str, environ: Mapping[str, str]) -> str | None:
    """The full path of ``name`` on the PATH of ``environ``, or None when it is not there."""
    with local.env(PATH=environ.get("PATH", "")):
        try:
            return str(local.which(name))
        except CommandNotFound:
            return None


def run_program(
    argv: Sequence[str],
    *,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float,
) -> Completed:
    """Runs one program in its own process group and returns what it said.

    Raises OSError when it cannot be started and TimeoutError (after killing its whole process
    group) when it runs longer than ``timeout``.  A Ctrl-C meanwhile kills the group too.
    """
    command = local[argv[0]][list(argv[1:])]
    # A new session puts the child in its own process group: a terminal's Ctrl-C reaches only
    # us, and we decide to kill the whole group, so no child outlives the run.
    proc = typing.cast(
        "subprocess.Popen[str]",
        command.popen(
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            env=dict(env or {}),
            encoding="utf-8",
            errors="replace",
        ),
    )
    try:
        stdout, stderr = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        raise TimeoutError(f"{argv[0]} did not finish within {timeout:g}s") from None
    except BaseException:
        kill_group(proc)
        raise
    return Completed(proc.returncode, stdout, stderr)


def find_kubectl(explicit: str | None, environ: Mapping[str, str]) -> str:
    """The kubectl to use: ``--kubectl``, then ``$KUBECTL``, then the PATH of ``environ``."""
    candidate = explicit or environ.get("KUBECTL") or "kubectl"
    if os.sep in candidate:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
        raise KubectlMissingError((candidate,), 127, f"{candidate}: not an executable file")
    found = find_program(candidate, environ)
    if found is None:
        raise KubectlMissingError(
            (candidate,),
            127,
            f"{candidate} was not found on PATH",
            hint="install kubectl (https://kubernetes.io/docs/tasks/tools/) "
            "or point --kubectl or KUBECTL at it",
        )
    return found


def kill_group(proc: subprocess.Popen[str]) -> None:
    """Stops kubectl and anything it started: TERM, a short grace, then KILL."""
    for sig, grace in ((signal.SIGTERM, _KILL_GRACE_SECONDS), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + (grace or _KILL_GRACE_SECONDS)
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            break
        except subprocess.TimeoutExpired:
            continue
