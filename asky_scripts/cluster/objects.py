"""Reading the JSON objects kubectl returns, where any field may be absent or null.

The API server omits empty fields and sends ``null`` for some, so ``obj["metadata"]["labels"]``
fails on objects that are perfectly valid; these accessors give an empty mapping instead.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def field(obj: Obj, name: str) -> Obj:
    """``obj[name]`` as a mapping, empty when absent or null."""
    value = obj.get(name)
    return value if isinstance(value, dict) else {}


def meta(obj: Obj) -> Obj:
    return field(obj, "metadata")


def spec(obj: Obj) -> Obj:
    return field(obj, "spec")


def status(obj: Obj) -> Obj:
    return field(obj, "status")


def labels_of(obj: Obj) -> dict[str, str]:
    return field(meta(obj), "labels")


def annotations_of(obj: Obj) -> dict[str, str]:
    return field(meta(obj), "annotations")


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def kind_of(obj: Obj) -> str:
    return str(obj.get("kind", ""))


def uid_of(obj: Obj) -> str:
    return str(meta(obj).get("uid", ""))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in status(obj).get("conditions") or []:
        if cond.get("type") == kind:
            found: Obj = cond
            return found
    return None
