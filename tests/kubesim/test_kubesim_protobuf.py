"""kubesim.protobuf: the protobuf bodies of ``kubectl create namespace|configmap|secret``.

The three ``KUBECTL_*`` bodies were recorded from kubectl 1.37.1 POSTing to a stub server.
"""

from __future__ import annotations

import pytest

from kubesim.protobuf import ProtobufDecodeError, decode_object, encode_field

KUBECTL_CREATE_NAMESPACE = (
    b'k8s\x00\n\x0f\n\x02v1\x12\tNamespace\x12\x1f\n\x17\n\x07demo-ns\x12\x00\x1a\x00"\x00'
    b'*\x002\x008\x00B\x00\x12\x00\x1a\x02\n\x00\x1a\x00"\x00'
)
KUBECTL_CREATE_CONFIGMAP = (
    b'k8s\x00\n\x0f\n\x02v1\x12\tConfigMap\x12.\n\x1a\n\x03cm1\x12\x00\x1a\x07demo-ns"\x00'
    b'*\x002\x008\x00B\x00\x12\x06\n\x01a\x12\x011\x12\x08\n\x01b\x12\x03two\x1a\x00"\x00'
)
KUBECTL_CREATE_SECRET = (
    b'k8s\x00\n\x0c\n\x02v1\x12\x06Secret\x121\n\x19\n\x02s1\x12\x00\x1a\x07demo-ns"\x00'
    b'*\x002\x008\x00B\x00\x12\x0c\n\x02pw\x12\x06s3cr3t\x1a\x06Opaque\x1a\x00"\x00'
)


def entry(number: int, key: str, value: bytes | str) -> bytes:
    return encode_field(number, encode_field(1, key) + encode_field(2, value))


def envelope(kind: str, raw: bytes, api_version: str = "v1") -> bytes:
    type_meta = encode_field(1, api_version) + encode_field(2, kind)
    return b"k8s\x00" + encode_field(1, type_meta) + encode_field(2, raw)


def test_kubectl_create_namespace_body() -> None:
    assert decode_object(KUBECTL_CREATE_NAMESPACE) == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "demo-ns"},
    }


def test_kubectl_create_configmap_body() -> None:
    assert decode_object(KUBECTL_CREATE_CONFIGMAP) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm1", "namespace": "demo-ns"},
        "data": {"a": "1", "b": "two"},
    }


def test_kubectl_create_secret_body_has_base64_data_like_json() -> None:
    assert decode_object(KUBECTL_CREATE_SECRET) == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s1", "namespace": "demo-ns"},
        "data": {"pw": "czNjcjN0"},
        "type": "Opaque",
    }


def test_object_meta_maps_lists_and_unknown_fields() -> None:
    meta = (
        encode_field(1, "web")
        + encode_field(2, "web-")
        + encode_field(3, "prod")
        + encode_field(5, "uid-1")
        + encode_field(6, "42")
        + encode_field(7, 3)
        + encode_field(
            8, encode_field(1, 1700000000)
        )  # creationTimestamp: skipped, the server sets it
        + entry(11, "app", "web")
        + entry(12, "note", "hi")
        + encode_field(14, "example.com/guard")
        + encode_field(99, 7)  # a field this decoder has never heard of
    )
    raw = (
        encode_field(1, meta)
        + entry(2, "k", "v")
        + entry(3, "blob", b"\x00\xff")
        + encode_field(4, 1)
        + b"\x2d\x01\x00\x00\x00"  # field 5, fixed32: skipped by wire type
    )

    decoded = decode_object(envelope("ConfigMap", raw))

    assert decoded == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "web",
            "generateName": "web-",
            "namespace": "prod",
            "uid": "uid-1",
            "resourceVersion": "42",
            "generation": 3,
            "labels": {"app": "web"},
            "annotations": {"note": "hi"},
            "finalizers": ["example.com/guard"],
        },
        "data": {"k": "v"},
        "binaryData": {"blob": "AP8="},
        "immutable": True,
    }


def test_namespace_spec_finalizers_and_status_phase() -> None:
    raw = (
        encode_field(1, encode_field(1, "ns"))
        + encode_field(2, encode_field(1, "kubernetes"))
        + encode_field(3, encode_field(1, "Active"))
    )

    decoded = decode_object(envelope("Namespace", raw))

    assert decoded["spec"] == {"finalizers": ["kubernetes"]}
    assert decoded["status"] == {"phase": "Active"}


def test_secret_string_data_and_explicit_immutable_false() -> None:
    raw = encode_field(1, encode_field(1, "s")) + entry(4, "user", "admin") + encode_field(5, 0)

    decoded = decode_object(envelope("Secret", raw))

    assert decoded["stringData"] == {"user": "admin"}
    assert decoded["immutable"] is False


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"kind": "Namespace"}', "magic"),
        (envelope("Deployment", b"", api_version="apps/v1"), "apps/v1/Deployment"),
        (KUBECTL_CREATE_NAMESPACE[:-9], "past the end"),
        (b"k8s\x00\x0a\x80", "truncated varint"),
        (b"k8s\x00\x0b", "wire type 3"),
    ],
)
def test_unsupported_or_malformed_bodies_raise(body: bytes, message: str) -> None:
    with pytest.raises(ProtobufDecodeError, match=message):
        decode_object(body)
