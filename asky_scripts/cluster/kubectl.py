"""The one door to the cluster: runs the kubectl binary and turns its failures into typed errors.

Why kubectl and not an API client: the people who run Asky already trust their kubectl, its
kubeconfig handling, auth plugins and version skew rules; we reuse all of it.  This is the only
module that imports plumbum, so every child process is started, timed out and killed in one place.

It also runs the few other programs a deploy needs (``minikube ssh`` to prepare the database's
host directory) through ``run_program``, so those children get the same process-group handling.

Failures are classified from kubectl's stderr (it exits 1 for nearly everything): transient ones
(connection refused or reset, 5xx, 429, timeouts, optimistic-lock conflicts) are retried with a
bounded exponential backoff; permanent ones (Forbidden, Invalid, NotFound...) are raised at once.
kubectl itself already honours ``Retry-After`` on 429/5xx answers before it gives up, so our
retry only adds an outer, bounded layer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import tenacity
from plumbum import local
from plumbum.commands.processes import CommandNotFound

from asky_scripts.errors import AskyError, ExitCode, Interrupted

FIELD_MANAGER = "asky-scripts"
#: The kubectl minor versions asky-scripts is tested with (end to end, each of them, in CI).
OLDEST_KUBECTL_MINOR = 28
NEWEST_TESTED_KUBECTL_MINOR = 37
SUPPORTED_RANGE = f"1.{OLDEST_KUBECTL_MINOR} to 1.{NEWEST_TESTED_KUBECTL_MINOR}"
# Signals by which someone stopped kubectl on purpose: the run stops as if it had been stopped.
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
_REQUEST_TIMEOUT_SECONDS = 20
_KILL_GRACE_SECONDS = 2.0


class KubectlError(AskyError):
    """kubectl exited non-zero; carries what it was asked and what it said."""

    exit_code = ExitCode.WORKLOAD_FAILED
    transient = False

    def __init__(self, argv: Sequence[str], returncode: int, stderr: str, hint: str = "") -> None:
        summary = plain_message(summarize_stderr(stderr))
        super().__init__(summary or f"kubectl exited with {returncode}", hint)
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stderr = stderr


class KubectlMissingError(KubectlError):
    """No usable kubectl binary: not found, not executable, or not kubectl at all."""

    exit_code = ExitCode.BAD_INPUT
    default_hint = (
        "point --kubectl or KUBECTL at a kubectl binary "
        "(install: https://kubernetes.io/docs/tasks/tools/)"
    )


class KubeconfigError(KubectlError):
    """The kubeconfig cannot be loaded or does not have the requested context."""

    exit_code = ExitCode.BAD_INPUT
    default_hint = (
        "check the kubeconfig: `kubectl config get-contexts` lists its contexts; "
        "pick one with --context, or another file with --kubeconfig"
    )


class TlsRejectedError(KubectlError):
    """The server certificate is not trusted: a wrong cluster or a stale kubeconfig."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE
    default_hint = (
        "the server's certificate is not the one the kubeconfig trusts: check --context, "
        "or refresh the kubeconfig (on minikube: minikube update-context)"
    )


class UnauthorizedError(KubectlError):
    """The server rejected our credentials (401)."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE
    default_hint = (
        "the cluster rejected your credentials (expired or wrong): log in again or refresh "
        "the kubeconfig (on minikube: minikube update-context), then run again"
    )


class ForbiddenError(KubectlError):
    """RBAC, an admission webhook or a quota denied a request (403)."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE
    default_hint = (
        "ask a cluster admin for this permission (check it with kubectl auth can-i); "
        "if an admission webhook or a quota refused it, change what its message names"
    )


class NotFoundError(KubectlError):
    """The object or resource type does not exist."""


class KubectlFailedError(KubectlError):
    """kubectl itself failed: it could not parse what we piped, did not know a flag we passed,
    crashed or was killed.  Never the user's input: we made the command and its stdin."""

    exit_code = ExitCode.KUBECTL_FAILED

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int,
        stderr: str,
        hint: str = "",
        *,
        binary: str = "kubectl",
        client_version: str | None = None,
    ) -> None:
        super().__init__(argv, returncode, stderr, hint)
        which = f"kubectl {client_version} ({binary})" if client_version else binary
        self.message = (
            f"{which} failed on the command asky-scripts gave it: {self.message}. This is a "
            "defect of asky-scripts or an incompatibility with this kubectl version, not a "
            "problem with your manifests or cluster"
        )
        if not hint:
            self.hint = (
                f"please report it with the command below and `{binary} version --client`; "
                f"meanwhile try another kubectl in the supported range {SUPPORTED_RANGE}, "
                "ideally your cluster's minor version (on minikube: `minikube kubectl --`)"
            )


class InvalidError(KubectlError):
    """The server rejected an object's content (422, strict decoding, unknown kind)."""

    exit_code = ExitCode.BAD_INPUT
    default_hint = (
        "correct the object the server refused (its message names the field) and run again"
    )


class ConflictError(KubectlError):
    """Server-side apply found fields owned by another field manager."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE


class AlreadyExistsError(KubectlError):
    """``create`` found the object already there."""


class TransientError(KubectlError):
    """A failure that may pass: 5xx, 429, timeouts, resets; raised only once retries ran out."""

    exit_code = ExitCode.CLUSTER_UNAVAILABLE
    transient = True
    default_hint = (
        "the API server kept failing; check its health (kubectl get --raw /readyz) and run "
        "again: it continues where it stopped"
    )


class UnreachableError(TransientError):
    """The server could not be reached at all (refused, no route, DNS)."""

    default_hint = (
        "is the cluster running (minikube status)? Is this the right context "
        "(kubectl config current-context) and server (kubectl config view --minify)?"
    )


# Ordered: the first matching rule wins, so specific texts come before generic ones.
_RULES: tuple[tuple[type[KubectlError], tuple[str, ...]], ...] = (
    (
        KubeconfigError,
        (
            "context was not found for specified context",
            "error loading config file",
            "invalid configuration",
            "no configuration has been provided",
            'error: context "',
            'error: cluster "',
            "no context exists with the name",
        ),
    ),
    # kubectl's own failures: it could not decode our stdin (every -f we pass is "-", which
    # kubectl names STDIN), cobra/pflag rejected an argument, or the Go runtime crashed.
    # After the kubeconfig's rule, whose YAML errors look alike.
    (
        KubectlFailedError,
        (
            "error parsing STDIN",
            "error converting YAML to JSON",
            "unknown flag: ",
            "unknown shorthand flag: ",
            "flag needs an argument",
            'unknown command "',
            "panic: ",
            "fatal error: ",
            "goroutine ",
        ),
    ),
    # Schema errors first: some servers wrap them in a 500, which is not worth retrying.
    (
        InvalidError,
        ("field not declared in schema", "failed to create typed patch object", "strict decoding"),
    ),
    (
        TlsRejectedError,
        ("x509:", "tls: failed to verify", "certificate signed by unknown authority"),
    ),
    (UnauthorizedError, ("(Unauthorized)", "must be logged in to the server")),
    (
        TransientError,
        (
            "(InternalError)",
            "(ServiceUnavailable)",
            "(TooManyRequests)",
            "(ServerTimeout)",
            "(Timeout)",
            "the server is currently unable to handle the request",
            "has prevented the request from succeeding",
            "has received too many requests",
            "the object has been modified",
            "connection reset by peer",
            "broken pipe",
            "i/o timeout",
            "TLS handshake timeout",
            "context deadline exceeded",
            "Client.Timeout",
            "unexpected EOF",
            "http2:",
            "etcdserver",
            "stream error",
        ),
    ),
    (
        UnreachableError,
        ("was refused", "connection refused", "Unable to connect to the server", "no such host"),
    ),
    (ForbiddenError, ("(Forbidden)", " is forbidden:", "denied the request")),
    (NotFoundError, ("(NotFound)", "the server doesn't have a resource type")),
    (
        InvalidError,
        (
            "(Invalid)",
            "(BadRequest)",
            " is invalid:",
            "unknown field",
            "no matches for kind",
            "error validating data",
        ),
    ),
    (ConflictError, ("Apply failed with", "(Conflict)")),
    (AlreadyExistsError, ("(AlreadyExists)", "already exists")),
)

_BOILERPLATE_PREFIXES = (
    "Please review the fields above",
    "are the ways you can resolve",
    "warning:",
    "Warning:",
)


# kubectl's framing around the server's or client-go's own words: who answered, which stdin
# document, and advice about kubectl flags that run.py and terminate.py do not have.
_FRAMING = re.compile(
    r"^(?:error: |Error from server(?: \(\w+\))?: |Error in configuration: |"
    r'error when (?:creating|applying patch|retrieving current configuration of) "[^"]*": |'
    r'error validating "[^"]*": )+'
)
_KUBECTL_ADVICE = (
    "; if you choose to ignore these errors, turn validation off with --validate=false"
)


def plain_message(summary: str) -> str:
    """The facts of a summarized kubectl error without kubectl's framing, line by line."""
    return "\n".join(
        _FRAMING.sub("", line).replace(_KUBECTL_ADVICE, "") for line in summary.splitlines()
    )


def classify(stderr: str) -> type[KubectlError]:
    """The error type for a kubectl failure, judged from its stderr."""
    for error_type, needles in _RULES:
        if any(needle in stderr for needle in needles):
            return error_type
    return KubectlError


# client-go's log lines (klog: severity, date, time, pid, file:line), e.g. the discovery
# cache's "Couldn't get current server API group list" before kubectl's own one-line error.
_KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")


def summarize_stderr(stderr: str) -> str:
    """kubectl's stderr without its advice paragraphs, warnings and client-go's log lines
    (unless they are all it said), kept to the facts."""
    lines: list[str] = []
    for raw in stderr.splitlines():
        line = raw.strip()
        if not line:
            if lines:
                break  # the advice paragraphs after a conflict list start after a blank line
            continue
        if line.startswith(_BOILERPLATE_PREFIXES):
            continue
        lines.append(line)
    said = [line for line in lines if not _KLOG_LINE.match(line)]
    return "\n".join(said or lines[-1:])


@dataclass(frozen=True)
class RetryNotice:
    """Told to the observer before each retry, so ``-v`` can show it."""

    argv: tuple[str, ...]
    attempt: int
    delay: float
    error: KubectlError


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
        _kill_group(proc)
        raise TimeoutError(f"{argv[0]} did not finish within {timeout:g}s") from None
    except BaseException:
        _kill_group(proc)
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


#: Runs kubectl with these arguments and stdin: (exit code, stdout, stderr).
Runner = Callable[[tuple[str, ...], str | None], tuple[int, str, str]]


class Kubectl:
    """Runs kubectl against one context and kubeconfig, with retries for transient failures."""

    def __init__(
        self,
        binary: str,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        env: Mapping[str, str] | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        on_command: Callable[[tuple[str, ...]], None] | None = None,
        max_attempts: int = 6,
        runner: Runner | None = None,
    ) -> None:
        self.binary = binary
        # Unit tests script kubectl's answers here; everything above the process stays real.
        self._runner: Runner = runner or self._run_binary
        self._global_flags = [f"--request-timeout={_REQUEST_TIMEOUT_SECONDS}s"]
        if context:
            self._global_flags.append(f"--context={context}")
        if kubeconfig:
            self._global_flags.append(f"--kubeconfig={kubeconfig}")
        self._env = dict(env or {})
        self._on_retry = on_retry
        self._on_command = on_command
        self._max_attempts = max_attempts
        #: kubectl's own version (``v1.30.13``) once preflight asked it; named in its failures.
        self.client_version: str | None = None

    def run(
        self, args: Sequence[str], *, stdin: str | None = None, attempts: int | None = None
    ) -> str:
        """kubectl's stdout; raises a classified KubectlError on failure."""
        result = self.call(args, stdin=stdin, ok_codes=(0,), attempts=attempts)
        return result.stdout

    def get_json(self, args: Sequence[str], *, attempts: int | None = None) -> dict[str, Any]:
        """Parsed ``-o json`` output of a get-like command."""
        out = self.run([*args, "-o", "json"], attempts=attempts)
        if not out.strip():
            return {}
        try:
            parsed = json.loads(out)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            # Only a program that is not kubectl answers ``-o json`` like this.
            raise KubectlMissingError(
                (self.binary, *args),
                0,
                f"{self.binary} answered `{' '.join(args[:2])} -o json` with something that is "
                f"not a JSON object: {out.strip()[:80]!r}",
                hint="point --kubectl or KUBECTL at a real kubectl binary",
            )
        return parsed

    def get_items(
        self, args: Sequence[str], *, attempts: int | None = None
    ) -> list[dict[str, Any]]:
        """The objects a ``get`` returned, whether kubectl answered a List or one object."""
        obj = self.get_json(args, attempts=attempts)
        if not obj:
            return []
        if obj.get("kind", "").endswith("List") and "items" in obj:
            items: list[dict[str, Any]] = obj["items"]
            return items
        return [obj]

    def call(
        self,
        args: Sequence[str],
        *,
        stdin: str | None = None,
        ok_codes: Sequence[int] = (0,),
        attempts: int | None = None,
    ) -> Completed:
        """Runs kubectl, retrying transient failures; exit codes in ``ok_codes`` are returned.

        ``attempts`` lowers the bound for callers that have a better fallback than insisting.
        """
        argv = (*self._global_flags, *args)

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if self._on_retry is None or state.outcome is None or state.next_action is None:
                return
            error = state.outcome.exception()
            if isinstance(error, KubectlError):
                notice = RetryNotice(argv, state.attempt_number, state.next_action.sleep, error)
                self._on_retry(notice)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientError),
            stop=tenacity.stop_after_attempt(attempts or self._max_attempts),
            wait=tenacity.wait_exponential(multiplier=0.2, max=3.0),
            before_sleep=before_sleep,
            reraise=True,
        )
        result: Completed = retrying(self._call_once, argv, stdin, tuple(ok_codes))
        return result

    def _call_once(
        self, argv: tuple[str, ...], stdin: str | None, ok_codes: tuple[int, ...]
    ) -> Completed:
        returncode, stdout, stderr = self._spawn(argv, stdin)
        if returncode < 0 and -returncode in _STOP_SIGNALS:
            # Stopped on purpose from outside (a user's kill): treat like our own interruption,
            # so the run stops cleanly and can simply be started again.
            raise Interrupted(-returncode)
        if returncode in ok_codes:
            return Completed(returncode, stdout, stderr)
        if returncode < 0:
            said = f"error: killed by {signal.Signals(-returncode).name}"
            if -returncode == signal.SIGKILL:
                said += " (on a machine short of memory, the kernel's OOM killer sends it)"
            raise self._failed(argv, returncode, "\n".join(filter(None, (said, stderr.strip()))))
        error_type = classify(stderr)
        if error_type is KubectlFailedError:
            raise self._failed(argv, returncode, stderr)
        raise error_type(argv, returncode, stderr)

    def _failed(self, argv: tuple[str, ...], returncode: int, stderr: str) -> KubectlFailedError:
        return KubectlFailedError(
            argv, returncode, stderr, binary=self.binary, client_version=self.client_version
        )

    def _spawn(self, argv: tuple[str, ...], stdin: str | None) -> tuple[int, str, str]:
        if self._on_command is not None:
            self._on_command(argv)
        return self._runner(argv, stdin)

    def _run_binary(self, argv: tuple[str, ...], stdin: str | None) -> tuple[int, str, str]:
        try:
            done = run_program(
                (self.binary, *argv),
                stdin=stdin,
                env=self._env,
                timeout=_REQUEST_TIMEOUT_SECONDS + 10,
            )
        except OSError as exc:
            raise KubectlMissingError(
                (self.binary, *argv), 126, f"cannot run {self.binary}: {exc}"
            ) from exc
        except TimeoutError as exc:
            return 1, "", f"{exc}: i/o timeout"
        return done.returncode, done.stdout, done.stderr


def _kill_group(proc: subprocess.Popen[str]) -> None:
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
