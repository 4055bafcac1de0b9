"""The one door to the cluster: runs kubectl against one context, with bounded retries.

Why kubectl and not an API client: the people who run Asky already trust their kubectl, its
kubeconfig handling, auth plugins and version skew rules; we reuse all of it.  The process
itself is started by programs.py; its failures are classified by kubectl_errors.py.

Transient failures are retried with a bounded exponential backoff (tenacity); permanent ones
are raised at once.  kubectl itself already honours ``Retry-After`` on 429/5xx answers before
it gives up, so our retry only adds an outer, bounded layer.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import tenacity

from asky_scripts.cluster.kubectl_errors import (
    KubectlError,
    KubectlFailedError,
    KubectlMissingError,
    TransientError,
    classify,
)
from asky_scripts.cluster.objects import Obj
from asky_scripts.cluster.programs import Completed, run_program
from asky_scripts.errors import Interrupted

FIELD_MANAGER = "asky-scripts"
# Signals by which someone stopped kubectl on purpose: the run stops as if it had been stopped.
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
_REQUEST_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class RetryNotice:
    """Told to the observer before each retry, so ``-v`` can show it."""

    argv: tuple[str, ...]
    attempt: int
    delay: float
    error: KubectlError


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

    def get_json(self, args: Sequence[str], *, attempts: int | None = None) -> Obj:
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

    def get_items(self, args: Sequence[str], *, attempts: int | None = None) -> list[Obj]:
        """The objects a ``get`` returned, whether kubectl answered a List or one object."""
        obj = self.get_json(args, attempts=attempts)
        if not obj:
            return []
        if obj.get("kind", "").endswith("List") and "items" in obj:
            items: list[Obj] = obj["items"]
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
