"""The typed failures of kubectl, and the rules that tell them apart from its stderr.

kubectl exits 1 for nearly everything, so the kind of failure is judged from what it said:
transient ones (connection refused or reset, 5xx, 429, timeouts, optimistic-lock conflicts) are
retried by the runner (kubectl.py); permanent ones (Forbidden, Invalid, NotFound...) are raised
at once with a hint for the user; kubectl's own failures are our bug, never the user's input.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.kubectl_stderr import plain_message, summarize_stderr
from asky_scripts.cluster.versions import SUPPORTED_RANGE
from asky_scripts.errors import AskyError, ExitCode


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


def classify(stderr: str) -> type[KubectlError]:
    """The error type for a kubectl failure, judged from its stderr."""
    for error_type, needles in _RULES:
        if any(needle in stderr for needle in needles):
            return error_type
    return KubectlError
