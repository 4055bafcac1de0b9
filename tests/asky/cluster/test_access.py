"""Access reviews: what a user is told they may not do, and how a flaky API is asked again."""

from __future__ import annotations

import json

import pytest

from asky_scripts.cluster import access
from asky_scripts.cluster.kubectl_errors import ForbiddenError, TransientError
from tests.asky.fake_kubectl import FakeRunner, fake_kubectl

CREATE = ("create", "--validate=false", "-f", "-", "-o", "json")
RESET = "error: read tcp 10.0.0.1:4000->10.0.0.2:6443: read: connection reset by peer"


def answer(resource: str, allowed: bool, namespace: str = "asky", group: str = "") -> str:
    attributes = {"verb": "create", "resource": resource, "group": group}
    if namespace:
        attributes["namespace"] = namespace
    review = {
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
        "status": {"allowed": allowed},
    }
    return json.dumps(review, indent=2) + "\n"


def asked(runner: FakeRunner) -> list[list[str]]:
    """The resources each round of reviews asked about."""
    return [
        [
            item["spec"]["resourceAttributes"]["resource"]
            for item in json.loads(stdin or "{}")["items"]
        ]
        for _, stdin in runner.calls
    ]


def test_every_denied_resource_is_named_with_the_can_i_command_to_check_it() -> None:
    runner = FakeRunner().on(
        *CREATE,
        stdout=answer("deployments", True, group="apps")
        + answer("secrets", False)
        + answer("persistentvolumes", False, namespace=""),
    )
    problems = access.access_problems(
        fake_kubectl(runner), "asky", ["deployments.apps", "secrets", "persistentvolumes"], "create"
    )
    assert problems == {
        "secrets": "not allowed to create secrets in namespace asky "
        "(kubectl auth can-i create secrets)",
        "persistentvolumes": "not allowed to create persistentvolumes "
        "(kubectl auth can-i create persistentvolumes)",
    }
    assert len(runner.calls) == 1  # one kubectl process for every review


def test_on_a_flaky_api_only_the_unanswered_reviews_are_asked_again() -> None:
    runner = (
        FakeRunner()
        .on(*CREATE, stdout=answer("secrets", True), returncode=1, stderr=RESET, times=1)
        .on(*CREATE, stdout=answer("configmaps", False))
    )
    problems = access.access_problems(
        fake_kubectl(runner), "asky", ["secrets", "configmaps"], "create"
    )
    assert asked(runner) == [["secrets", "configmaps"], ["configmaps"]]
    assert list(problems) == ["configmaps"]


def test_a_permanent_failure_is_raised_at_once() -> None:
    runner = FakeRunner().on(
        *CREATE,
        returncode=1,
        stderr="Error from server (Forbidden): selfsubjectaccessreviews.authorization.k8s.io is "
        'forbidden: User "dev" cannot create resource "selfsubjectaccessreviews"',
    )
    with pytest.raises(ForbiddenError):
        access.access_problems(fake_kubectl(runner), "asky", ["secrets"], "create")
    assert len(runner.calls) == 1


def test_reviews_still_unanswered_after_every_round_say_what_kubectl_said(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(access, "_REVIEW_ROUNDS", 2)
    runner = FakeRunner().on(*CREATE, returncode=1, stderr=RESET)
    with pytest.raises(TransientError) as caught:
        access.access_problems(fake_kubectl(runner), "asky", ["secrets"], "create")
    assert "connection reset by peer" in caught.value.message
    assert len(runner.calls) == 2
