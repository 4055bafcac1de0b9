"""The defaults a kube-apiserver fills into the objects we serve.

A real apiserver defaults every object it decodes (pkg/apis/*/v1/defaults.go and the declarative
``+default`` tags), so ``kubectl get -o yaml`` shows ``imagePullPolicy``, ``dnsPolicy``,
``targetPort``... that the manifest never wrote, and ``kubectl diff`` compares against them: an
emulator that skips them prints diffs a real cluster would not.  Only defaulting lives here;
values the registry allocates (clusterIP, nodePort, uid) are the server's job.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

JsonDict = dict[str, Any]

_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1}
_PROBE_DEFAULTS["failureThreshold"] = 3
_VOLUME_SOURCE_MODE = ("configMap", "secret", "projected", "downwardAPI")
_FILE_MODE_0644 = 420


def apply_defaults(obj: JsonDict) -> JsonDict:
    """A defaulted copy of ``obj``; kinds we do not know come back unchanged (as a copy)."""
    out = copy.deepcopy(obj)
    defaulter = _BY_KIND.get(out.get("kind", ""))
    if defaulter is not None:
        defaulter(out)
    return out


def image_pull_policy(image: str) -> str:
    """``Always`` for an image whose tag is ``latest`` (or that has neither tag nor digest),
    ``IfNotPresent`` otherwise, as SetDefaults_Container decides."""
    name, _, digest = image.partition("@")
    last_component = name.rsplit("/", 1)[-1]
    _, has_tag, tag = last_component.partition(":")
    if not has_tag and not digest:
        tag = "latest"
    return "Always" if tag == "latest" else "IfNotPresent"


def _set(mapping: JsonDict, key: str, value: Any) -> None:
    if mapping.get(key) in (None, ""):
        mapping[key] = value


def _child(mapping: JsonDict, key: str) -> JsonDict:
    """The map at ``key``, created empty when absent (a Go struct is never nil)."""
    value = mapping.get(key)
    if not isinstance(value, dict):
        value = {}
        mapping[key] = value
    return value


def _maps(items: Any) -> list[JsonDict]:
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


# --------------------------------------------------------------------------- core/v1 pieces


def _default_container(container: JsonDict) -> None:
    if isinstance(container.get("image"), str):
        _set(container, "imagePullPolicy", image_pull_policy(container["image"]))
    _set(container, "terminationMessagePath", "/dev/termination-log")
    _set(container, "terminationMessagePolicy", "File")
    _child(container, "resources")
    for port in _maps(container.get("ports")):
        _set(port, "protocol", "TCP")
    for env in _maps(container.get("env")):
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            _set(field_ref, "apiVersion", "v1")
    for probe_name in _PROBES:
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            _default_probe(probe)


def _default_probe(probe: JsonDict) -> None:
    for key, value in _PROBE_DEFAULTS.items():
        if not probe.get(key):
            probe[key] = value
    http_get = probe.get("httpGet")
    if isinstance(http_get, dict):
        _set(http_get, "path", "/")
        _set(http_get, "scheme", "HTTP")


def _default_volume(volume: JsonDict) -> None:
    if not any(key != "name" for key in volume):
        volume["emptyDir"] = {}
    for source in _VOLUME_SOURCE_MODE:
        if isinstance(volume.get(source), dict):
            _set(volume[source], "defaultMode", _FILE_MODE_0644)
    if isinstance(volume.get("hostPath"), dict):
        _set(volume["hostPath"], "type", "")


def _default_pod_spec(spec: JsonDict) -> None:
    """SetDefaults_PodSpec plus the container, probe and volume defaults under it."""
    _set(spec, "dnsPolicy", "ClusterFirst")
    _set(spec, "restartPolicy", "Always")
    _set(spec, "schedulerName", "default-scheduler")
    _set(spec, "terminationGracePeriodSeconds", 30)
    _child(spec, "securityContext")
    for list_name in _CONTAINER_LISTS:
        for container in _maps(spec.get(list_name)):
            _default_container(container)
    for volume in _maps(spec.get("volumes")):
        _default_volume(volume)


def _default_template(spec: JsonDict) -> None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _default_pod_spec(template["spec"])


def _default_pod(pod: JsonDict) -> None:
    spec = _child(pod, "spec")
    _default_pod_spec(spec)
    _set(spec, "enableServiceLinks", True)
    for list_name in ("containers", "initContainers"):
        for container in _maps(spec.get(list_name)):
            _requests_from_limits(container)


def _requests_from_limits(container: JsonDict) -> None:
    """A Pod container with limits but no request for a resource requests its limit."""
    resources = _child(container, "resources")
    limits = resources.get("limits")
    if isinstance(limits, dict) and limits:
        requests = _child(resources, "requests")
        for name, quantity in limits.items():
            requests.setdefault(name, quantity)


def _default_service(service: JsonDict) -> None:
    spec = _child(service, "spec")
    _set(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        client_ip = _child(_child(spec, "sessionAffinityConfig"), "clientIP")
        _set(client_ip, "timeoutSeconds", 10800)
    _set(spec, "type", "ClusterIP")
    for port in _maps(spec.get("ports")):
        _set(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, "") and "port" in port:
            port["targetPort"] = port["port"]
    kind = spec["type"]
    if kind in ("NodePort", "LoadBalancer") or (kind == "ClusterIP" and spec.get("externalIPs")):
        _set(spec, "externalTrafficPolicy", "Cluster")
    if kind in ("ClusterIP", "NodePort", "LoadBalancer"):
        _set(spec, "internalTrafficPolicy", "Cluster")
        # Set by the registry's IP-family logic for a single-stack IPv4 cluster like minikube.
        _set(spec, "ipFamilies", ["IPv4"])
        _set(spec, "ipFamilyPolicy", "SingleStack")
    if kind == "LoadBalancer":
        _set(spec, "allocateLoadBalancerNodePorts", True)


# --------------------------------------------------------------------------- kinds


def _default_deployment(deployment: JsonDict) -> None:
    spec = _child(deployment, "spec")
    _set(spec, "replicas", 1)
    strategy = _child(spec, "strategy")
    _set(strategy, "type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = _child(strategy, "rollingUpdate")
        _set(rolling, "maxUnavailable", "25%")
        _set(rolling, "maxSurge", "25%")
    _set(spec, "revisionHistoryLimit", 10)
    _set(spec, "progressDeadlineSeconds", 600)
    _default_template(spec)


def _default_replica_set(replica_set: JsonDict) -> None:
    spec = _child(replica_set, "spec")
    _set(spec, "replicas", 1)
    _default_template(spec)


def _default_stateful_set(stateful_set: JsonDict) -> None:
    spec = _child(stateful_set, "spec")
    _set(spec, "podManagementPolicy", "OrderedReady")
    strategy = _child(spec, "updateStrategy")
    if not strategy.get("type"):
        strategy["type"] = "RollingUpdate"
        _child(strategy, "rollingUpdate")
    if strategy["type"] == "RollingUpdate" and isinstance(strategy.get("rollingUpdate"), dict):
        _set(strategy["rollingUpdate"], "partition", 0)
    retention = _child(spec, "persistentVolumeClaimRetentionPolicy")
    _set(retention, "whenDeleted", "Retain")
    _set(retention, "whenScaled", "Retain")
    _set(spec, "replicas", 1)
    _set(spec, "revisionHistoryLimit", 10)
    _default_template(spec)


def _default_claim(claim: JsonDict) -> None:
    _set(_child(claim, "spec"), "volumeMode", "Filesystem")
    _set(_child(claim, "status"), "phase", "Pending")


def _default_volume_object(volume: JsonDict) -> None:
    spec = _child(volume, "spec")
    _set(spec, "persistentVolumeReclaimPolicy", "Retain")
    _set(spec, "volumeMode", "Filesystem")
    _set(_child(volume, "status"), "phase", "Pending")


def _default_namespace(namespace: JsonDict) -> None:
    metadata = _child(namespace, "metadata")
    if metadata.get("name"):
        _child(metadata, "labels")["kubernetes.io/metadata.name"] = metadata["name"]
    # The namespace registry's PrepareForCreate, which a Namespace never lacks.
    _set(_child(namespace, "spec"), "finalizers", ["kubernetes"])
    _set(_child(namespace, "status"), "phase", "Active")


def _default_secret(secret: JsonDict) -> None:
    _set(secret, "type", "Opaque")


def _default_network_policy(policy: JsonDict) -> None:
    spec = _child(policy, "spec")
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for rule in _maps(spec.get("ingress")) + _maps(spec.get("egress")):
        for port in _maps(rule.get("ports")):
            _set(port, "protocol", "TCP")


_BY_KIND: dict[str, Callable[[JsonDict], None]] = {
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replica_set,
    "StatefulSet": _default_stateful_set,
    "Pod": _default_pod,
    "Service": _default_service,
    "PersistentVolumeClaim": _default_claim,
    "PersistentVolume": _default_volume_object,
    "Namespace": _default_namespace,
    "Secret": _default_secret,
    "NetworkPolicy": _default_network_policy,
}
