"""Server-side Table rendering for ``kubectl get``, as kube-apiserver's printers produce it.

kubectl asks for ``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints whatever columns and
cells come back, so every header, ``<none>`` and ``2 (5s ago)`` a user sees is decided here.  The
rules follow ``pkg/printers/internalversion/printers.go``; the apiserver always renders the wide
(priority 1) cells and kubectl hides them unless ``-o wide``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from kubesim.selectors import LabelSelector, SelectorError, format_label_selector, format_labels

JSON = dict[str, Any]
Cell = str | int | bool

_NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
_CREATED_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by "
    "the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/"
    "devel/sig-architecture/api-conventions.md#metadata"
)


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    type: str = "string"
    priority: int = 0
    format: str = ""

    def definition(self) -> JSON:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


_NAME = Column("Name", _NAME_DOC, format="name")
_AGE = Column("Age", _CREATED_DOC)
_CONTAINERS = Column("Containers", "Names of each container in the template.", priority=1)
_IMAGES = Column("Images", "Images referenced by each container in the template.", priority=1)


def human_duration(seconds: float) -> str:
    """duration.HumanDuration: the compact ages kubectl users know (``5s``, ``3m2s``, ``2d3h``)."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        return _two_units(minutes, "m", whole % 60, "s")
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        return _two_units(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        return _two_units(days, "d", hours % 24, "h")
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        return _two_units(years, "y", days % 365, "d")
    return f"{years}y"


def _two_units(large: int, large_unit: str, small: int, small_unit: str) -> str:
    """``3m2s``, or ``3m`` when the smaller unit is zero (HumanDuration leaves it out)."""
    return f"{large}{large_unit}{small}{small_unit}" if small else f"{large}{large_unit}"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class _Renderer:
    """Per-request state: the clock every AGE cell is measured against."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def since(self, timestamp: Any) -> str:
        moment = _parse_time(timestamp)
        if moment is None:
            return "<unknown>"
        return human_duration((self.now - moment).total_seconds())

    def age(self, obj: Mapping[str, Any]) -> str:
        return self.since(_meta(obj).get("creationTimestamp"))


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _name(obj: Mapping[str, Any]) -> str:
    return str(_meta(obj).get("name", ""))


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _status(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("status") or {}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _container_cells(pod_spec: Mapping[str, Any]) -> list[Cell]:
    containers = pod_spec.get("containers") or []
    return [
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    ]


def _template_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (_spec(obj).get("template") or {}).get("spec") or {}


# --- Pod -----------------------------------------------------------------------------------------


def _restartable(init_container: Mapping[str, Any] | None) -> bool:
    return bool(init_container) and (init_container or {}).get("restartPolicy") == "Always"


def _has_condition(obj: Mapping[str, Any], kind: str) -> bool:
    return any(
        c.get("type") == kind and c.get("status") == "True"
        for c in _status(obj).get("conditions") or []
    )


def _terminated_at(container_status: Mapping[str, Any]) -> datetime | None:
    last = (container_status.get("lastState") or {}).get("terminated") or {}
    return _parse_time(last.get("finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or current < candidate else current


class _PodSummary:
    """printPod's READY, STATUS and RESTARTS, computed the way the kubelet's users read them."""

    def __init__(self, pod: Mapping[str, Any]) -> None:
        spec, status = _spec(pod), _status(pod)
        self.pod = pod
        self.restarts = 0
        self.ready = 0
        self.total = len(spec.get("containers") or [])
        self.last_restart: datetime | None = None
        self.reason = str(status.get("reason") or status.get("phase") or "")
        for condition in status.get("conditions") or []:
            if condition.get("type") == "PodScheduled" and (
                condition.get("reason") == "SchedulingGated"
            ):
                self.reason = "SchedulingGated"
        self.init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
        self.total += sum(1 for c in self.init_specs.values() if _restartable(c))
        initializing = self._scan_init_containers(status.get("initContainerStatuses") or [])
        if not initializing or _has_condition(pod, "Initialized"):
            self._scan_containers(status.get("containerStatuses") or [])
        phase = status.get("phase")
        if _meta(pod).get("deletionTimestamp"):
            if status.get("reason") == "NodeLost":
                self.reason = "Unknown"
            elif phase not in ("Failed", "Succeeded"):
                self.reason = "Terminating"

    def _scan_init_containers(self, statuses: list[Mapping[str, Any]]) -> bool:
        self.sidecar_restarts = 0
        self.sidecar_last_restart: datetime | None = None
        for index, container in enumerate(statuses):
            restarts = _int(container.get("restartCount"))
            self.restarts += restarts
            self.last_restart = _later(self.last_restart, _terminated_at(container))
            restartable = _restartable(self.init_specs.get(container.get("name")))
            if restartable:
                self.sidecar_restarts += restarts
                self.sidecar_last_restart = _later(
                    self.sidecar_last_restart, _terminated_at(container)
                )
            state = container.get("state") or {}
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if terminated is not None and _int(terminated.get("exitCode")) == 0:
                continue
            if restartable and container.get("started"):
                self.ready += 1 if container.get("ready") else 0
                continue
            if terminated is not None:
                if terminated.get("reason"):
                    self.reason = "Init:" + str(terminated["reason"])
                elif terminated.get("signal"):
                    self.reason = f"Init:Signal:{_int(terminated['signal'])}"
                else:
                    self.reason = f"Init:ExitCode:{_int(terminated.get('exitCode'))}"
            elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
                self.reason = "Init:" + str(waiting["reason"])
            else:
                self.reason = f"Init:{index}/{len(self.init_specs)}"
            return True
        return False

    def _scan_containers(self, statuses: list[Mapping[str, Any]]) -> None:
        self.restarts = self.sidecar_restarts
        self.last_restart = self.sidecar_last_restart
        has_running = False
        for container in reversed(statuses):
            self.restarts += _int(container.get("restartCount"))
            self.last_restart = _later(self.last_restart, _terminated_at(container))
            state = container.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                self.reason = str(waiting["reason"])
            elif terminated and terminated.get("reason"):
                self.reason = str(terminated["reason"])
            elif terminated is not None:
                if terminated.get("signal"):
                    self.reason = f"Signal:{_int(terminated['signal'])}"
                else:
                    self.reason = f"ExitCode:{_int(terminated.get('exitCode'))}"
            elif container.get("ready") and state.get("running") is not None:
                has_running = True
                self.ready += 1
        if self.reason == "Completed" and has_running:
            self.reason = "Running" if _has_condition(self.pod, "Ready") else "NotReady"

    def restarts_cell(self, renderer: _Renderer) -> str:
        if self.restarts and self.last_restart is not None:
            ago = human_duration((renderer.now - self.last_restart).total_seconds())
            return f"{self.restarts} ({ago} ago)"
        return str(self.restarts)


def _pod_row(obj: JSON, r: _Renderer) -> list[Cell]:
    summary = _PodSummary(obj)
    spec, status = _spec(obj), _status(obj)
    ips = status.get("podIPs") or []
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        passed = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        readiness = f"{passed}/{len(gates)}"
    return [
        _name(obj),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        summary.restarts_cell(r),
        r.age(obj),
        str(ips[0].get("ip", "")) if ips and ips[0].get("ip") else "<none>",
        str(spec.get("nodeName") or "<none>"),
        str(status.get("nominatedNodeName") or "<none>"),
        readiness,
    ]


_POD_CONDITIONS = {
    "Succeeded": "The pod has completed successfully.",
    "Failed": "The pod failed.",
}


def _pod_conditions(obj: JSON) -> list[JSON]:
    phase = _status(obj).get("phase")
    if phase not in _POD_CONDITIONS:
        return []
    return [
        {"type": "Completed", "status": "True", "reason": phase, "message": _POD_CONDITIONS[phase]}
    ]


# --- workloads -----------------------------------------------------------------------------------


def _deployment_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    try:
        selector = str(LabelSelector.from_struct(spec.get("selector")))
    except SelectorError:
        selector = "<invalid>"
    return [
        _name(obj),
        f"{_int(status.get('readyReplicas'))}/{_int(spec.get('replicas', 1))}",
        _int(status.get("updatedReplicas")),
        _int(status.get("availableReplicas")),
        r.age(obj),
        *_container_cells(_template_spec(obj)),
        selector,
    ]


def _replica_set_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    return [
        _name(obj),
        _int(spec.get("replicas", 1)),
        _int(status.get("replicas")),
        _int(status.get("readyReplicas")),
        r.age(obj),
        *_container_cells(_template_spec(obj)),
        format_label_selector(spec.get("selector")),
    ]


def _int_or_string(value: Any) -> str:
    return "N/A" if value is None else str(value)


def _pdb_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec = _spec(obj)
    return [
        _name(obj),
        _int_or_string(spec.get("minAvailable")),
        _int_or_string(spec.get("maxUnavailable")),
        _int(_status(obj).get("disruptionsAllowed")),
        r.age(obj),
    ]


# --- networking ----------------------------------------------------------------------------------


def _external_ip(obj: JSON) -> str:
    spec = _spec(obj)
    service_type = spec.get("type") or "ClusterIP"
    external = [str(ip) for ip in spec.get("externalIPs") or []]
    if service_type in ("ClusterIP", "NodePort"):
        return ",".join(external) or "<none>"
    if service_type == "LoadBalancer":
        ingress = (_status(obj).get("loadBalancer") or {}).get("ingress") or []
        balancer = sorted(
            {
                str(i.get("ip") or i.get("hostname"))
                for i in ingress
                if i.get("ip") or i.get("hostname")
            }
        )
        if external:
            return ",".join([*balancer, *external])
        return ",".join(balancer) or "<pending>"
    if service_type == "ExternalName":
        return str(spec.get("externalName", ""))
    return "<unknown>"


def _service_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec = _spec(obj)
    cluster_ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
    ports = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol", "TCP")
        node_port = _int(port.get("nodePort"))
        number = _int(port.get("port"))
        ports.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return [
        _name(obj),
        str(spec.get("type") or "ClusterIP"),
        str(cluster_ips[0]) if cluster_ips else "<none>",
        _external_ip(obj),
        ",".join(ports) or "<none>",
        r.age(obj),
        format_labels(spec.get("selector")),
    ]


def _list_with_more(items: list[str], limit: int = 3) -> str:
    if len(items) > limit:
        return ",".join(items[:limit]) + f" + {len(items) - limit} more..."
    return ",".join(items) or "<unset>"


def _endpoint_slice_row(obj: JSON, r: _Renderer) -> list[Cell]:
    ports = []
    for port in obj.get("ports") or []:
        if port.get("port") is not None:
            ports.append(str(_int(port["port"])))
        elif port.get("name") is not None:
            ports.append(str(port["name"]))
        else:
            ports.append("*")
    addresses = [str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [
        _name(obj),
        str(obj.get("addressType", "")),
        _list_with_more(ports),
        _list_with_more(addresses),
        r.age(obj),
    ]


def _network_policy_row(obj: JSON, r: _Renderer) -> list[Cell]:
    return [_name(obj), format_label_selector(_spec(obj).get("podSelector") or {}), r.age(obj)]


# --- storage -------------------------------------------------------------------------------------

_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_BETA_CLASS_ANNOTATION = "volume.beta.kubernetes.io/storage-class"


def _access_modes(modes: Any) -> str:
    present = set(modes or [])
    return ",".join(short for mode, short in _ACCESS_MODES if mode in present)


def _storage_class(obj: JSON) -> str:
    annotations = _meta(obj).get("annotations") or {}
    if _BETA_CLASS_ANNOTATION in annotations:
        return str(annotations[_BETA_CLASS_ANNOTATION])
    return str(_spec(obj).get("storageClassName") or "")


def _phase(obj: JSON) -> str:
    if _meta(obj).get("deletionTimestamp"):
        return "Terminating"
    return str(_status(obj).get("phase", ""))


def _pv_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec = _spec(obj)
    claim = spec.get("claimRef")
    return [
        _name(obj),
        str((spec.get("capacity") or {}).get("storage", "0")),
        _access_modes(spec.get("accessModes")),
        str(spec.get("persistentVolumeReclaimPolicy", "")),
        _phase(obj),
        f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else "",
        _storage_class(obj),
        str(spec.get("volumeAttributesClassName") or "<unset>"),
        str(_status(obj).get("reason", "")),
        r.age(obj),
        str(spec.get("volumeMode") or "<unset>"),
    ]


def _pvc_row(obj: JSON, r: _Renderer) -> list[Cell]:
    spec, status = _spec(obj), _status(obj)
    capacity = access = ""
    if spec.get("volumeName"):
        access = _access_modes(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", "0"))
    return [
        _name(obj),
        _phase(obj),
        str(spec.get("volumeName", "")),
        capacity,
        access,
        _storage_class(obj),
        str(spec.get("volumeAttributesClassName") or "<unset>"),
        r.age(obj),
        str(spec.get("volumeMode") or "<unset>"),
    ]


_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _storage_class_row(obj: JSON, r: _Renderer) -> list[Cell]:
    annotations = _meta(obj).get("annotations") or {}
    default = any(annotations.get(key) == "true" for key in _DEFAULT_CLASS_ANNOTATIONS)
    return [
        _name(obj) + (" (default)" if default else ""),
        str(obj.get("provisioner", "")),
        str(obj.get("reclaimPolicy") or "Delete"),
        str(obj.get("volumeBindingMode") or "Immediate"),
        bool(obj.get("allowVolumeExpansion", False)),
        r.age(obj),
    ]


# --- cluster and config --------------------------------------------------------------------------


def _namespace_row(obj: JSON, r: _Renderer) -> list[Cell]:
    return [_name(obj), str(_status(obj).get("phase", "")), r.age(obj)]


def _config_map_row(obj: JSON, r: _Renderer) -> list[Cell]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [_name(obj), count, r.age(obj)]


def _secret_row(obj: JSON, r: _Renderer) -> list[Cell]:
    return [_name(obj), str(obj.get("type", "")), len(obj.get("data") or {}), r.age(obj)]


def _node_address(obj: JSON, kind: str) -> str:
    for address in _status(obj).get("addresses") or []:
        if address.get("type") == kind:
            return str(address.get("address", ""))
    return "<none>"


def _node_row(obj: JSON, r: _Renderer) -> list[Cell]:
    status = _status(obj)
    states = [
        "Ready" if c.get("status") == "True" else "NotReady"
        for c in status.get("conditions") or []
        if c.get("type") == "Ready"
    ][-1:] or ["Unknown"]
    if _spec(obj).get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for key, value in (_meta(obj).get("labels") or {}).items():
        if key.startswith("node-role.kubernetes.io/") and key != "node-role.kubernetes.io/":
            roles.add(key.removeprefix("node-role.kubernetes.io/"))
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    info = status.get("nodeInfo") or {}
    return [
        _name(obj),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        r.age(obj),
        str(info.get("kubeletVersion", "")),
        _node_address(obj, "InternalIP"),
        _node_address(obj, "ExternalIP"),
        str(info.get("osImage") or "<unknown>"),
        str(info.get("kernelVersion") or "<unknown>"),
        str(info.get("containerRuntimeVersion") or "<unknown>"),
    ]


def _event_row(obj: JSON, r: _Renderer) -> list[Cell]:
    first = (
        r.since(obj.get("firstTimestamp"))
        if _parse_time(obj.get("firstTimestamp"))
        else r.since(obj.get("eventTime"))
    )
    last = r.since(obj.get("lastTimestamp")) if _parse_time(obj.get("lastTimestamp")) else first
    count = _int(obj.get("count"))
    series = obj.get("series")
    if series:
        last = r.since(series.get("lastObservedTime"))
        count = _int(series.get("count"))
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    target = str(involved.get("kind", "")).lower()
    if involved.get("name"):
        target += f"/{involved['name']}"
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    host = source.get("host") or obj.get("reportingInstance") or ""
    return [
        last,
        str(obj.get("type", "")),
        str(obj.get("reason", "")),
        target,
        str(involved.get("fieldPath", "")),
        f"{component}, {host}" if host else str(component),
        str(obj.get("message", "")).strip(),
        first,
        count,
        _name(obj),
    ]


def _default_row(obj: JSON, r: _Renderer) -> list[Cell]:
    created = _parse_time(_meta(obj).get("creationTimestamp"))
    stamp = created.astimezone(timezone.utc) if created else datetime(1, 1, 1, tzinfo=timezone.utc)
    return [_name(obj), stamp.strftime("%Y-%m-%dT%H:%M:%SZ")]


# --- the registry --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    row: Callable[[JSON, _Renderer], list[Cell]]
    conditions: Callable[[JSON], list[JSON]] = lambda obj: []


def _columns(*specs: Column | tuple[str, str] | tuple[str, str, str]) -> tuple[Column, ...]:
    columns = []
    for spec in specs:
        if isinstance(spec, Column):
            columns.append(spec)
        elif len(spec) == 2:
            columns.append(Column(spec[0], spec[1]))
        else:
            columns.append(Column(spec[0], spec[1], type=spec[2]))
    return tuple(columns)


def _wide(name: str, description: str) -> Column:
    return Column(name, description, priority=1)


PRINTERS: dict[str, Printer] = {
    "Pod": Printer(
        _columns(
            _NAME,
            ("Ready", "The aggregate readiness state of this pod for accepting traffic."),
            ("Status", "The aggregate status of the containers in this pod."),
            (
                "Restarts",
                "The number of times the containers in this pod have been restarted and when "
                "the last container in this pod has restarted.",
            ),
            _AGE,
            _wide("IP", "IP address allocated to the pod."),
            _wide("Node", "NodeName indicates in which node this pod is scheduled."),
            _wide("Nominated Node", "nominatedNodeName is set when this pod preempts other pods."),
            _wide("Readiness Gates", "If specified, all readiness gates will be evaluated."),
        ),
        _pod_row,
        _pod_conditions,
    ),
    "Deployment": Printer(
        _columns(
            _NAME,
            ("Ready", "Number of the pod with ready state"),
            ("Up-to-date", "Total number of non-terminating pods targeted by this deployment."),
            ("Available", "Total number of available non-terminating pods."),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _wide("Selector", "Label selector for pods."),
        ),
        _deployment_row,
    ),
    "ReplicaSet": Printer(
        _columns(
            _NAME,
            ("Desired", "Replicas is the number of desired pods.", "integer"),
            ("Current", "Replicas is the most recently observed number of pods.", "integer"),
            (
                "Ready",
                "The number of pods targeted by this ReplicaSet with a Ready Condition.",
                "integer",
            ),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _wide("Selector", "Selector is a label query over pods."),
        ),
        _replica_set_row,
    ),
    "Service": Printer(
        _columns(
            _NAME,
            ("Type", "type determines how the Service is exposed."),
            ("Cluster-IP", "clusterIP is the IP address of the service."),
            (
                "External-IP",
                "externalIPs is a list of IP addresses for which nodes also accept traffic.",
            ),
            ("Port(s)", "The list of ports that are exposed by this service."),
            _AGE,
            _wide(
                "Selector",
                "Route service traffic to pods with label keys and values matching this selector.",
            ),
        ),
        _service_row,
    ),
    "PersistentVolumeClaim": Printer(
        _columns(
            _NAME,
            ("Status", "phase represents the current phase of PersistentVolumeClaim."),
            ("Volume", "volumeName is the binding reference to the PersistentVolume."),
            ("Capacity", "capacity represents the actual resources of the underlying volume."),
            ("Access Modes", "accessModes contains the actual access modes the volume has."),
            ("StorageClass", "StorageClass of the pvc"),
            ("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
            _AGE,
            _wide("VolumeMode", "volumeMode defines what type of volume is required by the claim."),
        ),
        _pvc_row,
    ),
    "PersistentVolume": Printer(
        _columns(
            _NAME,
            ("Capacity", "capacity is the description of the persistent volume's resources."),
            ("Access Modes", "accessModes contains all ways the volume can be mounted."),
            ("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens on release."),
            ("Status", "phase indicates if a volume is available, bound to a claim, or released."),
            ("Claim", "claimRef is part of a bi-directional binding."),
            ("StorageClass", "StorageClass of the pv"),
            ("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
            ("Reason", "reason is a brief CamelCase string that describes any failure."),
            _AGE,
            _wide(
                "VolumeMode",
                "volumeMode defines if a volume is used with a formatted filesystem.",
            ),
        ),
        _pv_row,
    ),
    "Namespace": Printer(
        _columns(_NAME, ("Status", "The status of the namespace"), _AGE), _namespace_row
    ),
    "ConfigMap": Printer(
        _columns(_NAME, ("Data", "Data contains the configuration data.", "string"), _AGE),
        _config_map_row,
    ),
    "Secret": Printer(
        _columns(
            _NAME,
            ("Type", "Used to facilitate programmatic handling of secret data."),
            ("Data", "Data contains the secret data."),
            _AGE,
        ),
        _secret_row,
    ),
    "Node": Printer(
        _columns(
            _NAME,
            ("Status", "The status of the node"),
            ("Roles", "The roles of the node"),
            _AGE,
            ("Version", "Kubelet Version reported by the node."),
            _wide("Internal-IP", "List of addresses reachable to the node."),
            _wide("External-IP", "List of addresses reachable to the node."),
            _wide("OS-Image", "OS Image reported by the node from /etc/os-release."),
            _wide("Kernel-Version", "Kernel Version reported by the node from 'uname -r'."),
            _wide("Container-Runtime", "ContainerRuntime Version reported by the node."),
        ),
        _node_row,
    ),
    "Event": Printer(
        _columns(
            (
                "Last Seen",
                "The time at which the most recent occurrence of this event was recorded.",
            ),
            ("Type", "Type of this event (Normal, Warning)."),
            ("Reason", "This should be a short, machine understandable string."),
            ("Object", "The object that this event is about."),
            _wide("Subobject", "The field of the object this event is about."),
            _wide("Source", "The component reporting this event."),
            ("Message", "A human-readable description of the status of this operation."),
            _wide("First Seen", "The time at which the event was first recorded."),
            _wide("Count", "The number of times this event has occurred."),
            Column("Name", _NAME_DOC, priority=1, format="name"),
        ),
        _event_row,
    ),
    "EndpointSlice": Printer(
        _columns(
            _NAME,
            ("AddressType", "addressType specifies the type of address carried by this slice."),
            ("Ports", "ports specifies the list of network ports exposed by each endpoint."),
            ("Endpoints", "endpoints is a list of unique endpoints in this slice."),
            _AGE,
        ),
        _endpoint_slice_row,
    ),
    "StorageClass": Printer(
        _columns(
            _NAME,
            ("Provisioner", "provisioner indicates the type of the provisioner."),
            (
                "ReclaimPolicy",
                "reclaimPolicy controls the reclaimPolicy for dynamically provisioned volumes.",
            ),
            (
                "VolumeBindingMode",
                "volumeBindingMode indicates how claims should be provisioned and bound.",
            ),
            (
                "AllowVolumeExpansion",
                "allowVolumeExpansion shows whether the storage class allow volume expand.",
            ),
            _AGE,
        ),
        _storage_class_row,
    ),
    "PodDisruptionBudget": Printer(
        _columns(
            _NAME,
            ("Min Available", "The minimum number of pods that must be available."),
            ("Max Unavailable", "The maximum number of pods that may be unavailable."),
            (
                "Allowed Disruptions",
                "Calculated number of pods that may be disrupted at this time.",
                "integer",
            ),
            _AGE,
        ),
        _pdb_row,
    ),
    "NetworkPolicy": Printer(
        _columns(
            _NAME,
            ("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies."),
            _AGE,
        ),
        _network_policy_row,
    ),
}

DEFAULT_PRINTER = Printer((_NAME, Column("Created At", _CREATED_DOC, type="date")), _default_row)


def _row_object(obj: JSON, include_object: str) -> JSON | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": dict(_meta(obj)),
    }


def to_table(
    kind: str,
    objects: list[JSON],
    *,
    now: datetime,
    resource_version: str,
    include_object: str = "Metadata",
) -> JSON:
    """Render ``objects`` of ``kind`` as the meta.k8s.io/v1 Table kube-apiserver would return.

    ``include_object`` is the ``includeObject`` query parameter: None, Metadata or Object.
    """
    printer = PRINTERS.get(kind, DEFAULT_PRINTER)
    renderer = _Renderer(now if now.tzinfo else now.replace(tzinfo=timezone.utc))
    rows = []
    for obj in objects:
        row: JSON = {"cells": printer.row(obj, renderer)}
        if conditions := printer.conditions(obj):
            row["conditions"] = conditions
        row["object"] = _row_object(obj, include_object)
        rows.append(row)
    metadata: JSON = {"resourceVersion": resource_version} if resource_version else {}
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [column.definition() for column in printer.columns],
        "rows": rows,
    }
