"""Map a request path to the resource, namespace, name and subresource it addresses."""

from __future__ import annotations

from dataclasses import dataclass

from kubesim.errors import ApiError
from kubesim.resources import Resource, lookup


@dataclass(frozen=True)
class Target:
    """What a resource request is about; an empty ``name`` addresses the collection."""

    resource: Resource
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @property
    def is_collection(self) -> bool:
        return not self.name


def _not_found(path: str) -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def parse_resource_path(path: str) -> Target | None:
    """``/apis/apps/v1/namespaces/asky/deployments/auth/status`` → Target; None if no resource.

    Raises ApiError 404 for a path under a served prefix that names nothing we serve, as the
    apiserver does.
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace = ""
    # /namespaces/{ns}/{resource}/... addresses namespaced content; /namespaces/{name}/status
    # and /finalize are subresources of the Namespace itself.
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    resource = lookup(group, version, rest[0])
    if resource is None or len(rest) > 3 or (namespace and not resource.namespaced):
        raise _not_found(path)
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if subresource and resource.subresource(subresource) is None:
        raise _not_found(path)
    return Target(resource, namespace, name, subresource)
