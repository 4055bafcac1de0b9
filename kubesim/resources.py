"""The API resources kubesim serves, described once for discovery, routing and storage.

Discovery is generated from this table rather than copied from a real apiserver, so kubectl
never learns of a resource we cannot store; the entries themselves (verbs, short names,
categories, subresources) match a real kube-apiserver's, which tests/kubesim checks against
the recorded discovery documents in ``shared/k8s-api``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_CRUD = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_STATUS = ("get", "patch", "update")


@dataclass(frozen=True)
class Subresource:
    name: str
    verbs: tuple[str, ...]
    kind: str = ""
    group: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class Resource:
    """One served resource (``deployments`` in ``apps/v1``) and what kubectl learns of it."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _CRUD
    subresources: tuple[Subresource, ...] = ()
    # Whether metadata.generation tracks spec changes (the registry strategies that set it).
    has_generation: bool = False
    # Resources that are computed per request and never stored (access reviews).
    virtual: bool = False
    singular: str = field(default="")
    # The version the apiserver stores, when not the served one (it feeds storageVersionHash).
    storage_version: str = ""

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def qualified(self) -> str:
        """``deployments.apps``: how the apiserver names the resource in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def subresource(self, name: str) -> Subresource | None:
        return next((s for s in self.subresources if s.name == name), None)


def _status() -> Subresource:
    return Subresource("status", _STATUS)


def _scale() -> Subresource:
    return Subresource("scale", _STATUS, "Scale", "autoscaling", "v1")


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "",
        "v1",
        "namespaces",
        "Namespace",
        False,
        ("ns",),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        subresources=(Subresource("finalize", ("update",)), _status()),
    ),
    Resource("", "v1", "nodes", "Node", False, ("no",), subresources=(_status(),)),
    Resource(
        "", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), subresources=(_status(),)
    ),
    Resource(
        "",
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        True,
        ("pvc",),
        subresources=(_status(),),
    ),
    Resource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Resource("", "v1", "secrets", "Secret", True),
    Resource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Resource("", "v1", "services", "Service", True, ("svc",), ("all",), subresources=(_status(),)),
    Resource("", "v1", "endpoints", "Endpoints", True, ("ep",), singular="endpoints"),
    Resource("", "v1", "events", "Event", True, ("ev",)),
    # Stored and listed (run.py's preflight reads them); no quota controller fills in
    # status.used and no admission enforces them (kubesim/README.md lists the difference).
    Resource("", "v1", "limitranges", "LimitRange", True, ("limits",)),
    Resource(
        "", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), subresources=(_status(),)
    ),
    Resource(
        "",
        "v1",
        "pods",
        "Pod",
        True,
        ("po",),
        ("all",),
        subresources=(Subresource("log", ("get",)), _status()),
        has_generation=True,
    ),
    Resource(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        True,
        ("deploy",),
        ("all",),
        subresources=(_scale(), _status()),
        has_generation=True,
    ),
    Resource(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        True,
        ("rs",),
        ("all",),
        subresources=(_scale(), _status()),
        has_generation=True,
    ),
    Resource(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        False,
        verbs=("create",),
        virtual=True,
    ),
    Resource(
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        "EndpointSlice",
        True,
        storage_version="v1beta1",
    ),
    Resource(
        "networking.k8s.io",
        "v1",
        "networkpolicies",
        "NetworkPolicy",
        True,
        ("netpol",),
        has_generation=True,
    ),
    Resource(
        "policy",
        "v1",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        True,
        ("pdb",),
        subresources=(_status(),),
        has_generation=True,
    ),
    Resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
)

# Groups in the order a real apiserver lists them in /apis.
GROUP_ORDER: tuple[str, ...] = (
    "apps",
    "authorization.k8s.io",
    "networking.k8s.io",
    "policy",
    "storage.k8s.io",
    "discovery.k8s.io",
)

_BY_PATH = {(r.group, r.version, r.plural): r for r in RESOURCES}
_BY_KIND = {(r.group, r.kind): r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    """The resource served at ``/apis/{group}/{version}/{plural}`` (``/api/v1`` for core)."""
    return _BY_PATH.get((group, version, plural))


def for_kind(api_version: str, kind: str) -> Resource | None:
    """The resource storing objects of ``apiVersion``/``kind`` (as found in a manifest)."""
    group = api_version.rpartition("/")[0]
    return _BY_KIND.get((group, kind))


def by_plural(plural: str, group: str = "") -> Resource:
    """The resource with this plural name; for controllers, which know what they want."""
    for resource in RESOURCES:
        if resource.plural == plural and resource.group == group:
            return resource
    raise KeyError(f"{plural}.{group}")
