"""Moves the manifests to the namespace and flags of one deploy (``--namespace``, ``--replicas``,
``--set-image``, ``--storage-class``, ``--gateway-type``, an adopted database).

Every other namespace is the same set of objects with the namespace, the instance label, the
volume name and the hostPath moved, so that two copies never share a volume or select each
other's pods.  Pure: works on copies, before the cluster is touched.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from asky_scripts.cluster.objects import Obj, field
from asky_scripts.errors import UsageError
from asky_scripts.model.manifests import (
    ADOPTED_ANNOTATION,
    DATABASE,
    DEFAULT_NAMESPACE,
    DEFAULT_PV_NAME,
    GATEWAY,
    GATEWAY_TYPES,
    INSTANCE_LABEL,
    NAMESPACE_NAME_LABEL,
    PGDATA_ANNOTATION,
    POSTGRES_MOUNT,
    DeployOptions,
    Manifest,
)


def rewrite(manifest: Manifest, options: DeployOptions) -> Manifest | None:
    """The object as this deploy applies it, or None when the options drop it."""
    if options.storage_class and manifest.kind == "PersistentVolume":
        return None  # the class provisions the claim's volume
    obj = copy.deepcopy(manifest.obj)
    ns = options.namespace
    metadata = obj.setdefault("metadata", {})
    if manifest.kind == "Namespace":
        metadata["name"] = ns
    elif manifest.namespaced:
        metadata["namespace"] = ns
    _retarget_labels(obj, ns)
    if manifest.kind == "PersistentVolume":
        _retarget_volume(obj, options)
    elif manifest.kind == "PersistentVolumeClaim":
        _retarget_claim(obj, options)
    elif manifest.kind == "ConfigMap":
        obj["data"] = {key: _retarget_dns(value, ns) for key, value in field(obj, "data").items()}
    elif manifest.kind == "Deployment":
        _apply_workload_options(obj, options)
    elif manifest.kind == "Service" and manifest.name == GATEWAY and options.gateway_type:
        obj.setdefault("spec", {})["type"] = options.gateway_type
    return manifest.with_obj(obj)


def _walk_mappings(node: object) -> Iterator[Obj]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_mappings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_mappings(item)


def _retarget_labels(obj: Obj, namespace: str) -> None:
    """Moves every label and selector naming the default instance or namespace to ours."""
    for mapping in _walk_mappings(obj):
        for key in (INSTANCE_LABEL, NAMESPACE_NAME_LABEL):
            if mapping.get(key) == DEFAULT_NAMESPACE:
                mapping[key] = namespace


def _retarget_dns(value: object, namespace: str) -> object:
    if isinstance(value, str):
        return value.replace(f".{DEFAULT_NAMESPACE}.svc", f".{namespace}.svc")
    return value


def _retarget_volume(obj: Obj, options: DeployOptions) -> None:
    ns = options.namespace
    if obj["metadata"]["name"] == DEFAULT_PV_NAME:
        obj["metadata"]["name"] = options.pv_name
    spec = obj.setdefault("spec", {})
    claim_ref = spec.get("claimRef")
    if isinstance(claim_ref, dict):
        claim_ref["namespace"] = ns
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict) and isinstance(host_path.get("path"), str):
        parts = host_path["path"].split("/")
        host_path["path"] = "/".join(ns if part == DEFAULT_NAMESPACE else part for part in parts)
        if options.adopted is not None:
            host_path["path"] = options.adopted.host_path
            obj["metadata"].setdefault("annotations", {}).update(
                {ADOPTED_ANNOTATION: "run.sh", PGDATA_ANNOTATION: options.adopted.subpath}
            )


def _retarget_claim(obj: Obj, options: DeployOptions) -> None:
    spec = obj.setdefault("spec", {})
    if options.storage_class:
        spec["storageClassName"] = options.storage_class
        spec.pop("volumeName", None)
        spec.pop("selector", None)
    elif spec.get("volumeName") == DEFAULT_PV_NAME:
        spec["volumeName"] = options.pv_name


def _apply_workload_options(obj: Obj, options: DeployOptions) -> None:
    name = obj["metadata"]["name"]
    spec = obj.setdefault("spec", {})
    if name in options.replicas:
        spec["replicas"] = options.replicas[name]
    pod_spec = spec.get("template", {}).get("spec", {})
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        for env in container.get("env", []):
            if "value" in env:
                env["value"] = _retarget_dns(env["value"], options.namespace)
    if name == DATABASE and options.adopted is not None:
        for container in pod_spec.get("containers", []):
            for env in container.get("env", []):
                if env.get("name") == "PGDATA":
                    env["value"] = POSTGRES_MOUNT + options.adopted.subpath
    if name in options.images:
        containers = pod_spec.get("containers", [])
        target = next((c for c in containers if c.get("name") == name), None)
        if target is None and len(containers) == 1:
            target = containers[0]
        if target is None:
            raise UsageError(f"--set-image {name}: no container named {name!r} in its Deployment")
        target["image"] = options.images[name]


def check_options_against(manifests: list[Manifest], options: DeployOptions) -> None:
    """Refuses flags that name services the manifests do not have, with the valid names."""
    deployments = sorted(m.name for m in manifests if m.kind == "Deployment")
    for flag, names in (("--replicas", options.replicas), ("--set-image", options.images)):
        unknown = sorted(set(names) - set(deployments))
        if unknown:
            raise UsageError(
                f"{flag}: unknown service {', '.join(unknown)}",
                hint=f"services are: {', '.join(deployments)}",
            )
    if options.replicas.get(DATABASE, 1) > 1:
        raise UsageError(
            f"--replicas {DATABASE}: at most 1",
            hint="PostgreSQL runs as a single instance on one ReadWriteOnce volume",
        )
    if options.gateway_type and options.gateway_type not in GATEWAY_TYPES:
        raise UsageError(f"--gateway-type must be one of {', '.join(GATEWAY_TYPES)}")
