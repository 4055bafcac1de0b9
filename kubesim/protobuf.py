"""Decode the protobuf bodies kubectl POSTs for ``create namespace|configmap|secret``.

kubectl's typed clients send ``application/vnd.kubernetes.protobuf`` and never retry as JSON, so a
server that only speaks JSON cannot run ``kubectl create namespace``.  The envelope is the magic
``k8s\\x00`` followed by a ``runtime.Unknown`` message whose ``raw`` field holds the object.  We
decode only the kinds kubectl creates this way, into the JSON form the rest of kubesim stores;
unknown fields are skipped by wire type, as any protobuf reader must.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAGIC = b"k8s\x00"

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


class ProtobufDecodeError(ValueError):
    """The body is not a protobuf object kubesim can read; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Field:
    number: int
    wire_type: int
    value: int | bytes


def encode_varint(value: int) -> bytes:
    """``value`` as a protobuf base-128 varint."""
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def encode_field(number: int, payload: bytes | int | str) -> bytes:
    """One field: a varint for an int, else length-delimited (a string or a sub-message)."""
    if isinstance(payload, int):
        return encode_varint(number << 3) + encode_varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return encode_varint(number << 3 | _LENGTH_DELIMITED) + encode_varint(len(data)) + data


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufDecodeError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise ProtobufDecodeError("varint longer than 10 bytes")


def _fields(data: bytes) -> list[_Field]:
    """Split one message into its fields, in wire order."""
    fields: list[_Field] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufDecodeError("field number 0 is invalid")
        value: int | bytes
        if wire_type == _VARINT:
            value, pos = _varint(data, pos)
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            if pos + size > len(data):
                raise ProtobufDecodeError("truncated fixed-width field")
            value, pos = data[pos : pos + size], pos + size
        elif wire_type == _LENGTH_DELIMITED:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ProtobufDecodeError(f"field {number} claims {size} bytes past the end")
            value, pos = data[pos : pos + size], pos + size
        else:
            raise ProtobufDecodeError(f"unsupported wire type {wire_type} for field {number}")
        fields.append(_Field(number, wire_type, value))
    return fields


def _bytes(field: _Field) -> bytes:
    if not isinstance(field.value, bytes) or field.wire_type != _LENGTH_DELIMITED:
        raise ProtobufDecodeError(f"field {field.number} should be length-delimited")
    return field.value


def _text(field: _Field) -> str:
    try:
        return _bytes(field).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtobufDecodeError(f"field {field.number} is not UTF-8: {error}") from None


def _int(field: _Field) -> int:
    if not isinstance(field.value, int):
        raise ProtobufDecodeError(f"field {field.number} should be a varint")
    return field.value


def _map_entry(field: _Field) -> tuple[str, bytes]:
    key, value = "", b""
    for entry_field in _fields(_bytes(field)):
        if entry_field.number == 1:
            key = _text(entry_field)
        elif entry_field.number == 2:
            value = _bytes(entry_field)
    return key, value


def _string_map(fields: list[_Field], number: int) -> dict[str, str]:
    result: dict[str, str] = {}
    for field in fields:
        if field.number == number:
            key, value = _map_entry(field)
            try:
                result[key] = value.decode("utf-8")
            except UnicodeDecodeError:
                raise ProtobufDecodeError(f"map value for {key!r} is not UTF-8") from None
    return result


def _bytes_map_as_base64(fields: list[_Field], number: int) -> dict[str, str]:
    """map<string, bytes> in its JSON form: values base64-encoded, as []byte marshals."""
    result: dict[str, str] = {}
    for field in fields:
        if field.number == number:
            key, value = _map_entry(field)
            result[key] = base64.b64encode(value).decode("ascii")
    return result


def _strings(fields: list[_Field], number: int) -> list[str]:
    return [_text(field) for field in fields if field.number == number]


def _last(fields: list[_Field], number: int) -> _Field | None:
    found = [field for field in fields if field.number == number]
    return found[-1] if found else None


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    """Omit empty values, like ``omitempty`` does when the apiserver marshals JSON."""
    if value not in ("", 0, False, None, {}, []):
        target[key] = value


def _object_meta(data: bytes) -> dict[str, Any]:
    fields = _fields(data)
    meta: dict[str, Any] = {}
    for key, number in (
        ("name", 1),
        ("generateName", 2),
        ("namespace", 3),
        ("uid", 5),
        ("resourceVersion", 6),
    ):
        if (field := _last(fields, number)) is not None:
            _put(meta, key, _text(field))
    if (generation := _last(fields, 7)) is not None:
        _put(meta, "generation", _int(generation))
    _put(meta, "labels", _string_map(fields, 11))
    _put(meta, "annotations", _string_map(fields, 12))
    _put(meta, "finalizers", _strings(fields, 14))
    return meta


def _submessage(fields: list[_Field], number: int) -> list[_Field]:
    field = _last(fields, number)
    return _fields(_bytes(field)) if field is not None else []


def _optional_bool(fields: list[_Field], number: int) -> bool | None:
    field = _last(fields, number)
    return None if field is None else bool(_int(field))


def _namespace(fields: list[_Field]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    spec: dict[str, Any] = {}
    _put(spec, "finalizers", _strings(_submessage(fields, 2), 1))
    _put(body, "spec", spec)
    status: dict[str, Any] = {}
    if (phase := _last(_submessage(fields, 3), 1)) is not None:
        _put(status, "phase", _text(phase))
    _put(body, "status", status)
    return body


def _config_map(fields: list[_Field]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    _put(body, "data", _string_map(fields, 2))
    _put(body, "binaryData", _bytes_map_as_base64(fields, 3))
    if (immutable := _optional_bool(fields, 4)) is not None:
        body["immutable"] = immutable
    return body


def _secret(fields: list[_Field]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    _put(body, "data", _bytes_map_as_base64(fields, 2))
    if (secret_type := _last(fields, 3)) is not None:
        _put(body, "type", _text(secret_type))
    _put(body, "stringData", _string_map(fields, 4))
    if (immutable := _optional_bool(fields, 5)) is not None:
        body["immutable"] = immutable
    return body


def _self_subject_access_review(fields: list[_Field]) -> dict[str, Any]:
    """What `kubectl auth can-i` asks: spec.resourceAttributes (namespace=1, verb=2, group=3,
    version=4, resource=5, subresource=6, name=7) or spec.nonResourceAttributes (path=1, verb=2)."""
    spec_fields = _submessage(fields, 2)
    spec: dict[str, Any] = {}
    for key, number, names in (
        (
            "resourceAttributes",
            1,
            ("namespace", "verb", "group", "version", "resource", "subresource", "name"),
        ),
        ("nonResourceAttributes", 2, ("path", "verb")),
    ):
        if _last(spec_fields, number) is None:
            continue
        attribute_fields = _submessage(spec_fields, number)
        attributes: dict[str, Any] = {}
        for index, name in enumerate(names, start=1):
            if (field := _last(attribute_fields, index)) is not None:
                _put(attributes, name, _text(field))
        spec[key] = attributes
    return {"spec": spec}


_BODY_DECODERS: dict[tuple[str, str], Callable[[list[_Field]], dict[str, Any]]] = {
    ("v1", "Namespace"): _namespace,
    ("v1", "ConfigMap"): _config_map,
    ("v1", "Secret"): _secret,
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): _self_subject_access_review,
}


def decode_object(body: bytes) -> dict[str, Any]:
    """Return the JSON form (apiVersion, kind, metadata, ...) of a protobuf-encoded object."""
    if not body.startswith(MAGIC):
        raise ProtobufDecodeError("body does not start with the k8s protobuf magic k8s\\x00")
    envelope = _fields(body[len(MAGIC) :])
    type_meta = _submessage(envelope, 1)
    api_version_field, kind_field = _last(type_meta, 1), _last(type_meta, 2)
    api_version = _text(api_version_field) if api_version_field else ""
    kind = _text(kind_field) if kind_field else ""
    encoding = _last(envelope, 3)
    if encoding is not None and _text(encoding):
        raise ProtobufDecodeError(f"unsupported content encoding {_text(encoding)!r}")
    decoder = _BODY_DECODERS.get((api_version, kind))
    if decoder is None:
        raise ProtobufDecodeError(
            f"kubesim cannot decode protobuf for {api_version or '?'}/{kind or '?'}; send JSON"
        )
    raw = _last(envelope, 2)
    fields = _fields(_bytes(raw)) if raw is not None else []
    meta_field = _last(fields, 1)
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _object_meta(_bytes(meta_field)) if meta_field is not None else {},
        **decoder(fields),
    }
