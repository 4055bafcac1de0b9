"""What the apiserver's registry strategies and built-in admission do to an object on write.

These are the fields no client sends but every client reads: a Namespace's phase and finalizer,
a Service's cluster IP and node ports, the protection finalizers of volumes and claims, the
default StorageClass of a claim, and the ``generation`` that only spec changes bump.
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
from typing import Any

from kubesim.errors import ApiError
from kubesim.resources import Resource

JSON = dict[str, Any]

PVC_PROTECTION = "kubernetes.io/pvc-protection"
PV_PROTECTION = "kubernetes.io/pv-protection"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
NODE_PORT_RANGE = range(30000, 32768)


class Allocator:
    """Cluster IPs and node ports, each handed out once until its Service is deleted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ips = (str(ipaddress.IPv4Address("10.96.0.0") + n) for n in itertools.count(10))
        self._used_ports: set[int] = set()

    def cluster_ip(self) -> str:
        with self._lock:
            return next(self._ips)

    def node_port(self, wanted: int | None) -> int:
        with self._lock:
            if wanted is not None:
                if wanted not in NODE_PORT_RANGE:
                    raise ApiError(
                        422,
                        "Invalid",
                        f"spec.ports[0].nodePort: Invalid value: {wanted}: provided port is "
                        "not in the valid range. The range of valid ports is 30000-32767",
                    )
                if wanted in self._used_ports:
                    raise ApiError(
                        422,
                        "Invalid",
                        f"spec.ports[0].nodePort: Invalid value: {wanted}: "
                        "provided port is already allocated",
                    )
                self._used_ports.add(wanted)
                return wanted
            port = next(p for p in NODE_PORT_RANGE if p not in self._used_ports)
            self._used_ports.add(port)
            return port

    def release(self, service: JSON) -> None:
        with self._lock:
            for port in service.get("spec", {}).get("ports", []):
                self._used_ports.discard(port.get("nodePort", 0))


def _wants_node_ports(service: JSON) -> bool:
    return service.get("spec", {}).get("type") in ("NodePort", "LoadBalancer")


def _assign_node_ports(service: JSON, allocator: Allocator, old: JSON | None) -> None:
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in (old or {}).get("spec", {}).get("ports", [])
    }
    for port in service["spec"].get("ports", []):
        if not _wants_node_ports(service):
            port.pop("nodePort", None)
            continue
        kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
        if port.get("nodePort") is None:
            port["nodePort"] = kept if kept else allocator.node_port(None)
        elif port["nodePort"] != kept:
            allocator.node_port(port["nodePort"])


def _prepare_service(service: JSON, allocator: Allocator, old: JSON | None) -> None:
    spec = service.setdefault("spec", {})
    if old is not None:
        for kept in ("clusterIP", "clusterIPs"):
            if kept in old.get("spec", {}):
                spec.setdefault(kept, old["spec"][kept])
    if spec.get("type") != "ExternalName" and not spec.get("clusterIP"):
        ip = allocator.cluster_ip()
        spec["clusterIP"] = ip
        spec["clusterIPs"] = [ip]
    _assign_node_ports(service, allocator, old)
    status = service.setdefault("status", {})
    status.setdefault("loadBalancer", {})


def _add_finalizer(obj: JSON, finalizer: str) -> None:
    finalizers = obj["metadata"].setdefault("finalizers", [])
    if finalizer not in finalizers:
        finalizers.append(finalizer)


def default_storage_class(classes: list[JSON]) -> str | None:
    for storage_class in classes:
        if storage_class["metadata"].get("annotations", {}).get(DEFAULT_CLASS_ANNOTATION) == "true":
            return str(storage_class["metadata"]["name"])
    return None


def prepare_create(
    resource: Resource, obj: JSON, allocator: Allocator, storage_classes: list[JSON]
) -> None:
    """Fill what the apiserver sets on create (in place: ``obj`` is a fresh copy)."""
    meta = obj["metadata"]
    if resource.has_generation:
        meta["generation"] = 1
    kind = resource.kind
    if kind == "Namespace":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj["status"] = {"phase": "Active"}
    elif kind == "Service":
        _prepare_service(obj, allocator, None)
    elif kind == "PersistentVolumeClaim":
        _add_finalizer(obj, PVC_PROTECTION)
        spec = obj.setdefault("spec", {})
        if "storageClassName" not in spec:
            default = default_storage_class(storage_classes)
            if default is not None:
                spec["storageClassName"] = default
        obj["status"] = {"phase": "Pending"}
    elif kind == "PersistentVolume":
        _add_finalizer(obj, PV_PROTECTION)
        obj["status"] = {"phase": "Pending"}
    elif kind == "Pod":
        obj["status"] = {"phase": "Pending", "qosClass": _qos_class(obj)}
    elif kind in ("Deployment", "ReplicaSet", "PodDisruptionBudget"):
        obj["status"] = {}


def prepare_update(resource: Resource, old: JSON, new: JSON, allocator: Allocator) -> None:
    """Carry over what a client cannot change and bump ``generation`` on spec changes."""
    meta = new["metadata"]
    for kept in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if kept in old["metadata"]:
            meta[kept] = old["metadata"][kept]
        else:
            meta.pop(kept, None)
    if resource.has_generation:
        generation = old["metadata"].get("generation", 1)
        changed = new.get("spec") != old.get("spec")
        meta["generation"] = generation + 1 if changed else generation
    if resource.kind == "Namespace":
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
    elif resource.kind == "Service":
        _prepare_service(new, allocator, old)


def _qos_class(pod: JSON) -> str:
    containers = pod.get("spec", {}).get("containers", [])
    resources = [c.get("resources", {}) for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get(k)
        and r.get("requests", r.get("limits", {})).get(k) == r["limits"][k]
        for r in resources
        for k in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"
