"""EndpointSlices for selector Services, from the pods that match (ready or not).

A Service whose selector matches no ready pod has a slice with no ready endpoint; that is how
run.py catches a selector typo, so the readiness flags follow the endpointslice controller.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import Context, owner_reference, pod_ready
from kubesim.resources import by_plural
from kubesim.selectors import LabelSelector
from kubesim.store import editable

JSON = dict[str, Any]

SERVICES = by_plural("services")
PODS = by_plural("pods")
SLICES = by_plural("endpointslices", "discovery.k8s.io")
SERVICE_NAME = "kubernetes.io/service-name"
MANAGED_BY = "endpointslice.kubernetes.io/managed-by"


def _target_port(port: JSON, pod: JSON) -> int | None:
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, int):
        return target
    for container in pod["spec"].get("containers", []):
        for container_port in container.get("ports", []) or []:
            if container_port.get("name") == target:
                return int(container_port["containerPort"])
    return None


class EndpointSliceController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def reconcile(self) -> None:
        store = self.ctx.store
        slices = {
            (s["metadata"]["namespace"], s["metadata"].get("labels", {}).get(SERVICE_NAME)): s
            for s in store.all(SLICES)
            if s["metadata"].get("labels", {}).get(MANAGED_BY) == "endpointslice-controller.k8s.io"
        }
        for service in store.all(SERVICES):
            selector = service.get("spec", {}).get("selector")
            meta = service["metadata"]
            if not selector or meta.get("deletionTimestamp"):
                continue
            wanted = self._desired(service, LabelSelector.from_struct({"matchLabels": selector}))
            current = slices.get((meta["namespace"], meta["name"]))
            if current is None:
                store.create(SLICES, wanted)
            else:
                changed = editable(current)
                changed["endpoints"] = wanted["endpoints"]
                changed["ports"] = wanted["ports"]
                store.replace(SLICES, changed)

    def _desired(self, service: JSON, selector: LabelSelector) -> JSON:
        meta = service["metadata"]
        pods = [
            p
            for p in self.ctx.store.all(PODS)
            if p["metadata"]["namespace"] == meta["namespace"]
            and selector.matches(p["metadata"].get("labels", {}))
            and p.get("status", {}).get("podIP")
        ]
        endpoints = []
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ready = pod_ready(pod) and not terminating
            endpoints.append(
                {
                    "addresses": [pod["status"]["podIP"]],
                    "conditions": {
                        "ready": ready,
                        "serving": pod_ready(pod),
                        "terminating": terminating,
                    },
                    "nodeName": pod["spec"].get("nodeName", ""),
                    "targetRef": {
                        "kind": "Pod",
                        "namespace": meta["namespace"],
                        "name": pod["metadata"]["name"],
                        "uid": pod["metadata"]["uid"],
                    },
                }
            )
        ports = []
        for port in service["spec"].get("ports", []):
            resolved = next((_target_port(port, p) for p in pods), None)
            entry: JSON = {"name": port.get("name", ""), "protocol": port.get("protocol", "TCP")}
            if resolved is not None or not pods:
                entry["port"] = (
                    resolved if resolved is not None else _target_port(port, {"spec": {}})
                )
            ports.append(entry)
        return {
            "kind": "EndpointSlice",
            "apiVersion": "discovery.k8s.io/v1",
            "metadata": {
                "name": f"{meta['name']}-{meta['uid'][:5]}",
                "namespace": meta["namespace"],
                "generateName": f"{meta['name']}-",
                "labels": {
                    SERVICE_NAME: meta["name"],
                    MANAGED_BY: "endpointslice-controller.k8s.io",
                },
                "ownerReferences": [owner_reference(service, "Service", "v1")],
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
