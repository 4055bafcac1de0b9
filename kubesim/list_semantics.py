"""How each list field of the kinds we serve merges, for strategic merge patch and server-side
apply.

A real apiserver reads this from the Go struct tags (``patchStrategy``/``patchMergeKey``) and the
OpenAPI extensions (``x-kubernetes-list-type``/``x-kubernetes-list-map-keys``).  kubectl computes
its client-side apply patches from the same tags, so when our table disagrees with them a second
``kubectl apply`` duplicates or drops list items.  Lists that are not named here are atomic: a
patch replaces them whole, exactly as for an untagged Go slice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ListType = Literal["atomic", "map", "set"]


@dataclass(frozen=True)
class ListSemantics:
    """The merge behaviour of one list field.

    ``merge_key`` is the single key strategic merge patch uses; ``map_keys`` are the keys that
    identify an item for server-side apply (sometimes more than one, e.g. port and protocol).
    """

    list_type: ListType
    merge_key: str | None = None
    map_keys: tuple[str, ...] = ()


ATOMIC = ListSemantics("atomic")
PRIMITIVE_SET = ListSemantics("set")


def _keyed(merge_key: str, *extra: str) -> ListSemantics:
    return ListSemantics("map", merge_key, (merge_key, *extra))


_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

# (path suffix, semantics): the first suffix that matches the field's path wins.
_RULES: tuple[tuple[tuple[str, ...], ListSemantics], ...] = (
    *(((name, "ports"), _keyed("containerPort", "protocol")) for name in _CONTAINER_LISTS),
    *(((name,), _keyed("name")) for name in _CONTAINER_LISTS),
    (("env",), _keyed("name")),
    (("volumeMounts",), _keyed("mountPath")),
    (("volumeDevices",), _keyed("devicePath")),
    (("spec", "volumes"), _keyed("name")),
    (("imagePullSecrets",), _keyed("name")),
    (("hostAliases",), _keyed("ip")),
    (("resourceClaims",), _keyed("name")),
    (("schedulingGates",), _keyed("name")),
    (("topologySpreadConstraints",), _keyed("topologyKey", "whenUnsatisfiable")),
    (("metadata", "finalizers"), PRIMITIVE_SET),
    (("metadata", "ownerReferences"), _keyed("uid")),
    (("status", "conditions"), _keyed("type")),
    (("status", "addresses"), _keyed("type")),
)

_SERVICE_PORTS = _keyed("port", "protocol")


def list_semantics(kind: str, path: tuple[str, ...]) -> ListSemantics:
    """Return how the list at ``path`` (field names from the object root, list items skipped)
    of an object of ``kind`` merges."""
    if kind == "Service" and path == ("spec", "ports"):
        return _SERVICE_PORTS
    for suffix, semantics in _RULES:
        if path[-len(suffix) :] == suffix:
            return semantics
    return ATOMIC
