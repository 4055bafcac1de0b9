"""Whether a pod could ever be scheduled: its requests against the largest node's allocatable.

The scheduler says ``Insufficient cpu`` both when the nodes are busy (which passes as other pods
go) and when no node is big enough (which never passes).  Only the second is worth failing on at
once; telling them apart needs the nodes' allocatable, read once per run.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

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
    resources = container.get("resources") or {}
    wanted = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    found: dict[str, float] = {}
    for resource in RESOURCES:
        amount = parse_quantity(wanted.get(resource, 0))
        if amount:
            found[resource] = amount
    return found


def pod_requests(pod: Obj) -> dict[str, float]:
    """What the scheduler reserves: the containers' sum, or the largest init container if more."""
    spec = pod.get("spec") or {}
    total: dict[str, float] = {}
    for container in spec.get("containers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] = total.get(resource, 0.0) + amount
    for container in spec.get("initContainers") or []:
        for resource, amount in _container_requests(container).items():
            total[resource] = max(total.get(resource, 0.0), amount)
    for resource, amount in (spec.get("overhead") or {}).items():
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
        sizes = [
            (parse_quantity(((n.get("status") or {}).get("allocatable") or {}).get(resource)), n)
            for n in nodes
        ]
        if any(size is None for size, _ in sizes):
            return None  # a node we cannot read might be big enough
        size, node = max(sizes, key=lambda pair: pair[0] or 0.0)
        if size is not None and requested > size:
            name = str((node.get("metadata") or {}).get("name", "?"))
            return NeverFits(resource, _shown(resource, requested), _shown(resource, size), name)
    return None
