"""Strict field validation and 422 checks, with the texts kubectl users read."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from kubesim.validation import (
    FieldError,
    duplicate_fields,
    invalid,
    invalid_failure,
    invalid_message,
    quantity_error,
    strict_decoding_failure,
    strict_decoding_message,
    typed_patch_error,
    unknown_fields,
)
from tests.kubesim.conftest import deployment


def test_a_typo_is_an_unknown_field_named_like_the_strict_decoder() -> None:
    obj = deployment(imagePullPolcy="Always")
    obj["spec"]["foo"] = 1
    assert unknown_fields(obj, "1.37") == [  # in document order
        "spec.template.spec.containers[0].imagePullPolcy",
        "spec.foo",
    ]
    assert unknown_fields(deployment(), "v1.32.4") == []


def test_free_form_maps_accept_any_key() -> None:
    obj = deployment()
    obj["metadata"]["labels"] = {"anything/goes": "x"}
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"example.com/gpu": 1}
    }
    assert unknown_fields(obj, "1.37") == []


def test_unknown_kinds_are_not_checked() -> None:
    assert (
        unknown_fields({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}}, "1.37")
        == []
    )


def test_schemas_load_fast_and_once() -> None:
    start = time.perf_counter()
    unknown_fields(deployment(), "1.36")
    first = time.perf_counter() - start
    start = time.perf_counter()
    unknown_fields(deployment(), "1.36")
    assert first < 2.0
    assert time.perf_counter() - start < 0.01


def test_create_with_unknown_fields_is_a_bad_request() -> None:
    message = strict_decoding_message("Deployment", "apps/v1", ["spec.foo", "spec.bar"], "create")
    assert message == (
        'Deployment in version "v1" cannot be handled as a Deployment: '
        'strict decoding error: unknown field "spec.foo", unknown field "spec.bar"'
    )
    assert strict_decoding_failure("Deployment", "apps/v1", ["spec.foo"], "update").code == 400


def test_patch_with_unknown_fields_is_invalid_on_the_patch_field() -> None:
    failure = strict_decoding_failure(
        "Deployment",
        "apps/v1",
        ["spec.foo"],
        "patch",
        patch={"spec": {"foo": "bar", "replicas": 2}},
    )
    assert (failure.code, failure.reason) == (422, "Invalid")
    assert failure.message == (
        ' "" is invalid: patch: Invalid value: "map[spec:map[foo:bar replicas:2]]": '
        'strict decoding error: unknown field "spec.foo"'
    )


def test_server_side_apply_with_unknown_fields_fails_to_build_the_typed_object() -> None:
    failure = typed_patch_error(deployment(imagePullPolcy="Always"), "1.37")
    assert failure is not None
    assert failure.code == 500
    assert failure.message == (
        "failed to create typed patch object (asky/auth; apps/v1, Kind=Deployment): "
        '.spec.template.spec.containers[name="app"].imagePullPolcy: field not declared in schema'
    )
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c"},
        "sops": {},
        "x": 1,
    }
    failure = typed_patch_error(configmap, "1.37")
    assert failure is not None
    assert failure.message == (
        "failed to create typed patch object (/c; /v1, Kind=ConfigMap): errors:\n"
        "  .sops: field not declared in schema\n  .x: field not declared in schema"
    )
    assert typed_patch_error(deployment(), "1.37") is None


def test_duplicate_keys_are_found_in_the_raw_body() -> None:
    raw = b'{"spec": {"replicas": 1, "replicas": 2, "template": [{"a": 1, "a": 2}]}}'
    assert duplicate_fields(raw) == ["spec.replicas", "spec.template[0].a"]


def messages(obj: dict[str, Any]) -> list[str]:
    return [str(error) for error in invalid(obj)]


def test_a_valid_deployment_has_no_errors() -> None:
    assert invalid(deployment()) == []


def test_selector_must_match_template_labels() -> None:
    obj = deployment()
    obj["spec"]["template"]["metadata"]["labels"] = {"app": "x"}
    errors = invalid(obj)
    assert invalid_message("Deployment", "auth", errors) == (
        'Deployment.apps "auth" is invalid: spec.template.metadata.labels: Invalid value: '
        '{"app":"x"}: `selector` does not match template `labels`'
    )
    assert invalid_failure("Deployment", "auth", errors).details == {
        "name": "auth",
        "group": "apps",
        "kind": "Deployment",
        "causes": [
            {
                "reason": "FieldValueInvalid",
                "message": 'Invalid value: {"app":"x"}: '
                "`selector` does not match template `labels`",
                "field": "spec.template.metadata.labels",
            }
        ],
    }


def test_several_errors_are_bracketed() -> None:
    obj = deployment()
    del obj["spec"]["selector"]
    obj["spec"]["replicas"] = -1
    obj["spec"]["template"]["spec"]["containers"][0] = {"ports": [{"containerPort": 70000}]}
    assert invalid_message("Deployment", "auth", invalid(obj)) == (
        'Deployment.apps "auth" is invalid: [spec.replicas: Invalid value: -1: must be greater '
        "than or equal to 0, spec.selector: Required value, "
        "spec.template.spec.containers[0].name: Required value, "
        "spec.template.spec.containers[0].image: Required value, "
        "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
        "must be between 1 and 65535, inclusive]"
    )


@pytest.mark.parametrize(
    ("kind", "name", "rule"),
    [
        ("Service", "1st-service", "a DNS-1035 label must consist of lower case alphanumeric"),
        ("Namespace", "asky.prod", "a lowercase RFC 1123 label must consist"),
        ("Deployment", "Auth", "a lowercase RFC 1123 subdomain must consist"),
    ],
)
def test_names_follow_the_rule_of_their_kind(kind: str, name: str, rule: str) -> None:
    spec = {"type": "ExternalName"} if kind == "Service" else {}
    error = invalid({"kind": kind, "metadata": {"name": name}, "spec": spec})[0]
    assert error.field == "metadata.name"
    assert str(error).startswith(f'metadata.name: Invalid value: "{name}": {rule}')


def test_dots_are_fine_in_subdomain_names() -> None:
    assert invalid({"kind": "ConfigMap", "metadata": {"name": "asky.config"}}) == []


def test_label_keys_and_values_are_checked() -> None:
    errors = messages(
        {
            "kind": "ConfigMap",
            "metadata": {"name": "c", "labels": {"bad key": "ok", "k": "bad value"}},
        }
    )
    assert errors[0].startswith('metadata.labels: Invalid value: "bad key": name part must consist')
    assert errors[1].startswith(
        'metadata.labels: Invalid value: "bad value": a valid label must be an empty string'
    )


def test_image_with_whitespace_and_probe_without_handler_are_invalid() -> None:
    obj = deployment(image=" auth:1.0", livenessProbe={"periodSeconds": 5})
    assert messages(obj) == [
        'spec.template.spec.containers[0].image: Invalid value: " auth:1.0": '
        "must not have leading or trailing whitespace",
        "spec.template.spec.containers[0].livenessProbe: Required value: "
        "must specify a handler type",
    ]


def test_service_ports() -> None:
    service = {
        "kind": "Service",
        "metadata": {"name": "auth"},
        "spec": {"selector": {"app": "auth"}},
    }
    assert messages(service) == ["spec.ports: Required value"]
    service["spec"]["type"] = "NodePort"
    service["spec"]["ports"] = [{"name": "http", "port": 80, "nodePort": 80}, {"port": 443}]
    assert messages(service) == [
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. "
        "The range of valid ports is 30000-32767",
        "spec.ports[1].name: Required value",
    ]
    service["spec"]["type"] = "Balanced"
    assert messages(service) == [
        'spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", '
        '"LoadBalancer", "NodePort"'
    ]


def test_claims_and_volumes_need_modes_and_sizes() -> None:
    assert messages(
        {"kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "spec": {}}
    ) == [
        "spec.accessModes: Required value: at least 1 access mode is required",
        "spec.resources[storage]: Required value",
    ]
    volume = {
        "kind": "PersistentVolume",
        "metadata": {"name": "pv"},
        "spec": {"accessModes": ["ReadWriteOnce"]},
    }
    assert messages(volume) == ["spec.capacity: Required value"]


def test_duplicate_container_names() -> None:
    obj = deployment()
    containers = obj["spec"]["template"]["spec"]["containers"]
    containers.append(copy.deepcopy(containers[0]))
    assert messages(obj) == ['spec.template.spec.containers[1].name: Duplicate value: "app"']


def test_malformed_quantities_fail_decoding() -> None:
    obj = deployment(resources={"requests": {"memory": "10Gb"}})
    assert quantity_error(obj) == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert (
        quantity_error(deployment(resources={"requests": {"memory": "512Mi", "cpu": 0.5}})) is None
    )


def test_field_error_cause_carries_the_body_without_the_field() -> None:
    error = FieldError("FieldValueNotSupported", "spec.x", "y", 'supported values: "a"')
    assert error.cause() == {
        "reason": "FieldValueNotSupported",
        "message": 'Unsupported value: "y": supported values: "a"',
        "field": "spec.x",
    }
