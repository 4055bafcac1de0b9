"""A minimal OpenAPI v3 document per group-version, just enough for kubectl to trust the server.

kubectl downloads ``/openapi/v3`` before ``apply`` and ``--dry-run=server``: when the PATCH
operation of a kind lists the ``fieldValidation`` parameter it sends ``fieldValidation=Strict``
and leaves validation to the server (which we do, with the real schemas), instead of failing
under ``--validate=strict`` for want of a schema.  The PATCH request bodies deliberately omit
``strategic-merge-patch+json``: kubectl then computes client-side apply patches from its
compiled-in Go types, whose merge keys are the real ones, rather than from schemas we would
have to reproduce in full.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubesim.resources import RESOURCES, Resource

JSON = dict[str, Any]

_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
)


def _params(names: tuple[str, ...]) -> list[JSON]:
    return [{"name": n, "in": "query", "schema": {"type": "string"}} for n in names]


def _operation(resource: Resource, action: str, params: tuple[str, ...] = ()) -> JSON:
    operation: JSON = {
        "operationId": f"{action}{resource.kind}",
        "parameters": _params(params),
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
    }
    if action == "patch":
        operation["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in _PATCH_TYPES}
        }
    return operation


def operations(resource: Resource) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """``(path, method, action, query parameters)`` of each operation kubesim serves for a kind.

    One list for both OpenAPI versions, so /openapi/v2 and /openapi/v3 never disagree.
    """
    prefix = f"/apis/{resource.group_version}" if resource.group else "/api/v1"
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    collection = f"{prefix}{scope}/{resource.plural}"
    found = [
        (collection, "get", "list", ()),
        (collection, "post", "post", _WRITE_PARAMS),
    ]
    if not resource.virtual:
        item = collection + "/{name}"
        found += [
            (item, "get", "get", ()),
            (item, "put", "put", _WRITE_PARAMS),
            (item, "patch", "patch", (*_WRITE_PARAMS, "force")),
            (item, "delete", "delete", ("dryRun",)),
        ]
    return found


def _paths(resource: Resource) -> JSON:
    paths: JSON = {}
    for path, method, action, params in operations(resource):
        paths.setdefault(path, {})[method] = _operation(resource, action, params)
    return paths


def _url_key(resource: Resource) -> str:
    return f"apis/{resource.group_version}" if resource.group else "api/v1"


def group_version_document(key: str) -> JSON | None:
    """The OpenAPI document for ``api/v1`` or ``apis/{group}/{version}``, or None."""
    resources = [r for r in RESOURCES if _url_key(r) == key]
    if not resources:
        return None
    paths: JSON = {}
    for resource in resources:
        paths.update(_paths(resource))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "components": {"schemas": {}},
    }


def root_document() -> JSON:
    """``/openapi/v3``: where each group-version's document lives, addressed by content hash."""
    paths: JSON = {}
    for key in dict.fromkeys(_url_key(r) for r in RESOURCES):
        document = json.dumps(group_version_document(key), sort_keys=True).encode()
        digest = hashlib.sha512(document).hexdigest()[:128].upper()
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
    return {"paths": paths}
