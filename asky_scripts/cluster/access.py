"""Asks the API server what we may do, before doing any of it.

A refusal found before the first write leaves the cluster as it was; one found half way
through a deploy or a teardown leaves it half changed.  Used by run.py's preflight and by
terminate.py's plan alike.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from asky_scripts.cluster.kinds import resource_is_namespaced
from asky_scripts.cluster.kubectl import Kubectl, NotFoundError, classify

Obj = dict[str, Any]

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
    write, so a refusal leaves the cluster as it was instead of half changed.  kubectl posts
    one review per kind and carries on past a failed one, so on a flaky API only the reviews
    left unanswered are asked again: insisting on the whole batch would rarely succeed.
    """
    jobs = {_review_key(r, namespace if resource_is_namespaced(r) else None): r for r in resources}
    allowed: dict[tuple[str, str], bool] = {}
    argv = ["create", "--validate=false", "-f", "-", "-o", "json"]
    for round_number in range(_REVIEW_ROUNDS):
        pending = [key for key in jobs if key not in allowed]
        if not pending:
            break
        if round_number:
            time.sleep(min(0.2 * 2**round_number, 3.0))
        reviews = {
            "apiVersion": "v1",
            "kind": "List",
            "items": [_access_review(*key, verb) for key in pending],
        }
        try:
            done = kubectl.call(argv, stdin=json.dumps(reviews), ok_codes=(0, 1))
        except NotFoundError:
            return {}  # no authorization API to ask: the server still checks RBAC on each write
        for answer in _json_documents(done.stdout):
            attributes = (answer.get("spec") or {}).get("resourceAttributes") or {}
            key = _review_key(
                ".".join(filter(None, (attributes.get("resource"), attributes.get("group")))),
                attributes.get("namespace"),
            )
            allowed[key] = bool((answer.get("status") or {}).get("allowed"))
        if done.returncode and not classify(done.stderr).transient:
            raise classify(done.stderr)(argv, done.returncode, done.stderr)
    else:
        if any(key not in allowed for key in jobs):
            raise classify(done.stderr)(argv, done.returncode, done.stderr)
    problems = {}
    for key, name in jobs.items():
        if not allowed.get(key, False):
            where = key[1]
            scope = f" in namespace {where}" if where else ""
            problems[name] = (
                f"not allowed to {verb} {name}{scope} (kubectl auth can-i {verb} {name})"
            )
    return problems


def _review_key(resource: str, namespace: str | None) -> tuple[str, str]:
    """How a review and its answer are matched: the resource (``name.group``) and scope."""
    return resource, namespace or ""
