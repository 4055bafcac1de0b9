"""``/openapi/v2``: the Swagger 2.0 document, as JSON or as the protobuf kubectl asks for.

kubectl 1.28 downloads it before every validated ``apply``/``create`` (its ``Validator`` in
kubectl's pkg/cmd/util/factory_client_access.go parses the v2 schema eagerly), and every later
version downloads it to validate a ``v1 List`` on the client (cli-runtime's
pkg/resource/query_param_verifier_v3.go sends a List there).  A real kube-apiserver serves it
(kube-openapi pkg/handler/handler.go): JSON by default, and the gnostic ``openapi_v2.Document``
protobuf for ``application/com.github.proto-openapi.spec.v2@v1.0+protobuf``, the Accept header of
client-go's ``OpenAPISchema``, which decodes nothing else.

Like the v3 documents (openapi.py) it lists the operations and their query parameters, with
``fieldValidation`` on every PATCH so the v2 verifier leaves validation to the server, and no
definitions: kubectl validates nothing on the client for a kind it has no schema for.
"""

from __future__ import annotations

from typing import Any

from kubesim.media import media_types
from kubesim.openapi import operations
from kubesim.protobuf import encode_field as _field
from kubesim.resources import RESOURCES, Resource

JSON = dict[str, Any]

PROTOBUF_TYPES = (
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
)
#: What kube-openapi answers protobuf with (the deprecated ``@`` spelling is only accepted).
PROTOBUF_CONTENT_TYPE = PROTOBUF_TYPES[1]
_GVK_EXTENSION = "x-kubernetes-group-version-kind"


def wants_protobuf(accept: str) -> bool:
    return any(media in PROTOBUF_TYPES for media, _ in media_types(accept))


def _operation(resource: Resource, action: str, params: tuple[str, ...]) -> JSON:
    return {
        "operationId": f"{action}{resource.kind}",
        "consumes": ["*/*"],
        "produces": ["application/json"],
        "parameters": [{"name": n, "in": "query", "type": "string"} for n in params],
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        _GVK_EXTENSION: {
            "group": resource.group,
            "kind": resource.kind,
            "version": resource.version,
        },
    }


def document() -> JSON:
    """The Swagger 2.0 document of every resource kubesim serves."""
    paths: JSON = {}
    for resource in RESOURCES:
        for path, method, action, params in operations(resource):
            paths.setdefault(path, {})[method] = _operation(resource, action, params)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": paths,
        "definitions": {},
    }


# -- protobuf (gnostic-models openapiv2/OpenAPIv2.proto field numbers) -------------------------


def _yaml_scalar_map(value: JSON) -> str:
    """gnostic keeps vendor extensions as YAML text (``Any.yaml``); these are flat maps."""
    empty = '""'
    return "".join(f"{key}: {value[key] or empty}\n" for key in sorted(value))


def _operation_message(operation: JSON) -> bytes:
    out = _field(5, operation["operationId"])  # operation_id
    out += b"".join(_field(6, t) for t in operation["produces"])  # produces
    out += b"".join(_field(7, t) for t in operation["consumes"])  # consumes
    for param in operation["parameters"]:
        # QueryParameterSubSchema: in = 2, name = 4, type = 6
        query = _field(2, param["in"]) + _field(4, param["name"]) + _field(6, param["type"])
        # ParametersItem.parameter(1) > Parameter.non_body_parameter(2) >
        # NonBodyParameter.query_parameter_sub_schema(3)
        out += _field(8, _field(1, _field(2, _field(3, query))))
    for code, response in operation["responses"].items():
        # Responses.response_code(1) > NamedResponseValue{name 1, value 2} >
        # ResponseValue.response(1) > Response.description(1)
        value = _field(1, _field(1, response["description"]))
        out += _field(9, _field(1, _field(1, code) + _field(2, value)))
    for name in ("x-kubernetes-action", _GVK_EXTENSION):
        raw = operation[name]
        text = _yaml_scalar_map(raw) if isinstance(raw, dict) else f"{raw}\n"
        # NamedAny{name 1, value 2 > Any.yaml(2)}
        out += _field(13, _field(1, name) + _field(2, _field(2, text)))
    return out


_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}  # PathItem fields


def encode(doc: JSON) -> bytes:
    """``doc`` (as made by ``document()``) as a serialized gnostic ``openapi_v2.Document``."""
    info = _field(1, doc["info"]["title"]) + _field(2, doc["info"]["version"])
    paths = b""
    for path, item in doc["paths"].items():
        methods = b"".join(
            _field(_METHODS[method], _operation_message(operation))
            for method, operation in item.items()
        )
        paths += _field(2, _field(1, path) + _field(2, methods))  # Paths.path > NamedPathItem
    # Document: swagger 1, info 2, paths 8, definitions 9 (empty)
    return _field(1, doc["swagger"]) + _field(2, info) + _field(8, paths) + _field(9, b"")
