"""Discovery documents (`/api`, `/apis`, per group-version lists, `/version`) built from the table.

kubectl asks for the aggregated form (``apidiscovery.k8s.io/v2``) first and falls back to the
legacy per-group documents, so both are served; the aggregated answer saves kubectl one request
per group-version on a cold cache.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from typing import Any

from kubesim.media import media_types
from kubesim.resources import GROUP_ORDER, RESOURCES, Resource

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

JSON = dict[str, Any]


def version_info(git_version: str) -> JSON:
    """The `/version` document; kubectl compares its minor with its own for the skew warning."""
    major, minor = git_version.lstrip("v").split(".")[:2]
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "minCompatibilityMajor": major,
        "minCompatibilityMinor": str(max(int(minor) - 1, 0)),
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def _in_group(group: str) -> list[Resource]:
    """A group's resources sorted by plural, the order the apiserver lists them in."""
    return sorted((r for r in RESOURCES if r.group == group), key=lambda r: r.plural)


def storage_version_hash(resource: Resource) -> str:
    """The apiserver's ``storageVersionHash``: base64 of the first 8 bytes of SHA-256 of the
    stored ``group/version/kind``; clients only compare it, but it should be the real value."""
    version = resource.storage_version or resource.version
    digest = hashlib.sha256(f"{resource.group}/{version}/{resource.kind}".encode())
    return base64.b64encode(digest.digest()[:8]).decode()


def legacy_api_versions(server_address: str) -> JSON:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group_entry(group: str) -> JSON:
    version = _in_group(group)[0].version
    group_version = {"groupVersion": f"{group}/{version}", "version": version}
    return {"name": group, "versions": [group_version], "preferredVersion": group_version}


def api_group_list() -> JSON:
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_entry(group) for group in GROUP_ORDER],
    }


def _names(resource: Resource) -> JSON:
    """shortNames and categories, in both discovery formats, each only when there are some."""
    names: JSON = {}
    if resource.short_names:
        names["shortNames"] = list(resource.short_names)
    if resource.categories:
        names["categories"] = list(resource.categories)
    return names


def _legacy_entries(resource: Resource) -> Iterable[JSON]:
    entry: JSON = {
        "name": resource.plural,
        "singularName": resource.singular_name,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": list(resource.verbs),
        **_names(resource),
    }
    if not resource.virtual:
        entry["storageVersionHash"] = storage_version_hash(resource)
    yield entry
    for sub in sorted(resource.subresources, key=lambda s: s.name):
        sub_entry: JSON = {
            "name": f"{resource.plural}/{sub.name}",
            "singularName": "",
            "namespaced": resource.namespaced,
            "kind": sub.kind or resource.kind,
            "verbs": list(sub.verbs),
        }
        if sub.group is not None:
            sub_entry["group"] = sub.group
            sub_entry["version"] = sub.version
        yield sub_entry


def api_resource_list(group: str, version: str) -> JSON | None:
    """The legacy APIResourceList of one group-version, or None when it is not served."""
    resources = [r for r in _in_group(group) if r.version == version]
    if not resources:
        return None
    listing: JSON = {
        "kind": "APIResourceList",
        "groupVersion": resources[0].group_version,
        "resources": [entry for r in resources for entry in _legacy_entries(r)],
    }
    if group:
        # The core group's handler sends no apiVersion here; named groups' handlers do.
        listing["apiVersion"] = "v1"
    return listing


def _aggregated_resource(resource: Resource) -> JSON:
    entry: JSON = {
        "resource": resource.plural,
        "responseKind": {"group": "", "version": "", "kind": resource.kind},
        "scope": "Namespaced" if resource.namespaced else "Cluster",
        "singularResource": resource.singular_name,
        "verbs": list(resource.verbs),
        **_names(resource),
    }
    if resource.subresources:
        entry["subresources"] = [
            {
                "subresource": sub.name,
                "responseKind": {
                    "group": sub.group or "",
                    "version": sub.version or "",
                    "kind": sub.kind or resource.kind,
                },
                "verbs": list(sub.verbs),
            }
            for sub in sorted(resource.subresources, key=lambda s: s.name)
        ]
    return entry


def _aggregated_group(group: str) -> JSON:
    resources = _in_group(group)
    return {
        "metadata": {"name": group} if group else {},
        "versions": [
            {
                "version": resources[0].version,
                "resources": [_aggregated_resource(r) for r in resources],
                "freshness": "Current",
            }
        ],
    }


def aggregated_discovery(core: bool) -> JSON:
    """The ``APIGroupDiscoveryList`` kubectl gets for `/api` (core) or `/apis` (named groups)."""
    groups = [""] if core else list(GROUP_ORDER)
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": [_aggregated_group(group) for group in groups],
    }


def wants_aggregated(accept: str) -> bool:
    """Whether the client listed the aggregated v2 form (kubectl does, ahead of plain JSON)."""
    return any(
        params.get("as") == "APIGroupDiscoveryList" and params.get("v") == "v2"
        for _, params in media_types(accept)
    )
