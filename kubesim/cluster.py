"""One simulated cluster: store, API semantics, controllers, and what a fresh minikube holds."""

from __future__ import annotations

from typing import Any

from kubesim.api import Api, Query
from kubesim.controllers.base import Context
from kubesim.controllers.events import EventRecorder
from kubesim.controllers.manager import ControllerManager
from kubesim.errors import bad_request
from kubesim.resources import by_plural, for_kind
from kubesim.routing import Target
from kubesim.scenario import Scenario, ScenarioError
from kubesim.store import Store
from kubesim.strategy import DEFAULT_CLASS_ANNOTATION

JSON = dict[str, Any]

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


def _minikube_class() -> JSON:
    return {
        "kind": "StorageClass",
        "apiVersion": "storage.k8s.io/v1",
        "metadata": {"name": "standard", "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": "k8s.io/minikube-hostpath",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _node(scenario: Scenario) -> JSON:
    node = scenario.node
    capacity = {
        "cpu": node.cpu,
        "memory": node.memory,
        "pods": node.pods,
        "ephemeral-storage": "61202244Ki",
    }
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": node.name,
            "labels": {
                "kubernetes.io/hostname": node.name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
                "minikube.k8s.io/name": node.name,
            },
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "addresses": [
                {"type": "InternalIP", "address": node.address},
                {"type": "Hostname", "address": node.name},
            ],
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                }
            ],
            "nodeInfo": {
                "kubeletVersion": scenario.kubernetes_version,
                "containerRuntimeVersion": "containerd://1.7.23",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "osImage": "Ubuntu 22.04.5 LTS",
                "kernelVersion": "6.1.0",
                "kubeProxyVersion": "",
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
            },
        },
    }


class Cluster:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.store = Store()
        self.events = EventRecorder(self.store, scenario.node.name)
        self.controllers = ControllerManager(Context(self.store, scenario, self.events))
        self.api = Api(self.store, scenario, self.logs)
        self._bootstrap()

    def _bootstrap(self) -> None:
        namespaces = by_plural("namespaces")
        for name in SYSTEM_NAMESPACES:
            self.api.create(Target(namespaces), {"metadata": {"name": name}}, {}, "kube-apiserver")
        self.store.create(by_plural("nodes"), _node(self.scenario))
        classes = self.scenario.storage_classes
        for storage_class in [_minikube_class()] if classes is None else classes:
            self.api.create(
                Target(by_plural("storageclasses", "storage.k8s.io")),
                dict(storage_class),
                {},
                "kube-apiserver",
            )
        for obj in self.scenario.objects:
            resource = for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            if resource is None:
                raise ScenarioError(f"objects: kind {obj.get('kind')} is not served by kubesim")
            namespace = obj.get("metadata", {}).get("namespace", "") if resource.namespaced else ""
            self.api.create(Target(resource, namespace), obj, {}, "scenario")
        self.controllers.reconcile_once()

    def start(self) -> None:
        self.controllers.start()

    def stop(self) -> None:
        self.controllers.stop()

    def logs(self, target: Target, query: Query) -> str:
        """``GET …/pods/{name}/log`` as the kubelet answers it (plain text)."""
        pod = self.store.require(target.resource, target.namespace, target.name)
        containers = [c["name"] for c in pod.get("spec", {}).get("containers", [])]
        name = query.get("container") or (containers[0] if len(containers) == 1 else "")
        if not name:
            raise bad_request(
                f"a container name must be specified for pod {target.name}, choose one of: "
                f"[{' '.join(containers)}]"
            )
        if name not in containers:
            raise bad_request(f"container {name} is not valid for pod {target.name}")
        previous = query.get("previous") == "true"
        lines = self.controllers.kubelet.container_logs(pod, name, previous)
        state = self.controllers.kubelet.container_state(pod, name)
        if previous and lines is None:
            raise bad_request(
                f'previous terminated container "{name}" in pod "{target.name}" not found'
            )
        if not previous and (state is None or state.stage not in ("running", "crash-backoff")):
            reason = state.waiting[0] if state and state.waiting[0] else "ContainerCreating"
            raise bad_request(
                f'container "{name}" in pod "{target.name}" is waiting to start: {reason}'
            )
        lines = lines or []
        tail = query.get("tailLines")
        if tail is not None and tail.lstrip("-").isdigit() and int(tail) >= 0:
            lines = lines[len(lines) - int(tail) :] if int(tail) else []
        return "".join(f"{line}\n" for line in lines)
