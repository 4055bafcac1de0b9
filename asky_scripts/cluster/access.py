"""Asks the API server what we may do, before doing any of it.

A refusal found before the first write leaves the cluster as it was; one found half way
through a deploy or a teardown leaves it half changed.  Used by run.py's preflight and by
terminate.py's plan alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import tenacity

from asky_scripts.cluster.kinds import resource_is_namespaced
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError, NotFoundError, classify
from asky_scripts.cluster.objects import Obj, spec, status
from asky_scripts.cluster.programs import Completed

# How often reviews left unanswered by a flaky API are asked again.
_REVIEW_ROUNDS = 6


def _access_review(resource: str, namespace: str | None, verb: str) -> Obj:
    """What ``kubectl auth can-i VERB RESOURCE`` sends, for a ``resource.group`` name."""
    name, _, group = resource.partition(".")
    attributes = {"verb": verb, "resource": name, "group": group}
    if namespace:
        attributes["namespace"] = namespace
    return {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": attributes},
    }


def _json_documents(text: str) -> list[Obj]:
    """kubectl prints one JSON document per object it created, one after the other."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        document, at = decoder.raw_decode(text, at)
        found.append(document)
    return found


def access_problems(
    kubectl: Kubectl, namespace: str, resources: Sequence[str], verb: str
) -> dict[str, str]:
    """The resources we may not ``verb``, with the problem to report for each.

    The same SelfSubjectAccessReviews ``auth can-i`` sends, created together: one process
    instead of one per kind, which is most of what a preflight costs.  Asked before any
    write, so a refusal leaves the cluster as it was instead of half changed.
    """
    jobs = {_review_key(r, namespace if resource_is_namespaced(r) else None): r for r in resources}
    reviews = _Reviews(kubectl, list(jobs), verb)
    asking = tenacity.Retrying(
        retry=tenacity.retry_if_result(lambda answered: not answered),
        stop=tenacity.stop_after_attempt(_REVIEW_ROUNDS),
        wait=tenacity.wait_exponential(multiplier=0.4, max=3.0),
        retry_error_callback=lambda _: False,
    )
    answered: bool = asking(reviews.ask_pending)
    if reviews.no_authorization_api:
        return {}  # nothing to ask: the server still checks RBAC on each write
    if not answered:
        raise reviews.failure()
    problems = {}
    for key, name in jobs.items():
        if not reviews.allowed.get(key, False):
            where = key[1]
            scope = f" in namespace {where}" if where else ""
            problems[name] = (
                f"not allowed to {verb} {name}{scope} (kubectl auth can-i {verb} {name})"
            )
    return problems


class _Reviews:
    """The reviews of one question, and the answers so far.

    kubectl posts one review per kind and carries on past a failed one, so on a flaky API
    only the reviews left unanswered are asked again: insisting on the whole batch would
    rarely succeed.
    """

    _ARGV = ("create", "--validate=false", "-f", "-", "-o", "json")

    def __init__(self, kubectl: Kubectl, keys: list[tuple[str, str]], verb: str) -> None:
        self._kubectl = kubectl
        self._keys = keys
        self._verb = verb
        self.allowed: dict[tuple[str, str], bool] = {}
        self._last: Completed | None = None
        self.no_authorization_api = False

    def ask_pending(self) -> bool:
        """Asks the reviews not answered yet; True once every one is answered.

        Raises at once when kubectl failed for a reason that will not pass.
        """
        pending = [key for key in self._keys if key not in self.allowed]
        if not pending:
            return True
        batch = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [_access_review(*key, self._verb) for key in pending],
        }
        try:
            done = self._kubectl.call(self._ARGV, stdin=json.dumps(batch), ok_codes=(0, 1))
        except NotFoundError:
            self.no_authorization_api = True
            return True
        self._last = done
        for answer in _json_documents(done.stdout):
            attributes = spec(answer).get("resourceAttributes") or {}
            key = _review_key(
                ".".join(filter(None, (attributes.get("resource"), attributes.get("group")))),
                attributes.get("namespace"),
            )
            self.allowed[key] = bool(status(answer).get("allowed"))
        if done.returncode and not classify(done.stderr).transient:
            raise self.failure()
        return all(key in self.allowed for key in self._keys)

    def failure(self) -> KubectlError:
        """The error of the last round (what kubectl said when reviews stayed unanswered)."""
        done = self._last or Completed(1, "", "")
        return classify(done.stderr)(self._ARGV, done.returncode, done.stderr)


def _review_key(resource: str, namespace: str | None) -> tuple[str, str]:
    """How a review and its answer are matched: the resource (``name.group``) and scope."""
    return resource, namespace or ""
