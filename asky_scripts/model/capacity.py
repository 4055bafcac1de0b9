"""Whether a pod could ever be scheduled: its requests against the largest node's allocatable.

The scheduler says ``Insufficient cpu`` both when the nodes are busy (which passes as other pods
go) and when no node is big enough (which never passes).  Only the second is worth failing on at
once; telling them apart needs the nodes' allocatable, read once per run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from asky_scripts.cluster.objects import Obj, field, meta, name_of, spec, status

# Decimal (k, M, G... and m for milli) and binary (Ki, Mi, Gi...) multipliers of quantities.
_SUFFIXES = {"": 1.0, "m": 1e-3}
_SUFFIXES.update({prefix: 1000.0 ** (i + 1) for i, prefix in enumerate("kMGTPE")})
_SUFFIXES.update({f"{prefix}i": 1024.0 ** (i + 1) for i, prefix in enumerate("KMGTPE")})
_QUANTITY = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)$")
#: What ``Insufficient <resource>`` names, checked against the nodes.
RESOURCES = ("cpu", "memory")


def parse_quantity(text: object) -> float | None:
    """A Kubernetes quantity (``250m``, ``1Gi``, ``2``) as a number; None when unreadable."""
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in _SUFFIXES:
        return None
    try:
        return float(match.group(1)) * _SUFFIXES[match.group(2)]
    except ValueError:
        return None


def _container_requests(container: Obj) -> dict[str, float]:
    """Requests, or the limits the apiserver copies into requests when only limits are set."""
    resources = field(container, "resources")
    wanted = {**field(resources, "limits"), **field(resources, "requests")}
    found: dict[str, float] = {}
    for resource in RESOURCES:
        amount = parse_quantity(wanted.get(resource, 0))
        if amount:
            found[resource] = amount
    return found


def pod_requests(pod: Obj) -> dict[str, float]:
    """What the scheduler reserves: the containers' sum, or the largest init container if more."""
    pod_spec = spec(pod)
    total: dict[str, float] = {}
    for container in pod_spec.get("containers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] = total.get(resource, 0.0) + amount
    for container in pod_spec.get("initContainers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] = max(total.get(resource, 0.0), amount)
    for resource, amount in field(pod_spec, "overhead").items():
        parsed = parse_quantity(amount)
        if resource in RESOURCES and parsed:
            total[resource] = total.get(resource, 0.0) + parsed
    return total


@dataclass(frozen=True)
class NeverFits:
    """A resource the pod requests more of than any node can ever give."""

    resource: str
    requested: str
    largest: str
    node: str

    def __str__(self) -> str:
        return (
            f"it requests {self.requested} {self.resource} but the largest node, {self.node}, "
            f"has {self.largest} allocatable"
        )


def _shown(resource: str, amount: float) -> str:
    if resource == "cpu":
        return f"{amount * 1000:g}m" if amount < 1 else f"{amount:g}"
    return f"{amount / 2**20:g}Mi"


def never_fits(pod: Obj, nodes: Sequence[Obj]) -> NeverFits | None:
    """The first resource no node can satisfy for ``pod``; None when one might, or no nodes."""
    if not nodes:
        return None
    requests = pod_requests(pod)
    for resource in RESOURCES:
        requested = requests.get(resource)
        if not requested:
            continue
        sizes = [(parse_quantity(field(status(n), "allocatable").get(resource)), n) for n in nodes]
        if any(size is None for size, _ in sizes):
            return None  # a node we cannot read might be big enough
        size, node = max(sizes, key=lambda pair: pair[0] or 0.0)
        if size is not None and requested > size:
            name = name_of(node) or "?"
            return NeverFits(resource, _shown(resource, requested), _shown(resource, size), name)
    return None


# -- the whole stack before anything changes --------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """One Deployment of the plan: its name, pod spec and replicas (after --replicas)."""

    name: str
    pod: Obj
    replicas: int


def pod_limits(pod: Obj) -> dict[str, float]:
    """The containers' limits summed (what limits.cpu and limits.memory quotas count)."""
    total: dict[str, float] = {}
    for container in spec(pod).get("containers") or []:
        for resource in RESOURCES:
            amount = parse_quantity(field(field(container, "resources"), "limits").get(resource, 0))
            if amount:
                total[resource] = total.get(resource, 0.0) + amount
    return total


def _sum(amounts: Sequence[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for amount in amounts:
        for resource, value in amount.items():
            total[resource] = total.get(resource, 0.0) + value
    return total


def _live(pod: Obj) -> bool:
    return status(pod).get("phase") not in ("Succeeded", "Failed")


def _breakdown(workloads: Sequence[Workload], resource: str) -> str:
    parts = []
    for w in workloads:
        each = pod_requests(w.pod).get(resource, 0.0)
        if each and w.replicas:
            times = f"{w.replicas} x " if w.replicas > 1 else ""
            parts.append(f"{w.name} {times}{_shown(resource, each)}")
    return ", ".join(parts)


def node_problems(
    workloads: Sequence[Workload], nodes: Sequence[Obj], other_pods: Sequence[Obj] | None
) -> list[str]:
    """The stack's requests against the schedulable nodes' allocatable, less what pods of
    other namespaces already requested there (``other_pods`` None: not readable, not counted).

    What a rolling update briefly adds (maxSurge) is not counted: a first deploy has none, and
    a redeploy of an unchanged template creates no pod.
    """
    schedulable = [n for n in nodes if not spec(n).get("unschedulable")]
    if not schedulable:
        return []
    problems = []
    for w in workloads:
        too_big = never_fits(w.pod, schedulable) if w.replicas else None
        if too_big:
            problems.append(f"{w.name}: {too_big}; it could never be scheduled")
    names = {str(meta(n).get("name")) for n in schedulable}
    placed = [p for p in other_pods or [] if _live(p) and spec(p).get("nodeName") in names]
    used = _sum([pod_requests(p) for p in placed])
    wanted = _sum([{r: v * w.replicas for r, v in pod_requests(w.pod).items()} for w in workloads])
    for resource in RESOURCES:
        sizes = [parse_quantity(field(status(n), "allocatable").get(resource)) for n in schedulable]
        if any(size is None for size in sizes) or not wanted.get(resource):
            continue
        allocatable = sum(size or 0.0 for size in sizes)
        free = allocatable - used.get(resource, 0.0)
        if wanted[resource] > free:
            others = (
                f", {_shown(resource, used[resource])} of it requested by "
                f"{len(placed)} pods of other namespaces"
                if used.get(resource)
                else ""
            )
            problems.append(
                f"the stack requests {_shown(resource, wanted[resource])} {resource} "
                f"({_breakdown(workloads, resource)}) but the nodes have "
                f"{_shown(resource, max(free, 0.0))} free of {_shown(resource, allocatable)} "
                f"allocatable{others}: short by {_shown(resource, wanted[resource] - free)} "
                f"{resource}; lower --replicas or the requests, or add a node"
            )
    return problems


#: ResourceQuota keys and how the stack's pods count against them.
_QUOTA_KEYS = {
    "requests.cpu": ("cpu", pod_requests),
    "cpu": ("cpu", pod_requests),
    "requests.memory": ("memory", pod_requests),
    "memory": ("memory", pod_requests),
    "limits.cpu": ("cpu", pod_limits),
    "limits.memory": ("memory", pod_limits),
}


def quota_problems(
    workloads: Sequence[Workload], quotas: Sequence[Obj], pods_now: Sequence[Obj]
) -> list[str]:
    """Each ResourceQuota of the namespace against the stack.  The pods already there (ours,
    in a namespace that preflight found to be ours) are replaced by the stack's, so their
    share of ``used`` is given back before comparing."""
    problems = []
    live_now = [p for p in pods_now if _live(p)]
    for quota in quotas:
        name = name_of(quota) or "?"
        hard = status(quota).get("hard") or spec(quota).get("hard") or {}
        used = status(quota).get("used") or {}
        for key, limit in hard.items():
            resource = ""
            if key in {"pods", "count/pods"}:
                need = float(sum(w.replicas for w in workloads))
                mine = float(len(live_now))
            elif key in _QUOTA_KEYS:
                resource, counter = _QUOTA_KEYS[key]
                need = sum(counter(w.pod).get(resource, 0.0) * w.replicas for w in workloads)
                mine = sum(counter(p).get(resource, 0.0) for p in live_now)
            else:
                continue
            allowed = parse_quantity(limit)
            taken = parse_quantity(used.get(key, 0)) or 0.0
            if allowed is None:
                continue
            left = allowed - max(taken - mine, 0.0)
            if need > left:

                def shown(value: float, resource: str = resource) -> str:
                    return _shown(resource, value) if resource else f"{value:g}"

                problems.append(
                    f"ResourceQuota {name} allows {shown(allowed)} {key} in the namespace"
                    + (f", {shown(taken - mine)} of it used by other pods" if taken > mine else "")
                    + f"; the stack needs {shown(need)}: short by {shown(need - left)}"
                )
    return problems


def limit_range_problems(workloads: Sequence[Workload], limit_ranges: Sequence[Obj]) -> list[str]:
    """Containers (or pods) outside a LimitRange's min/max, which admission would refuse."""
    problems = []
    for limit_range in limit_ranges:
        name = name_of(limit_range) or "?"
        for rule in spec(limit_range).get("limits") or []:
            kind = rule.get("type")
            for w in workloads:
                if kind == "Container":
                    subjects = [
                        (f"{w.name}/{c.get('name')}", {"spec": {"containers": [c]}})
                        for c in spec(w.pod).get("containers") or []
                    ]
                elif kind == "Pod":
                    subjects = [(w.name, w.pod)]
                else:
                    continue
                for who, pod in subjects:
                    problems += _outside(name, kind, who, pod, rule)
    return problems


def _outside(name: str, kind: str, who: str, pod: Obj, rule: Obj) -> list[str]:
    found = []
    requests, limits = pod_requests(pod), pod_limits(pod)
    for resource in RESOURCES:
        most = parse_quantity(field(rule, "max").get(resource))
        least = parse_quantity(field(rule, "min").get(resource))
        limit, request = limits.get(resource), requests.get(resource)
        if most is not None and limit is not None and limit > most:
            found.append(
                f"LimitRange {name}: {kind.lower()} {who} limits {_shown(resource, limit)} "
                f"{resource}, above its maximum {_shown(resource, most)}"
            )
        if least is not None and request is not None and request < least:
            found.append(
                f"LimitRange {name}: {kind.lower()} {who} requests {_shown(resource, request)} "
                f"{resource}, below its minimum {_shown(resource, least)}"
            )
    return found
