"""Exit codes and the exception types that carry a user-facing explanation to the CLI.

Every refusal or failure ends as one of these exceptions so that the CLI is the only place that
decides how it is printed and which exit code the process returns; scripts calling ``run.py`` and
``terminate.py`` can rely on the codes below.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """Process exit codes shared by run.py and terminate.py."""

    #: Everything requested is done and really serving (or, with ``--diff``, nothing differs).
    OK = 0
    #: A workload failed (crash loop, image not found, unschedulable...);
    #: with ``--diff``: differences were found.
    WORKLOAD_FAILED = 1
    #: The command line, a manifest, the kubeconfig or the kubectl binary is wrong; nothing changed.
    BAD_INPUT = 2
    #: The cluster cannot be used: unreachable, credentials or RBAC rejected, the namespace or
    #: volume belongs to someone else or is being deleted, or kubectl is older than supported.
    CLUSTER_UNAVAILABLE = 3
    #: A stage did not become ready within ``--timeout`` seconds.
    TIMEOUT = 4
    #: kubectl itself failed (could not parse what we piped, unknown flag, crash, killed by a
    #: signal): a defect of asky-scripts or an incompatibility with that kubectl version.
    KUBECTL_FAILED = 5
    #: Interrupted with Ctrl-C (SIGINT); running again continues where it stopped.
    INTERRUPTED = 130
    #: Stopped by SIGTERM; running again continues where it stopped.
    TERMINATED = 143


@dataclass(frozen=True)
class FailureReport:
    """What a person needs to fix one failing object: cause, evidence, and the likely fix."""

    subject: str
    cause: str
    hint: str = ""
    conditions: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    logs: tuple[tuple[str, str], ...] = ()


class AskyError(Exception):
    """An error explained to the user in one paragraph, with the likely fix when one is known.

    ``default_hint`` is the fix shown when the code raising the error has nothing more specific
    to say: every refusal a user can meet then ends with what to do, not only what went wrong.
    """

    exit_code: ExitCode = ExitCode.WORKLOAD_FAILED
    default_hint: str = ""

    def __init__(
        self, message: str, hint: str = "", reports: tuple[FailureReport, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint
        self.reports = reports


class WorkloadFailedError(AskyError):
    """An object we applied reached a state that will not fix itself (crash loop, bad image...)."""

    exit_code = ExitCode.WORKLOAD_FAILED


class UsageError(AskyError):
    """Bad flags or arguments, found before talking to the cluster."""

    exit_code = ExitCode.BAD_INPUT


class ManifestError(AskyError):
    """A manifest cannot be read, parsed or rewritten; carries the file (and line) at fault."""

    exit_code = ExitCode.BAD_INPUT
    default_hint = "correct the manifest named above and run again; nothing was changed"


class ClusterRefusedError(AskyError):
    """The cluster, or the state of our objects in it, does not allow the deploy to go on."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE


class StageTimeoutError(AskyError):
    """A stage was still waiting when its timeout ran out."""

    exit_code = ExitCode.TIMEOUT


class Interrupted(BaseException):
    """Raised by the SIGTERM handler so the same clean-up path as Ctrl-C runs.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` never swallows it.
    """

    def __init__(self, signal_number: int) -> None:
        super().__init__(f"signal {signal_number}")
        self.signal_number = signal_number
