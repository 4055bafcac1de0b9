"""How kubectl's failures are told apart from its stderr, and what the user is shown of it."""

from __future__ import annotations

import pytest

from asky_scripts.cluster import kubectl_errors as k
from asky_scripts.cluster.kubectl_stderr import summarize_stderr
from asky_scripts.errors import ExitCode


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            'Error from server (Forbidden): deployments.apps "auth" is forbidden: User '
            '"dev" cannot patch resource "deployments" in API group "apps" in the namespace "asky"',
            k.ForbiddenError,
        ),
        ('Error from server (NotFound): namespaces "asky" not found', k.NotFoundError),
        (
            'The Deployment "auth" is invalid: spec.template.metadata.labels: Invalid value: '
            'map[string]string{"app":"x"}: `selector` does not match template `labels`',
            k.InvalidError,
        ),
        (
            'Error from server (BadRequest): error when creating "STDIN": Deployment in version '
            '"v1" cannot be handled as a Deployment: strict decoding error: unknown field '
            '"spec.replica"',
            k.InvalidError,
        ),
        (
            'error: Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: '
            ".data.POSTGRES_DB\nPlease review the fields above--they currently have other "
            "managers.",
            k.ConflictError,
        ),
        (
            "The connection to the server 127.0.0.1:6443 was refused - did you specify the "
            "right host or port?",
            k.UnreachableError,
        ),
        (
            "Unable to connect to the server: dial tcp 10.0.0.1:443: i/o timeout",
            k.TransientError,
        ),
        (
            "Error from server (InternalError): Internal error occurred: etcd leader changed",
            k.TransientError,
        ),
        (
            "Error from server (ServiceUnavailable): the server is currently unable to handle "
            "the request",
            k.TransientError,
        ),
        (
            "Error from server (TooManyRequests): the server has received too many requests "
            "and has asked us to try again later",
            k.TransientError,
        ),
        (
            'Error from server (Conflict): Operation cannot be fulfilled on configmaps "x": the '
            "object has been modified; please apply your changes to the latest version and "
            "try again",
            k.TransientError,
        ),
        (
            "Error from server: failed to create typed patch object (asky/gateway; apps/v1, "
            "Kind=Deployment): .spec.revisionHistoryLimt: field not declared in schema",
            k.InvalidError,
        ),
        ("error: context was not found for specified context: nope", k.KubeconfigError),
        (
            'error: error loading config file "/tmp/kc": yaml: line 3: mapping values are not '
            "allowed in this context",
            k.KubeconfigError,
        ),
        (
            "Unable to connect to the server: tls: failed to verify certificate: x509: "
            "certificate signed by unknown authority",
            k.TlsRejectedError,
        ),
        ("error: You must be logged in to the server (Unauthorized)", k.UnauthorizedError),
        (
            'Error from server (AlreadyExists): secrets "auth-db" already exists',
            k.AlreadyExistsError,
        ),
        ("error: something nobody has seen before", k.KubectlError),
        # kubectl 1.29-1.32 on JSON documents joined by "---" (apimachinery's decoder).
        (
            "error: error parsing STDIN: json: offset 373: invalid character '-' in numeric "
            "literal",
            k.KubectlFailedError,
        ),
        (
            "error: unknown flag: --subresource\nSee 'kubectl get --help' for usage.",
            k.KubectlFailedError,
        ),
        ("error: unknown shorthand flag: 'Z' in -Z", k.KubectlFailedError),
        (
            "panic: runtime error: invalid memory address or nil pointer dereference\n"
            "goroutine 1 [running]:",
            k.KubectlFailedError,
        ),
    ],
)
def test_classify_kubectl_stderr(stderr: str, expected: type[k.KubectlError]) -> None:
    assert k.classify(stderr) is expected


def test_only_transient_errors_are_transient_and_exit_codes_follow_the_enum() -> None:
    assert k.UnreachableError.transient and k.TransientError.transient
    assert not k.ForbiddenError.transient and not k.InvalidError.transient
    assert k.ForbiddenError.exit_code == ExitCode.CLUSTER_UNAVAILABLE
    assert k.InvalidError.exit_code == ExitCode.BAD_INPUT
    assert k.KubectlMissingError.exit_code == ExitCode.BAD_INPUT
    assert k.KubectlFailedError.exit_code == ExitCode.KUBECTL_FAILED
    assert not k.KubectlFailedError.transient


def test_summary_drops_kubectl_advice_and_warnings() -> None:
    stderr = (
        "Warning: resource configmaps/x is missing the annotation\n"
        'error: Apply failed with 1 conflict: conflict with "kubectl-edit": .data.k\n'
        "Please review the fields above--they currently have other managers. Here\n"
        "\n"
        "are the ways you can resolve this warning:\n"
    )
    assert summarize_stderr(stderr) == (
        'error: Apply failed with 1 conflict: conflict with "kubectl-edit": .data.k'
    )
