"""Request validation with the apiserver's own error texts.

Users (and our tests) read these messages through kubectl: ``strict decoding error: unknown field
"spec.template.spec.containers[0].imagePullPolcy"`` for a typo under ``fieldValidation=Strict``,
``Deployment.apps "auth" is invalid: ...`` for a 422.  Unknown fields are found with the real
OpenAPI schemas of the reported Kubernetes version that kubernetes-validate ships; the 422 checks
are a small, certain subset of pkg/apis/*/validation, worded as there.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from kubesim.errors import ApiError
from kubesim.list_semantics import list_semantics
from kubesim.patch import go_repr

JsonDict = dict[str, Any]

_DEFINITIONS_REF = "#/$defs/"


# --------------------------------------------------------------------------- schemas


@functools.lru_cache(maxsize=4)
def _definitions(version: str) -> dict[str, JsonDict]:
    """The OpenAPI definitions of Kubernetes ``version`` ("1.37" or "v1.37.2"), loaded once
    (about 2 MB of JSON, a few milliseconds)."""
    minor = ".".join(version.lstrip("v").split(".")[:2])
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / f"v{minor}.0-local-strict" / "_definitions.json").read_text()
    definitions: dict[str, JsonDict] = json.loads(text)["$defs"]
    return definitions


@functools.lru_cache(maxsize=256)
def _kind_schema(version: str, api_version: str, kind: str) -> str | None:
    group, _, gv_version = api_version.rpartition("/")
    for name, schema in _definitions(version).items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            if (gvk.get("group"), gvk.get("version"), gvk.get("kind")) == (
                group,
                gv_version,
                kind,
            ):
                return name
    return None


def _resolve(schema: JsonDict, definitions: dict[str, JsonDict]) -> JsonDict:
    while "$ref" in schema:
        schema = definitions[schema["$ref"].split(_DEFINITIONS_REF, 1)[1]]
    return schema


Segment = str | tuple[int, Any]


def _undeclared(
    value: Any, schema: JsonDict, definitions: dict[str, JsonDict], trail: tuple[Segment, ...]
) -> Iterator[tuple[Segment, ...]]:
    """Trails (field names, and (index, item) for list items) to fields the schema lacks."""
    schema = _resolve(schema, definitions)
    if isinstance(value, dict):
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for name, child in value.items():
            if properties is not None and name in properties:
                yield from _undeclared(child, properties[name], definitions, (*trail, name))
            elif isinstance(extra, dict):
                yield from _undeclared(child, extra, definitions, (*trail, name))
            elif properties is not None or extra is False:
                yield (*trail, name)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            yield from _undeclared(item, schema["items"], definitions, (*trail, (index, item)))


def _undeclared_in(obj: JsonDict, version: str) -> list[tuple[Segment, ...]]:
    name = _kind_schema(version, obj.get("apiVersion", ""), obj.get("kind", ""))
    if name is None:
        return []
    definitions = _definitions(version)
    return list(_undeclared(obj, definitions[name], definitions, ()))


def _decoder_path(trail: tuple[Segment, ...]) -> str:
    """``spec.containers[0].imagePullPolcy``, as sigs.k8s.io/json names a field."""
    text = ""
    for segment in trail:
        if isinstance(segment, str):
            text += f".{segment}" if text else segment
        else:
            text += f"[{segment[0]}]"
    return text


def _typed_path(trail: tuple[Segment, ...], kind: str) -> str:
    """``.spec.containers[name="app"].imagePullPolcy``, as structured-merge-diff names it."""
    text = ""
    names: tuple[str, ...] = ()
    for segment in trail:
        if isinstance(segment, str):
            text += f".{segment}"
            names = (*names, segment)
            continue
        index, item = segment
        keys = [
            k for k in list_semantics(kind, names).map_keys if isinstance(item, dict) and k in item
        ]
        if keys:
            text += "[" + ",".join(f"{k}={json.dumps(item[k])}" for k in keys) + "]"
        else:
            text += f"[{index}]"
    return text


def unknown_fields(obj: JsonDict, version: str) -> list[str]:
    """Fields of ``obj`` its kind's schema does not declare, in document order, as the
    apiserver's strict decoder names them (``spec.template.spec.containers[0].imagePullPolcy``).
    A kind the schemas do not know has none."""
    return [_decoder_path(trail) for trail in _undeclared_in(obj, version)]


def duplicate_fields(raw_json: bytes) -> list[str]:
    """Keys repeated within one JSON object, as ``duplicate field "spec.replicas"`` names them."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, _Pairs):
            seen: set[str] = set()
            for name, child in value:
                child_path = f"{path}.{name}" if path else name
                if name in seen and child_path not in found:
                    found.append(child_path)
                seen.add(name)
                walk(child, child_path)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    walk(json.loads(raw_json, object_pairs_hook=_Pairs), "")
    return found


class _Pairs(list[tuple[str, Any]]):
    """A JSON object kept as its key/value pairs, duplicates included."""


# --------------------------------------------------------------------------- strict decoding


def strict_decoding_error(unknown: Sequence[str], duplicates: Sequence[str] = ()) -> str:
    """``strict decoding error: unknown field "a", duplicate field "b"`` (sigs.k8s.io/json)."""
    parts = [f'unknown field "{path}"' for path in unknown]
    parts += [f'duplicate field "{path}"' for path in duplicates]
    return "strict decoding error: " + ", ".join(parts)


def cannot_handle(kind: str, api_version: str, detail: str) -> ApiError:
    """400 for a create/update body the decoder rejects (strict errors, bad quantities):
    ``Deployment in version "v1" cannot be handled as a Deployment: <detail>``."""
    version = api_version.rpartition("/")[2]
    message = f"{kind} in version {json.dumps(version)} cannot be handled as a {kind}: {detail}"
    return ApiError(400, "BadRequest", message)


def strict_decoding_failure(
    kind: str, api_version: str, paths: Sequence[str], operation: str, *, patch: Any = None
) -> ApiError:
    """The error fieldValidation=Strict gives for unknown ``paths``, which depends on the verb:
    create/update: 400 ``<Kind> in version "v1" cannot be handled as a <Kind>: strict decoding
    error: unknown field "spec.foo"``; patch (strategic/merge/JSON): 422 on the field ``patch``,
    the decoded ``patch`` printed as Go's ``%+v``.  (Apply is ``typed_patch_error``.)"""
    detail = strict_decoding_error(paths)
    if operation != "patch":
        return cannot_handle(kind, api_version, detail)
    error = FieldError("FieldValueInvalid", "patch", go_repr(patch or {}), detail)
    return ApiError(422, "Invalid", f' "" is invalid: {error}', {"causes": [error.cause()]})


def strict_decoding_message(
    kind: str, api_version: str, paths: Sequence[str], operation: str, *, patch: Any = None
) -> str:
    """The message of ``strict_decoding_failure``."""
    return strict_decoding_failure(kind, api_version, paths, operation, patch=patch).message


def typed_patch_error(obj: JsonDict, version: str) -> ApiError | None:
    """500 for a server-side apply body with undeclared fields, whatever fieldValidation says:
    ``failed to create typed patch object (ns/name; apps/v1, Kind=Deployment): .spec.foo:
    field not declared in schema`` (list items named by key, as structured-merge-diff does)."""
    kind = obj.get("kind", "")
    errors = [
        f"{_typed_path(trail, kind)}: field not declared in schema"
        for trail in _undeclared_in(obj, version)
    ]
    if not errors:
        return None
    metadata = _map(obj.get("metadata"))
    target = f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
    group_version = obj.get("apiVersion", "")
    if "/" not in group_version:
        group_version = "/" + group_version
    text = errors[0] if len(errors) == 1 else "errors:\n  " + "\n  ".join(errors)
    message = (
        f"failed to create typed patch object ({target}; {group_version}, Kind={kind}): {text}"
    )
    return ApiError(500, "", message)


# --------------------------------------------------------------------------- 422 Invalid


@dataclass(frozen=True)
class FieldError:
    """One field.Error of k8s.io/apimachinery: ``type`` is the cause reason
    (FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate,
    FieldValueForbidden)."""

    type: str
    field: str
    value: Any = ""
    detail: str = ""

    def body(self) -> str:
        """The error without its field: what a Status cause's message says."""
        label = {
            "FieldValueRequired": "Required value",
            "FieldValueInvalid": "Invalid value",
            "FieldValueNotSupported": "Unsupported value",
            "FieldValueDuplicate": "Duplicate value",
            "FieldValueForbidden": "Forbidden",
        }[self.type]
        bare = self.type in ("FieldValueRequired", "FieldValueForbidden")
        text = label if bare else f"{label}: {_go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def cause(self) -> JsonDict:
        return {"reason": self.type, "message": self.body(), "field": self.field}


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        # Kubernetes 1.36 renders composite values with json.Marshal, keys sorted
        # (k8s.io/apimachinery pkg/util/validation/field/errors.go, ErrorBody).
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return str(value)


_GROUP_BY_KIND = {
    **dict.fromkeys(("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"), "apps"),
    **dict.fromkeys(("NetworkPolicy", "Ingress"), "networking.k8s.io"),
    "PodDisruptionBudget": "policy",
    "Job": "batch",
    "CronJob": "batch",
    "StorageClass": "storage.k8s.io",
    "ListOptions": "meta.k8s.io",
    "DeleteOptions": "meta.k8s.io",
}


def invalid_failure(kind: str, name: str, errors: Sequence[FieldError]) -> ApiError:
    """The 422 Status for ``errors``: ``Deployment.apps "auth" is invalid: <errors>``, one
    error bare, several as ``[a, b]``, repeated texts once, a cause per error."""
    texts: list[str] = []
    kept: list[FieldError] = []
    for error in errors:
        if str(error) not in texts:
            texts.append(str(error))
            kept.append(error)
    listed = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    group = _GROUP_BY_KIND.get(kind, "")
    qualified = f"{kind}.{group}" if group else kind
    details: JsonDict = {"kind": kind, "causes": [e.cause() for e in kept]}
    if name:
        details["name"] = name  # omitempty in StatusDetails
    if group:
        details["group"] = group
    return ApiError(422, "Invalid", f"{qualified} {json.dumps(name)} is invalid: {listed}", details)


def invalid_message(kind: str, name: str, errors: Sequence[FieldError]) -> str:
    """The message of ``invalid_failure``."""
    return invalid_failure(kind, name, errors).message


_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*"
_DNS1035_LABEL = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = f"({_QUALIFIED_NAME})?"
_QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

_NAME_RULES = {
    "subdomain": (
        _DNS1123_SUBDOMAIN,
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character (e.g. "
        "'example.com', regex used for validation is '" + _DNS1123_SUBDOMAIN + "')",
    ),
    "label": (
        _DNS1123_LABEL,
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
        "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
        "'123-abc', regex used for validation is '" + _DNS1123_LABEL + "')",
    ),
    "dns1035": (
        _DNS1035_LABEL,
        63,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start "
        "with an alphabetic character, and end with an alphanumeric character (e.g. "
        "'my-name',  or 'abc-123', regex used for validation is '" + _DNS1035_LABEL + "')",
    ),
}
_NAME_RULE_BY_KIND = {"Service": "dns1035", "Namespace": "label"}
_NAME_PART_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '" + _QUALIFIED_NAME + "')"
)
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is '" + _LABEL_VALUE + "')"
)
_PORT_RANGE = "must be between 1 and 65535, inclusive"
_PROTOCOLS = ["SCTP", "TCP", "UDP"]
_SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
_PULL_POLICIES = ["Always", "IfNotPresent", "Never"]
_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
_NODE_PORTS = range(30000, 32768)
_WORKLOADS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet")


def _map(value: Any) -> JsonDict:
    return value if isinstance(value, dict) else {}


def _full(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def quantity_error(obj: JsonDict) -> str | None:
    """The decoder's complaint about the first malformed resource quantity, if any (a 400
    ``cannot be handled`` error, not a 422: quantities fail while decoding)."""
    for quantity in _quantities(obj):
        if not isinstance(quantity, (int, float)) and not re.match(_QUANTITY, str(quantity)):
            return f"quantities must match the regular expression '{_QUANTITY}'"
    return None


def _quantities(value: Any, key: str = "") -> Iterator[Any]:
    if isinstance(value, dict):
        for name, child in value.items():
            if name in ("requests", "limits", "capacity") and isinstance(child, dict):
                yield from child.values()
            else:
                yield from _quantities(child, name)
    elif isinstance(value, list):
        for item in value:
            yield from _quantities(item, key)


def invalid(obj: JsonDict) -> list[FieldError]:
    """The 422 errors the apiserver would report for ``obj`` (a subset we rely on)."""
    kind = obj.get("kind", "")
    errors = _metadata_errors(obj.get("metadata") or {}, kind, "metadata")
    spec = _map(obj.get("spec"))
    if kind in _WORKLOADS:
        errors += _workload_errors(spec, kind)
    elif kind == "Pod":
        errors += _pod_spec_errors(spec, "spec")
    elif kind == "Service":
        errors += _service_errors(spec)
    elif kind == "PersistentVolumeClaim":
        errors += _claim_errors(spec)
    elif kind == "PersistentVolume":
        errors += _volume_errors(spec)
    return errors


def invalid_update(old: JsonDict, new: JsonDict) -> list[FieldError]:
    """The update-only 422s we rely on: a Deployment's or ReplicaSet's ``spec.selector`` is
    immutable in apps/v1 (pkg/apis/apps/validation: ValidateDeploymentUpdate and
    ValidateReplicaSetUpdate call ValidateImmutableField on it)."""
    if new.get("kind") not in ("Deployment", "ReplicaSet"):
        return []
    selector = _map(new.get("spec")).get("selector")
    if selector == _map(old.get("spec")).get("selector"):
        return []
    return [FieldError("FieldValueInvalid", "spec.selector", selector, "field is immutable")]


def _name_errors(name: Any, rule: str, field: str) -> list[FieldError]:
    pattern, limit, message = _NAME_RULES[rule]
    out: list[FieldError] = []
    if len(name) > limit:
        out.append(
            FieldError("FieldValueInvalid", field, name, f"must be no more than {limit} characters")
        )
    if not _full(pattern, name):
        out.append(FieldError("FieldValueInvalid", field, name, message))
    return out


def _metadata_errors(metadata: JsonDict, kind: str, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    name = metadata.get("name")
    if path == "metadata":
        if not name and not metadata.get("generateName"):
            detail = "name or generateName is required"
            errors.append(FieldError("FieldValueRequired", f"{path}.name", "", detail))
        elif name:
            errors += _name_errors(name, _NAME_RULE_BY_KIND.get(kind, "subdomain"), f"{path}.name")
    for key, value in (metadata.get("labels") or {}).items():
        errors += _key_errors(key, f"{path}.labels")
        if not isinstance(value, str) or not _full(_LABEL_VALUE, value) or len(value) > 63:
            too_long = len(str(value)) > 63
            detail = "must be no more than 63 characters" if too_long else _LABEL_VALUE_MESSAGE
            errors.append(FieldError("FieldValueInvalid", f"{path}.labels", value, detail))
    for key in metadata.get("annotations") or {}:
        errors += _key_errors(key, f"{path}.annotations")
    return errors


def _key_errors(key: str, field: str) -> list[FieldError]:
    """Label and annotation keys: an optional DNS-subdomain prefix, then a qualified name."""
    prefix, _, name = key.rpartition("/")
    errors: list[FieldError] = []
    if prefix and (len(prefix) > 253 or not _full(_DNS1123_SUBDOMAIN, prefix)):
        detail = "prefix part " + _NAME_RULES["subdomain"][2]
        errors.append(FieldError("FieldValueInvalid", field, key, detail))
    if not name:
        errors.append(FieldError("FieldValueInvalid", field, key, "name part must be non-empty"))
    elif len(name) > 63:
        detail = "name part must be no more than 63 characters"
        errors.append(FieldError("FieldValueInvalid", field, key, detail))
    elif not _full(_QUALIFIED_NAME, name):
        errors.append(FieldError("FieldValueInvalid", field, key, _NAME_PART_MESSAGE))
    return errors


def _workload_errors(spec: JsonDict, kind: str) -> list[FieldError]:
    errors: list[FieldError] = []
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        detail = "must be greater than or equal to 0"
        errors.append(FieldError("FieldValueInvalid", "spec.replicas", replicas, detail))
    selector = spec.get("selector")
    template = _map(spec.get("template"))
    if kind != "DaemonSet" and not selector and selector != {}:
        errors.append(FieldError("FieldValueRequired", "spec.selector"))
    labels = (template.get("metadata") or {}).get("labels") or {}
    if isinstance(selector, dict) and selector and not _selector_matches(selector, labels):
        detail = "`selector` does not match template `labels`"
        errors.append(
            FieldError("FieldValueInvalid", "spec.template.metadata.labels", labels, detail)
        )
    errors += _metadata_errors(template.get("metadata") or {}, "", "spec.template.metadata")
    errors += _pod_spec_errors(template.get("spec") or {}, "spec.template.spec")
    return errors


def _selector_matches(selector: JsonDict, labels: JsonDict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator = requirement.get("key"), requirement.get("operator")
        values = requirement.get("values") or []
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _pod_spec_errors(spec: JsonDict, path: str) -> list[FieldError]:
    containers = spec.get("containers")
    if not containers:
        return [FieldError("FieldValueRequired", f"{path}.containers")]
    errors: list[FieldError] = []
    seen: set[str] = set()
    for list_name in ("initContainers", "containers"):
        for index, container in enumerate(spec.get(list_name) or []):
            where = f"{path}.{list_name}[{index}]"
            errors += _container_errors(container, where, seen)
    return errors


def _container_errors(container: JsonDict, path: str, seen: set[str]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = container.get("name")
    if not name:
        errors.append(FieldError("FieldValueRequired", f"{path}.name"))
    else:
        errors += _name_errors(name, "label", f"{path}.name")
        if name in seen:
            errors.append(FieldError("FieldValueDuplicate", f"{path}.name", name))
        seen.add(name)
    image = container.get("image")
    if not image:
        errors.append(FieldError("FieldValueRequired", f"{path}.image"))
    elif image != image.strip():
        detail = "must not have leading or trailing whitespace"
        errors.append(FieldError("FieldValueInvalid", f"{path}.image", image, detail))
    policy = container.get("imagePullPolicy")
    if policy and policy not in _PULL_POLICIES:
        errors.append(
            FieldError(
                "FieldValueNotSupported",
                f"{path}.imagePullPolicy",
                policy,
                _supported(_PULL_POLICIES),
            )
        )
    for index, port in enumerate(container.get("ports") or []):
        errors += _port_errors(port, f"{path}.ports[{index}]", "containerPort")
    for probe_name in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = container.get(probe_name)
        handlers = ("exec", "httpGet", "tcpSocket", "grpc")
        if isinstance(probe, dict) and not any(probe.get(h) for h in handlers):
            detail = "must specify a handler type"
            errors.append(FieldError("FieldValueRequired", f"{path}.{probe_name}", "", detail))
    return errors


def _supported(values: list[str]) -> str:
    return "supported values: " + ", ".join(json.dumps(v) for v in values)


def _port_errors(port: JsonDict, path: str, number_field: str) -> list[FieldError]:
    errors: list[FieldError] = []
    number = port.get(number_field)
    if not number:
        errors.append(FieldError("FieldValueRequired", f"{path}.{number_field}"))
    elif not isinstance(number, int) or not 1 <= number <= 65535:
        errors.append(
            FieldError("FieldValueInvalid", f"{path}.{number_field}", number, _PORT_RANGE)
        )
    protocol = port.get("protocol")
    if protocol and protocol not in _PROTOCOLS:
        errors.append(
            FieldError(
                "FieldValueNotSupported", f"{path}.protocol", protocol, _supported(_PROTOCOLS)
            )
        )
    return errors


def _service_errors(spec: JsonDict) -> list[FieldError]:
    kind = spec.get("type") or "ClusterIP"
    if kind not in _SERVICE_TYPES:
        return [FieldError("FieldValueNotSupported", "spec.type", kind, _supported(_SERVICE_TYPES))]
    ports = spec.get("ports") or []
    if kind == "ExternalName":
        return []
    if not ports:
        return [FieldError("FieldValueRequired", "spec.ports")]
    errors: list[FieldError] = []
    names: set[str] = set()
    for index, port in enumerate(ports):
        path = f"spec.ports[{index}]"
        name = port.get("name")
        if len(ports) > 1 and not name:
            errors.append(FieldError("FieldValueRequired", f"{path}.name"))
        elif name in names:
            errors.append(FieldError("FieldValueDuplicate", f"{path}.name", name))
        if name:
            names.add(name)
        errors += _port_errors(port, path, "port")
        node_port = port.get("nodePort")
        if node_port and node_port not in _NODE_PORTS:
            detail = "provided port is not in the valid range. The range of valid ports is "
            detail += "30000-32767"
            errors.append(FieldError("FieldValueInvalid", f"{path}.nodePort", node_port, detail))
    return errors


def _access_mode_errors(spec: JsonDict) -> list[FieldError]:
    modes = spec.get("accessModes") or []
    if not modes:
        detail = "at least 1 access mode is required"
        return [FieldError("FieldValueRequired", "spec.accessModes", "", detail)]
    return [
        FieldError("FieldValueNotSupported", "spec.accessModes", mode, _supported(_ACCESS_MODES))
        for mode in modes
        if mode not in _ACCESS_MODES
    ]


def _claim_errors(spec: JsonDict) -> list[FieldError]:
    errors = _access_mode_errors(spec)
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        errors.append(FieldError("FieldValueRequired", "spec.resources[storage]"))
    return errors


def _volume_errors(spec: JsonDict) -> list[FieldError]:
    errors = _access_mode_errors(spec)
    if not spec.get("capacity"):
        errors.append(FieldError("FieldValueRequired", "spec.capacity"))
    return errors
