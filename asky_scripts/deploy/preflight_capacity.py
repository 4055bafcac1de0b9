"""Preflight's check that the whole stack fits, before anything changes.

Its requests (with --replicas) are compared with the nodes' free allocatable, and with the
namespace's ResourceQuotas and LimitRanges (model/capacity.py judges; this module reads).
Another namespace's pods are only readable with cluster-wide list rights; without them the
stack is compared with the allocatable alone (a pod that can never fit is still caught).
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import ForbiddenError
from asky_scripts.cluster.objects import Obj, field, kind_of, meta, spec
from asky_scripts.model.capacity import (
    Workload,
    limit_range_problems,
    node_problems,
    quota_problems,
)
from asky_scripts.model.stages import PlannedStage

CAPACITY_HINT = (
    "the pods would stay Pending (or be refused by admission); lower --replicas "
    "SVC=N or the Deployments' resources, or make room in the cluster"
)


def stack_workloads(plan: Sequence[PlannedStage]) -> list[Workload]:
    """The Deployments of the plan, with --replicas already applied by for_deploy."""
    return [
        Workload(
            m.name,
            {"spec": field(field(spec(m.obj), "template"), "spec")},
            int(spec(m.obj).get("replicas", 1)),
        )
        for planned in plan
        for m in planned.manifests
        if m.kind == "Deployment"
    ]


def read_if_allowed(kubectl: Kubectl, args: list[str]) -> list[Obj] | None:
    """The objects, or None when we may not read them (a namespace-scoped user)."""
    try:
        return kubectl.get_items(args)
    except ForbiddenError:
        return None


def all_pods(kubectl: Kubectl) -> list[Obj] | None:
    return read_if_allowed(kubectl, ["get", "pods", "--all-namespaces"])


def policies(kubectl: Kubectl, namespace: str) -> list[Obj] | None:
    """The namespace's ResourceQuotas and LimitRanges."""
    return read_if_allowed(kubectl, ["get", "resourcequotas,limitranges", "-n", namespace])


def capacity_problems(
    kubectl: Kubectl,
    namespace: str,
    plan: Sequence[PlannedStage],
    nodes: Sequence[Obj],
    pods: list[Obj] | None,
    found_policies: Sequence[Obj],
    *,
    namespace_exists: bool,
) -> list[str]:
    """What does not fit, given the pods (None: not readable cluster-wide) and policies read."""
    workloads = stack_workloads(plan)
    if pods is None and namespace_exists:
        pods = read_if_allowed(kubectl, ["get", "pods", "-n", namespace])
    ours = [p for p in pods or [] if meta(p).get("namespace") == namespace]
    others = None if pods is None else [p for p in pods if meta(p).get("namespace") != namespace]
    quotas = [o for o in found_policies if kind_of(o) == "ResourceQuota"]
    limit_ranges = [o for o in found_policies if kind_of(o) == "LimitRange"]
    return (
        node_problems(workloads, nodes, others)
        + quota_problems(workloads, quotas, ours)
        + limit_range_problems(workloads, limit_ranges)
    )
