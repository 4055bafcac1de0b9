"""Every Kubernetes kind asky-scripts reads or writes, with what it must know of each: one table.

kubectl is always given the group-qualified resource name, so no other group's kind of the same
name (an Event of events.k8s.io, a CRD called Service) is picked by discovery.  Scope decides
whether ``-n`` applies and whether an access review names a namespace; ``observed_generation``
says the kind's controller reports, in ``status.observedGeneration``, that it has seen the
latest spec, so a status older than the spec is not mistaken for the new one's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    resource: str
    namespaced: bool = True
    observed_generation: bool = False


_TABLE = (
    Kind("Namespace", "namespaces", namespaced=False),
    Kind("PersistentVolume", "persistentvolumes", namespaced=False),
    Kind("StorageClass", "storageclasses.storage.k8s.io", namespaced=False),
    Kind("ClusterRole", "clusterroles.rbac.authorization.k8s.io", namespaced=False),
    Kind("ClusterRoleBinding", "clusterrolebindings.rbac.authorization.k8s.io", namespaced=False),
    Kind("Node", "nodes", namespaced=False),
    Kind("PersistentVolumeClaim", "persistentvolumeclaims"),
    Kind("ConfigMap", "configmaps"),
    Kind("Secret", "secrets"),
    Kind("Service", "services"),
    Kind("Deployment", "deployments.apps", observed_generation=True),
    Kind("ReplicaSet", "replicasets.apps", observed_generation=True),
    Kind("StatefulSet", "statefulsets.apps", observed_generation=True),
    Kind("DaemonSet", "daemonsets.apps", observed_generation=True),
    Kind("Pod", "pods"),
    Kind("EndpointSlice", "endpointslices.discovery.k8s.io"),
    Kind("Event", "events"),
    Kind("NetworkPolicy", "networkpolicies.networking.k8s.io"),
    Kind("PodDisruptionBudget", "poddisruptionbudgets.policy"),
    Kind("ResourceQuota", "resourcequotas"),
    Kind("LimitRange", "limitranges"),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in _TABLE}
_BY_RESOURCE: dict[str, Kind] = {kind.resource: kind for kind in _TABLE}


def resource(kind: str) -> str:
    """The group-qualified resource kubectl is given for ``kind`` (KeyError if unknown)."""
    return KINDS[kind].resource


def is_namespaced(kind: str) -> bool:
    """Unknown kinds count as namespaced: the API server says otherwise if they are not."""
    known = KINDS.get(kind)
    return known.namespaced if known else True


def resource_is_namespaced(name: str) -> bool:
    """The same question for a resource name (``deployments.apps``), as access reviews ask it."""
    known = _BY_RESOURCE.get(name)
    return known.namespaced if known else True


def reports_observed_generation(kind: str) -> bool:
    known = KINDS.get(kind)
    return bool(known and known.observed_generation)
