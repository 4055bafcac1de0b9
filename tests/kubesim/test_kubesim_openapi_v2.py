"""``/openapi/v2``: kubectl 1.28 downloads it before every validated write, and every version
before creating a ``v1 List``; it must parse as client-go parses it (gnostic protobuf)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from kubesim import KubeSim

PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def fetch(sim: KubeSim, accept: str) -> tuple[str, bytes]:
    request = urllib.request.Request(f"{sim.url}/openapi/v2", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.headers["Content-Type"], answer.read()


def wire(data: bytes) -> list[tuple[int, Any]]:
    """A protobuf message's fields in order (only varint and length-delimited ones occur)."""
    fields, pos = [], 0

    def varint() -> int:
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while pos < len(data):
        key = varint()
        assert key & 7 in (0, 2), f"unexpected wire type {key & 7}"
        if key & 7 == 0:
            fields.append((key >> 3, varint()))
        else:
            size = varint()
            fields.append((key >> 3, data[pos : pos + size]))
            pos += size
    return fields


def one(fields: list[tuple[int, Any]], number: int) -> Any:
    found = [value for n, value in fields if n == number]
    assert len(found) == 1, f"field {number}: {len(found)} values"
    return found[0]


def test_json_and_protobuf_describe_the_same_operations(sim: KubeSim) -> None:
    content_type, body = fetch(sim, "application/json")
    assert content_type == "application/json"
    document = json.loads(body)
    assert document["swagger"] == "2.0"
    patch = document["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]
    assert "fieldValidation" in [p["name"] for p in patch["parameters"]]

    content_type, body = fetch(sim, PROTOBUF_ACCEPT)
    assert content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    # gnostic's openapi_v2.Document: swagger 1, info 2, paths 8 (> NamedPathItem 2).
    fields = wire(body)
    assert one(fields, 1) == b"2.0"
    items = {
        one(wire(item), 1).decode(): wire(one(wire(item), 2))
        for n, item in wire(one(fields, 8))
        if n == 2
    }
    assert set(items) == set(document["paths"])
    operation = wire(one(items["/api/v1/namespaces/{namespace}/configmaps/{name}"], 8))
    # Operation.parameters 8 > ParametersItem.parameter 1 > Parameter.non_body_parameter 2 >
    # NonBodyParameter.query_parameter_sub_schema 3 > name 4: what cli-runtime's v2 verifier reads
    names = [
        one(wire(one(wire(one(wire(one(wire(p), 1)), 2)), 3)), 4).decode()
        for n, p in operation
        if n == 8
    ]
    assert names == [p["name"] for p in patch["parameters"]]
    extensions = {
        one(wire(ext), 1).decode(): one(wire(one(wire(ext), 2)), 2).decode()
        for n, ext in operation
        if n == 13
    }
    assert (
        extensions["x-kubernetes-group-version-kind"] == 'group: ""\nkind: ConfigMap\nversion: v1\n'
    )


def test_kubectl_creates_a_list_it_validates_with_openapi_v2(kubectl, sim: KubeSim) -> None:
    """A v1 List is validated on the client with the v2 schema (cli-runtime sends every List
    there), so a server without /openapi/v2 makes kubectl fail with "error validating data"."""
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{n}"}} for n in (1, 2)
    ]
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": items})
    out = kubectl.ok("create", "-f", "-", "-o", "name", stdin=listed)
    assert out.split() == ["configmap/c1", "configmap/c2"]
    assert any(r.path == "/openapi/v2" and r.status == 200 for r in sim.requests)
