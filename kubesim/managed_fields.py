"""Server-side apply and ``metadata.managedFields`` bookkeeping, after structured-merge-diff.

kubectl's server-side apply, ``kubectl diff`` and the 409 conflict messages users read all depend
on the apiserver's field ownership, so this module follows sigs.k8s.io/structured-merge-diff
(typed merge, compare, to-field-set, prune) and k8s.io/apimachinery's managedfields package (which
meta fields are never owned, how entries are keyed, sorted, timed and encoded as ``FieldsV1``).

A field set is a Python set of paths; a path is a tuple of ``PathElement``.  The schema knowledge
SMD reads from OpenAPI comes from ``list_semantics`` (how lists merge) and ``_ATOMIC_MAP_FIELDS``
(maps and structs that are replaced and owned whole).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kubesim.defaults import apply_defaults
from kubesim.list_semantics import ListSemantics, list_semantics

JsonDict = dict[str, Any]
Path = tuple["PathElement", ...]

LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"

# Fields whose Go type is marked ``+structType=atomic`` / ``+mapType=atomic`` (LabelSelector, the
# Service selector map, object references): a writer owns and replaces them whole.
_ATOMIC_MAP_FIELDS = frozenset(
    {
        "selector",
        "podSelector",
        "namespaceSelector",
        "labelSelector",
        "nodeSelector",
        "configMapKeyRef",
        "secretKeyRef",
        "fieldRef",
        "resourceFieldRef",
        "claimRef",
        "dataSource",
        "dataSourceRef",
    }
)

# Defaults of list-map key fields that SMD reads from the OpenAPI schema, so that a port applied
# without ``protocol`` is the same item as the live port with ``protocol: TCP``.
_KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}

# Paths never recorded in managedFields (apimachinery's stripMetaManager).
_STRIPPED_META = frozenset(
    {"name", "namespace", "creationTimestamp", "selfLink", "uid", "clusterName", "generation"}
    | {"managedFields", "resourceVersion"}
)

# Metadata the server owns: an apply configuration cannot set these.
_SERVER_METADATA = (
    *("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"),
    *("selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"),
)

# What the Go zero value of each kind serialises to: the "old object" of a create.  Compared to
# it, a created object's fields are *added* only where the zero value lacked them, which is why
# real managedFields show ``f:spec`` without ``.`` but ``f:labels`` with it.
_TEMPLATE_ZERO: JsonDict = {"metadata": {}, "spec": {"containers": None}}
_ZERO_OBJECTS: dict[str, JsonDict] = {
    "Deployment": {
        "spec": {"selector": None, "template": _TEMPLATE_ZERO, "strategy": {}},
        "status": {},
    },
    "ReplicaSet": {"spec": {"selector": None, "template": _TEMPLATE_ZERO}, "status": {}},
    "StatefulSet": {
        "spec": {"selector": None, "template": _TEMPLATE_ZERO, "updateStrategy": {}},
        "status": {},
    },
    "DaemonSet": {
        "spec": {"selector": None, "template": _TEMPLATE_ZERO, "updateStrategy": {}},
        "status": {},
    },
    "Job": {"spec": {"template": _TEMPLATE_ZERO}, "status": {}},
    "Pod": {"spec": {"containers": None}, "status": {}},
    "Service": {"spec": {}, "status": {"loadBalancer": {}}},
    "PersistentVolumeClaim": {"spec": {"resources": {}}, "status": {}},
    "PersistentVolume": {"spec": {}, "status": {}},
    "Namespace": {"spec": {}, "status": {}},
    "NetworkPolicy": {"spec": {"podSelector": {}}},
    "PodDisruptionBudget": {"spec": {}, "status": {}},
}


class _Missing:
    """Marks a field absent on one side of a comparison (distinct from JSON null)."""


_MISSING = _Missing()


# --------------------------------------------------------------------------- paths


def _canonical_json(value: Any) -> str:
    """Go's encoding/json text of a value: compact, sorted keys, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _value_order(value: Any) -> tuple[Any, ...]:
    """SMD's total order of values: numbers, strings, booleans, lists, maps, null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value)
    if value is None:
        return (5,)
    return (3 if isinstance(value, list) else 4, _canonical_json(value))


@dataclass(frozen=True)
class PathElement:
    """One step of a field path: ``f`` field name, ``k`` list-map key, ``v`` set value, ``i`` index.

    ``text`` is what follows the prefix in FieldsV1 (``f:name``, ``k:{"name":"app"}``,
    ``v:"x"``, ``i:0``); keeping it canonical makes equal elements hash equal.
    """

    kind: str
    text: str

    def order(self) -> tuple[Any, ...]:
        rank = "fkvi".index(self.kind)
        if self.kind == "f":
            return (rank, self.text)
        if self.kind == "k":
            items = json.loads(self.text).items()
            return (rank, tuple((name, _value_order(value)) for name, value in items))
        if self.kind == "v":
            return (rank, _value_order(json.loads(self.text)))
        return (rank, int(self.text))

    def serialize(self) -> str:
        return f"{self.kind}:{self.text}"

    def __str__(self) -> str:
        """The element as the apiserver prints it in conflict messages."""
        if self.kind == "f":
            return "." + self.text
        if self.kind == "k":
            fields = json.loads(self.text)
            return "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in fields.items()) + "]"
        if self.kind == "v":
            return f"[={json.dumps(json.loads(self.text))}]"
        return f"[{self.text}]"


def _field(name: str) -> PathElement:
    return PathElement("f", name)


def _key(fields: dict[str, Any]) -> PathElement:
    return PathElement("k", _canonical_json(fields))


def path_string(path: Path) -> str:
    """``.spec.template.spec.containers[name="app"].image``, as in a 409 Status cause."""
    return "".join(str(element) for element in path)


def _path_order(path: Path) -> tuple[tuple[Any, ...], ...]:
    return tuple(element.order() for element in path)


def _item_element(item: Any, semantics: ListSemantics, index: int) -> PathElement:
    if semantics.list_type == "set":
        return PathElement("v", _canonical_json(item))
    if semantics.list_type == "map" and isinstance(item, dict):
        key = {
            name: item.get(name, _KEY_DEFAULTS.get(name))
            for name in semantics.map_keys
            if name in item or name in _KEY_DEFAULTS
        }
        if key:
            return _key(key)
    return PathElement("i", str(index))


def _is_atomic_map(names: tuple[str, ...]) -> bool:
    return bool(names) and names[-1] in _ATOMIC_MAP_FIELDS


def _elements_of(items: list[Any], semantics: ListSemantics) -> Iterator[tuple[PathElement, Any]]:
    for index, item in enumerate(items):
        yield _item_element(item, semantics, index), item


def _index(items: list[Any], semantics: ListSemantics) -> dict[PathElement, Any]:
    """List items by element, in list order; the first of duplicates wins."""
    out: dict[PathElement, Any] = {}
    for element, item in _elements_of(items, semantics):
        out.setdefault(element, item)
    return out


# --------------------------------------------------------------------------- FieldsV1


@dataclass
class _Node:
    member: bool = False
    children: dict[PathElement, _Node] = field(default_factory=dict)


def _tree(paths: Iterable[Path]) -> _Node:
    root = _Node()
    for path in paths:
        node = root
        for element in path:
            node = node.children.setdefault(element, _Node())
        node.member = True
    return root


def _encode_node(node: _Node) -> JsonDict:
    out: JsonDict = {}
    if node.member and node.children:
        out["."] = {}
    for element in sorted(node.children, key=PathElement.order):
        out[element.serialize()] = _encode_node(node.children[element])
    return out


def encode_fields_v1(paths: Iterable[Path]) -> JsonDict:
    """The ``fieldsV1`` object of a field set, keys in SMD's order, ``.`` for owned parents."""
    return _encode_node(_tree(paths))


def _parse_element(text: str) -> PathElement:
    kind, _, body = text.partition(":")
    if kind in ("k", "v"):
        return PathElement(kind, _canonical_json(json.loads(body)))
    return PathElement(kind, body)


def decode_fields_v1(fields: JsonDict) -> set[Path]:
    """The field set a ``fieldsV1`` object describes (a childless node is owned itself)."""
    out: set[Path] = set()

    def walk(node: JsonDict, path: Path) -> None:
        children = {k: v for k, v in node.items() if k != "."}
        if path and (not children or "." in node):
            out.add(path)
        for text, child in children.items():
            walk(child if isinstance(child, dict) else {}, (*path, _parse_element(text)))

    walk(fields, ())
    return out


# --------------------------------------------------------------------------- typed operations


def field_set(obj: JsonDict, kind: str) -> set[Path]:
    """Every field ``obj`` sets, as SMD's ToFieldSet: leaves, list items, empty maps."""
    out: set[Path] = set()

    def walk(value: Any, path: Path, names: tuple[str, ...]) -> None:
        if isinstance(value, dict):
            if _is_atomic_map(names):
                out.add(path)
                return
            for name, child in value.items():
                child_path = (*path, _field(name))
                walk(child, child_path, (*names, name))
                if child is None or child == {}:
                    out.add(child_path)
        elif isinstance(value, list):
            semantics = list_semantics(kind, names)
            if semantics.list_type == "atomic":
                out.add(path)
                return
            elements = list(_elements_of(value, semantics))
            seen = [element for element, _ in elements]
            for element, item in elements:
                item_path = (*path, element)
                out.add(item_path)
                if seen.count(element) == 1:
                    walk(item, item_path, names)
        else:
            out.add(path)

    walk(obj, (), ())
    return out


@dataclass
class _Comparison:
    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    def changed(self) -> set[Path]:
        return self.added | self.modified


def _compare(lhs: Any, rhs: Any, kind: str) -> _Comparison:
    """What changed from ``lhs`` to ``rhs``, as SMD's Compare (a new parent is itself added)."""
    result = _Comparison()

    def leaf(left: Any, right: Any, path: Path) -> None:
        if left is _MISSING:
            result.added.add(path)
        elif right is _MISSING:
            result.removed.add(path)
        elif left != right:
            result.modified.add(path)

    def walk(left: Any, right: Any, path: Path, names: tuple[str, ...]) -> None:
        if isinstance(left, dict) or isinstance(right, dict):
            lmap = left if isinstance(left, dict) else {}
            rmap = right if isinstance(right, dict) else {}
            if _is_atomic_map(names) or not (lmap or rmap) or not _compatible(left, right):
                leaf(left, right, path)
                return
            for name in {**lmap, **rmap}:
                child_path = (*path, _field(name))
                walk(lmap.get(name, _MISSING), rmap.get(name, _MISSING), child_path, (*names, name))
        elif isinstance(left, list) or isinstance(right, list):
            semantics = list_semantics(kind, names)
            llist = left if isinstance(left, list) else []
            rlist = right if isinstance(right, list) else []
            if semantics.list_type == "atomic" or not (llist or rlist):
                leaf(left, right, path)
                return
            litems = _index(llist, semantics)
            ritems = _index(rlist, semantics)
            for element in {**litems, **ritems}:
                walk(
                    litems.get(element, _MISSING),
                    ritems.get(element, _MISSING),
                    (*path, element),
                    names,
                )
        else:
            leaf(left, right, path)
            return
        if path and left is _MISSING:
            result.added.add(path)
        elif path and right is _MISSING:
            result.removed.add(path)

    walk(lhs, rhs, (), ())
    return result


def _compatible(left: Any, right: Any) -> bool:
    """Whether two values can be compared field by field (a map against a map, null or nothing)."""
    return all(isinstance(v, dict) or v is None or v is _MISSING for v in (left, right))


def _merge(live: Any, config: Any, kind: str, names: tuple[str, ...]) -> Any:
    """SMD's typed merge: config wins; maps and list-maps/sets merge item by item."""
    if isinstance(live, dict) and isinstance(config, dict) and not _is_atomic_map(names):
        out = dict(live)
        for name, value in config.items():
            if value is None:
                out.pop(name, None)
            elif name in live:
                out[name] = _merge(live[name], value, kind, (*names, name))
            else:
                out[name] = copy.deepcopy(value)
        return out
    if isinstance(live, list) and isinstance(config, list):
        semantics = list_semantics(kind, names)
        if semantics.list_type != "atomic":
            return _merge_list(live, config, semantics, kind, names)
    return copy.deepcopy(config)


def _merge_list(
    live: list[Any], config: list[Any], semantics: ListSemantics, kind: str, names: tuple[str, ...]
) -> list[Any]:
    """Merge two associative lists keeping SMD's order: config items in config order, live-only
    items where they were relative to the shared ones."""
    litems = _index(live, semantics)
    ritems = _index(config, semantics)
    lkeys, rkeys = list(litems), list(ritems)
    shared = [element for element in rkeys if element in litems]
    next_shared = 0
    merged: set[PathElement] = set()
    out: list[Any] = []

    def merged_item(element: PathElement) -> Any:
        if element in litems:
            return _merge(litems[element], ritems[element], kind, names)
        return copy.deepcopy(ritems[element])

    li = ri = 0
    while li < len(lkeys) or ri < len(rkeys):
        if li < len(lkeys) and ri < len(rkeys):
            element = lkeys[li]
            if element == rkeys[ri]:
                merged.add(element)
                out.append(merged_item(element))
                li, ri, next_shared = li + 1, ri + 1, next_shared + 1
                continue
            waiting_for = shared[next_shared] if next_shared < len(shared) else None
            if element in ritems and waiting_for is not None and waiting_for != element:
                li += 1
                continue
        if li < len(lkeys):
            element = lkeys[li]
            if element not in ritems:
                out.append(litems[element])
                li += 1
                continue
            if element in merged:
                li += 1
        if ri < len(rkeys):
            element = rkeys[ri]
            merged.add(element)
            out.append(merged_item(element))
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == element:
                next_shared += 1
    return out


def _remove(value: Any, paths: set[Path], kind: str) -> Any:
    """``value`` without the subtrees at ``paths`` (SMD's RemoveItems)."""

    def walk(current: Any, node: _Node, names: tuple[str, ...]) -> Any:
        if isinstance(current, dict):
            out: JsonDict = {}
            for name, child in current.items():
                sub = node.children.get(_field(name))
                if sub is None:
                    out[name] = child
                elif not sub.member:
                    out[name] = walk(child, sub, (*names, name))
            return out
        if isinstance(current, list):
            kept: list[Any] = []
            for element, item in _elements_of(current, list_semantics(kind, names)):
                sub = node.children.get(element)
                if sub is None:
                    kept.append(item)
                elif not sub.member:
                    kept.append(walk(item, sub, names))
            return kept
        return current

    return walk(value, _tree(paths), ())


def _with_named_parents(paths: Iterable[Path]) -> set[Path]:
    """SMD's EnsureNamedFieldsAreMembers: a struct field holding owned fields counts as owned."""
    out: set[Path] = set()
    for path in paths:
        out.add(path)
        out.update(path[: i + 1] for i, element in enumerate(path) if element.kind == "f")
    return out


# --------------------------------------------------------------------------- managers


@dataclass
class _Entry:
    manager: str
    operation: str
    api_version: str
    subresource: str
    time: str | None
    fields: set[Path]

    def identity(self) -> str:
        """apimachinery's manager identifier: appliers are one manager across API versions."""
        ident: JsonDict = {"manager": self.manager, "operation": self.operation}
        if self.operation == "Update":
            ident["apiVersion"] = self.api_version
        if self.subresource:
            ident["subresource"] = self.subresource
        return json.dumps(ident, separators=(",", ":"))

    def encode(self) -> JsonDict:
        entry: JsonDict = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
        }
        if self.time is not None:
            entry["time"] = self.time
        entry["fieldsType"] = "FieldsV1"
        entry["fieldsV1"] = encode_fields_v1(self.fields)
        if self.subresource:
            entry["subresource"] = self.subresource
        return entry


def _read_entries(obj: JsonDict | None) -> dict[str, _Entry]:
    raw = ((obj or {}).get("metadata") or {}).get("managedFields") or []
    entries = (
        _Entry(
            manager=item.get("manager", ""),
            operation=item.get("operation", "Update"),
            api_version=item.get("apiVersion", ""),
            subresource=item.get("subresource", ""),
            time=item.get("time"),
            fields=decode_fields_v1(item.get("fieldsV1") or {}),
        )
        for item in raw
    )
    return {entry.identity(): entry for entry in entries}


def _write_entries(obj: JsonDict, entries: Iterable[_Entry]) -> JsonDict:
    kept = sorted(
        (entry for entry in entries if entry.fields),
        key=lambda e: (e.operation, e.time or "", e.manager, e.api_version, e.subresource),
    )
    metadata = obj.setdefault("metadata", {})
    if kept:
        metadata["managedFields"] = [entry.encode() for entry in kept]
    else:
        metadata.pop("managedFields", None)
    return obj


def _scoped(paths: Iterable[Path], subresource: str) -> set[Path]:
    """Drop what a writer never owns: stripped metadata, and ``status`` on the main resource
    (or everything but ``status`` through the status subresource)."""
    status = _field("status")
    out: set[Path] = set()
    for path in paths:
        head = path[0]
        if head.kind == "f" and head.text in ("apiVersion", "kind"):
            continue
        if head == _field("metadata") and (
            len(path) == 1 or (len(path) == 2 and path[1].text in _STRIPPED_META)
        ):
            continue
        if (head == status) != (subresource == "status"):
            continue
        out.add(path)
    return out


def _without_managed_fields(obj: JsonDict | None) -> JsonDict:
    view = copy.deepcopy(obj) if obj else {}
    (view.get("metadata") or {}).pop("managedFields", None)
    return view


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class Conflict:
    """One field another manager owns and an apply would change."""

    manager: str
    operation: str
    api_version: str
    subresource: str
    path: Path

    @property
    def field(self) -> str:
        return path_string(self.path)

    @property
    def manager_description(self) -> str:
        """The manager as apimachinery prints it: appliers by name, updaters with their version."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    @property
    def message(self) -> str:
        return f"conflict with {self.manager_description}"


class ApplyConflict(Exception):  # noqa: N818 - the name the server and its callers use
    """A server-side apply changes fields other managers own; the server answers 409 Conflict
    with ``message`` and ``causes`` (reason FieldManagerConflict), as the apiserver does."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        self.message = _conflict_message(conflicts)
        super().__init__(self.message)

    @property
    def causes(self) -> list[JsonDict]:
        return [
            {"reason": "FieldManagerConflict", "message": c.message, "field": c.field}
            for c in self.conflicts
        ]


def _conflict_message(conflicts: list[Conflict]) -> str:
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: {only.message}: {only.field}"
    lines: list[str] = []
    described = ""
    for conflict in conflicts:
        if conflict.manager_description != described:
            described = conflict.manager_description
            lines.append(f"conflicts with {described}:")
        lines.append(f"- {conflict.field}")
    joined = "\n".join(lines)
    return f"Apply failed with {len(conflicts)} conflicts: {joined}"


def server_side_apply(
    live: JsonDict | None, config: JsonDict, *, manager: str, force: bool, now: str
) -> JsonDict:
    """The object after ``config`` is applied by ``manager`` (an ``apply-patch+yaml`` PATCH).

    Raises ``ApplyConflict`` when the apply changes fields another manager owns and ``force`` is
    false.  When nothing changes, the result equals ``live`` (so the server skips the write).
    """
    kind = config.get("kind", "")
    api_version = config.get("apiVersion", "")
    applied = _apply_configuration(config)
    entries = _read_entries(live)
    applier = _Entry(manager, "Apply", api_version, "", None, _scoped(field_set(applied, kind), ""))
    previous = entries.pop(applier.identity(), None)
    base = _without_managed_fields(live)

    merged = _merge(base, applied, kind, ())
    if previous is not None:
        owned = _with_named_parents(
            applier.fields.union(*(entry.fields for entry in entries.values()))
        )
        merged = _remove(merged, _with_named_parents(previous.fields) - owned, kind)

    if live is not None:
        comparison = _compare(base, merged, kind)
        changed = _scoped(comparison.changed(), "")
        _resolve_conflicts(entries, changed, live, force=force, manager=manager)
        for entry in entries.values():
            entry.fields -= comparison.removed

    result = apply_defaults(merged)
    if manager == "kubectl":
        _sync_last_applied(result, config)
    if result != base:
        applier.time = now
    elif previous is not None:
        applier.time = previous.time
    entries[applier.identity()] = applier
    return _write_entries(result, entries.values())


def _apply_configuration(config: JsonDict) -> JsonDict:
    """The part of an apply body the server merges: no status, no server-owned metadata."""
    applied = {key: copy.deepcopy(value) for key, value in config.items() if key != "status"}
    metadata = applied.get("metadata")
    if isinstance(metadata, dict):
        for name in _SERVER_METADATA:
            metadata.pop(name, None)
    return applied


def _resolve_conflicts(
    entries: dict[str, _Entry], changed: set[Path], live: JsonDict, *, force: bool, manager: str
) -> None:
    """Raise for fields other managers own that the apply changes, or take them when forced.

    ``kubectl`` may take, without force, fields that its client-side-apply annotation shows it
    set already (apimachinery's lastAppliedManager, for upgrading to server-side apply).
    """
    taken = {ident: entry.fields & changed for ident, entry in entries.items()}
    if not force and any(taken.values()):
        allowed = _last_applied_fields(live) if manager == "kubectl" else set()
        conflicts = [
            Conflict(entry.manager, entry.operation, entry.api_version, entry.subresource, path)
            for ident, entry in sorted(entries.items())
            for path in sorted(taken[ident] - allowed, key=_path_order)
        ]
        if conflicts:
            raise ApplyConflict(conflicts)
    for ident, entry in entries.items():
        entry.fields -= taken[ident]


def _last_applied_fields(live: JsonDict) -> set[Path]:
    kind = live.get("kind", "")
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    try:
        last = json.loads(annotations.get(LAST_APPLIED_ANNOTATION, ""))
    except ValueError:
        return set()
    if not isinstance(last, dict) or last.get("apiVersion") != live.get("apiVersion"):
        return set()
    drift = _compare(last, _without_managed_fields(live), kind)
    return field_set(last, kind) - drift.added - drift.modified - drift.removed


def _sync_last_applied(result: JsonDict, config: JsonDict) -> None:
    """Keep kubectl's client-side-apply annotation, when present, equal to the applied config
    (apimachinery's lastAppliedUpdater), so a later client-side ``kubectl apply`` diffs right."""
    annotations = (result.get("metadata") or {}).get("annotations")
    if not annotations or LAST_APPLIED_ANNOTATION not in annotations:
        return
    last = copy.deepcopy(config)
    config_annotations = (last.get("metadata") or {}).get("annotations")
    if isinstance(config_annotations, dict):
        config_annotations.pop(LAST_APPLIED_ANNOTATION, None)
        if not config_annotations:
            del last["metadata"]["annotations"]
    annotations[LAST_APPLIED_ANNOTATION] = json.dumps(last, separators=(",", ":"), sort_keys=True)
    annotations[LAST_APPLIED_ANNOTATION] += "\n"


def track_update(
    old: JsonDict | None, new: JsonDict, *, manager: str, now: str, subresource: str = ""
) -> JsonDict:
    """``new`` with the managedFields a create/update/patch by ``manager`` leaves.

    The fields the write added or changed (all of them on create, compared to the kind's zero
    value) move to ``manager``'s Update entry, whose time becomes ``now``; removed fields leave
    every entry.  Pass the defaulted object, as the apiserver tracks after defaulting.
    """
    kind = new.get("kind", "")
    source = new if "managedFields" in (new.get("metadata") or {}) else old
    entries = _read_entries(source)
    before = _without_managed_fields(old) if old is not None else _ZERO_OBJECTS.get(kind, {})
    after = _without_managed_fields(new)
    comparison = _compare(before, after, kind)
    taken = _scoped(comparison.changed(), subresource)
    for entry in entries.values():
        entry.fields -= comparison.removed | taken
    if taken:
        writer = _Entry(manager, "Update", new.get("apiVersion", ""), subresource, now, set())
        writer = entries.setdefault(writer.identity(), writer)
        writer.fields |= taken
        writer.time = now
    return _write_entries(after, entries.values())
