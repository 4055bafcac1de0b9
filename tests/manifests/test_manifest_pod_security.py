"""Policy: every pod meets the "restricted" Pod Security Standard and our hardening on top.

The namespace enforces "restricted", so a pod that misses one field is rejected at deploy time
on a real cluster; these tests say which field, before anyone deploys. Each test lists every
offender at once rather than stopping at the first.
"""

from __future__ import annotations

from typing import Any

# Volume types the "restricted" level allows in a pod (a hostPath PV behind a claim is fine).
RESTRICTED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def effective(spec: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    """A security field as the kubelet applies it: the container's value wins over the pod's."""
    container_value = container.get("securityContext", {}).get(field)
    if container_value is not None:
        return container_value
    return spec.get("securityContext", {}).get(field)


def containers_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def test_every_container_runs_as_a_non_root_user(pod_specs: dict[str, dict[str, Any]]) -> None:
    offenders = [
        f"{workload}/{c['name']}"
        for workload, spec in pod_specs.items()
        for c in containers_of(spec)
        if effective(spec, c, "runAsNonRoot") is not True
        or not isinstance(effective(spec, c, "runAsUser"), int)
        or effective(spec, c, "runAsUser") == 0
    ]

    assert offenders == []


def test_every_container_forbids_privilege_escalation_explicitly(
    containers: dict[str, dict[str, Any]],
) -> None:
    offenders = [
        name
        for name, c in containers.items()
        if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False
        or c.get("securityContext", {}).get("privileged", False)
    ]

    assert offenders == []


def test_every_container_drops_all_capabilities_and_adds_none(
    containers: dict[str, dict[str, Any]],
) -> None:
    offenders = [
        name
        for name, c in containers.items()
        if c.get("securityContext", {}).get("capabilities", {}).get("drop") != ["ALL"]
        or c.get("securityContext", {}).get("capabilities", {}).get("add")
    ]

    assert offenders == []


def test_every_container_uses_the_runtime_default_seccomp_profile(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    offenders = [
        f"{workload}/{c['name']}"
        for workload, spec in pod_specs.items()
        for c in containers_of(spec)
        if (effective(spec, c, "seccompProfile") or {}).get("type") != "RuntimeDefault"
    ]

    assert offenders == []


def test_every_container_has_a_read_only_root_filesystem(
    containers: dict[str, dict[str, Any]],
) -> None:
    offenders = [
        name
        for name, c in containers.items()
        if c.get("securityContext", {}).get("readOnlyRootFilesystem") is not True
    ]

    assert offenders == []


def test_pods_use_only_restricted_volume_types_and_no_host_namespace(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    offenders = [
        f"{workload}: volume {volume['name']} ({type_})"
        for workload, spec in pod_specs.items()
        for volume in spec.get("volumes", [])
        for type_ in set(volume) - {"name"} - RESTRICTED_VOLUME_TYPES
    ]
    offenders += [
        f"{workload}: {field}"
        for workload, spec in pod_specs.items()
        for field in HOST_NAMESPACES
        if spec.get(field)
    ]
    offenders += [
        f"{workload}/{c['name']}: hostPort"
        for workload, spec in pod_specs.items()
        for c in containers_of(spec)
        for port in c.get("ports", [])
        if port.get("hostPort")
    ]

    assert offenders == []


def test_no_pod_gets_a_service_account_token(pod_specs: dict[str, dict[str, Any]]) -> None:
    offenders = [
        workload
        for workload, spec in pod_specs.items()
        if spec.get("automountServiceAccountToken") is not False
    ]

    assert offenders == []
