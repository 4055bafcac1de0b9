"""API errors as the apiserver reports them: a ``Status`` object with code, reason and message.

kubectl prints ``Error from server (<reason>): <message>`` and decides retries and exit codes
from these fields, so the texts follow the apiserver's own wording.
"""

from __future__ import annotations

from typing import Any

from kubesim.resources import Resource

JSON = dict[str, Any]


class ApiError(Exception):
    """An answer other than success; ``status()`` is the body the apiserver would send."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: JSON | None = None,
        headers: dict[str, str] | None = None,
        *,
        plain: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        # Answered as text/plain ``message``, as the apiserver's HTTP filters (not its
        # handlers) answer: clients then derive reason and message from the code alone.
        self.plain = plain

    def status(self) -> JSON:
        body: JSON = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details is not None:
            body["details"] = self.details
        if not self.reason:
            del body["reason"]  # an internal error the apiserver does not classify
        return body


def _details(resource: Resource, name: str, **extra: Any) -> JSON:
    details: JSON = {"name": name, "kind": resource.plural}
    if resource.group:
        details["group"] = resource.group
    details.update(extra)
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(
        404, "NotFound", f'{resource.qualified} "{name}" not found', _details(resource, name)
    )


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{resource.qualified} "{name}" already exists',
        _details(resource, name),
    )


def conflict(resource: Resource, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
        _details(resource, name),
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(resource: Resource, name: str, verb: str, namespace: str, why: str) -> ApiError:
    """A refused request; the message names the user, verb and scope as RBAC's does."""
    target = f'{resource.qualified} "{name}"' if name else resource.qualified
    return ApiError(403, "Forbidden", f"{target} is forbidden: {why}", _details(resource, name))


def rbac_forbidden(
    resource: Resource, name: str, verb: str, namespace: str, user: str, requested: str = ""
) -> ApiError:
    """The authorization filter's 403; ``requested`` is ``pods/log`` for a subresource."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    group = f'in API group "{resource.group}"'
    why = f'User "{user}" cannot {verb} resource "{requested or resource.plural}" {group} {scope}'
    return forbidden(resource, name, verb, namespace, why)


def namespace_terminating(resource: Resource, name: str, namespace: str) -> ApiError:
    error = forbidden(
        resource,
        name,
        "create",
        namespace,
        f"unable to create new content in namespace {namespace} because it is being terminated",
    )
    assert error.details is not None
    error.details["causes"] = [
        {
            "reason": "NamespaceTerminating",
            "message": f"namespace {namespace} is being terminated",
            "field": "metadata.namespace",
        }
    ]
    return error


def method_not_allowed() -> ApiError:
    return ApiError(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(content_type: str) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json, application/yaml, application/vnd.kubernetes.protobuf "
        f'(got "{content_type}")',
    )
