"""The three PATCH dialects kubectl sends, applied the way kube-apiserver applies them.

Client-side ``kubectl apply`` computes a strategic merge patch from the last-applied annotation and
trusts the server to merge it exactly like ``k8s.io/apimachinery/pkg/util/strategicpatch``: list
items matched by merge key, ``$setElementOrder`` ordering, ``$patch`` and ``$retainKeys``
directives.  Any divergence shows up as a second apply that is not a no-op, duplicated
containers or lost ports, so the strategic merge below mirrors the Go code path for path (order
normalisation and duplicate removal included), not just its documented intent.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

from kubesim.list_semantics import list_semantics

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_SET_ELEMENT_ORDER = "$setElementOrder"
_DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"


class PatchError(ValueError):
    """A patch the apiserver refuses; ``code`` is the HTTP status it answers with."""

    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


# --- RFC 7386 JSON merge patch -------------------------------------------------------------------


def json_merge_patch(target: Any, patch: Any) -> Any:
    """Apply an ``application/merge-patch+json`` body; ``null`` deletes, lists are replaced."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(copy.deepcopy(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


# --- RFC 6902 JSON patch -------------------------------------------------------------------------


def _json_equal(left: Any, right: Any) -> bool:
    """JSON value equality: 1 == 1.0, but true is not 1 and key order never matters."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _pointer_tokens(pointer: Any) -> list[str]:
    if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")):
        raise PatchError(f"JSON pointer must be empty or start with '/': {pointer!r}", 400)
    if pointer == "":
        return []
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _array_index(token: str, size: int, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return size
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PatchError(f"Unable to access invalid index: {token}: invalid index referenced")
    index = int(token)
    if index > size or (index == size and not allow_end):
        raise PatchError(f"Unable to access invalid index: {index}: invalid index referenced")
    return index


def _parent(doc: Any, tokens: list[str], op: str, path: str) -> Any:
    node = _walk(doc, tokens[:-1], op, path)
    if not isinstance(node, dict | list):
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}"')
    return node


def _get(doc: Any, path: str, op: str) -> Any:
    return _walk(doc, _pointer_tokens(path), op, path)


def _walk(doc: Any, tokens: list[str], op: str, path: str) -> Any:
    """The node at ``tokens`` below ``doc``; ``path`` (all of the pointer) is for the error."""
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_array_index(token, len(node), allow_end=False)]
        else:
            raise PatchError(
                f'{op} operation does not apply: doc is missing path: "{path}": missing value'
            )
    return node


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer_tokens(path)
    if not tokens:
        return value
    parent = _parent(doc, tokens, "add", path)
    if isinstance(parent, list):
        parent.insert(_array_index(tokens[-1], len(parent), allow_end=True), value)
    else:
        parent[tokens[-1]] = value
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> tuple[Any, Any]:
    tokens = _pointer_tokens(path)
    if not tokens:
        return None, doc
    parent = _parent(doc, tokens, op, path)
    if isinstance(parent, list):
        return doc, parent.pop(_array_index(tokens[-1], len(parent), allow_end=False))
    if tokens[-1] not in parent:
        raise PatchError(
            f'{op} operation does not apply: doc is missing path: "{path}": missing value'
        )
    return doc, parent.pop(tokens[-1])


def _operation_field(operation: Mapping[str, Any], name: str) -> Any:
    if name not in operation:
        raise PatchError(f"operation missing {name!r} field: {json.dumps(operation)}", 400)
    return operation[name]


def json_patch(target: Any, ops: Any) -> Any:
    """Apply an ``application/json-patch+json`` body (add, remove, replace, move, copy, test)."""
    if not isinstance(ops, list) or not all(isinstance(op, Mapping) for op in ops):
        raise PatchError("a JSON patch must be a list of operation objects", 400)
    doc = copy.deepcopy(target)
    for operation in ops:
        kind = operation.get("op")
        path = _operation_field(operation, "path")
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(_operation_field(operation, "value")))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            doc, _ = _remove(doc, path, "replace")
            doc = _add(doc, path, copy.deepcopy(_operation_field(operation, "value")))
        elif kind in ("move", "copy"):
            source = _operation_field(operation, "from")
            if kind == "move" and (path + "/").startswith(source + "/") and path != source:
                raise PatchError(f"move operation cannot move {source} into its own child {path}")
            value = copy.deepcopy(_get(doc, source, kind))
            if kind == "move":
                doc, _ = _remove(doc, source, "move")
            doc = _add(doc, path, value)
        elif kind == "test":
            if not _json_equal(_get(doc, path, "test"), _operation_field(operation, "value")):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}", 400)
    return doc


# --- strategic merge patch -----------------------------------------------------------------------


def go_repr(value: Any) -> str:
    """How Go's %v prints decoded JSON, for error texts users compare with a real cluster."""
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{go_repr(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_repr(item) for item in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _same(left: Any, right: Any) -> bool:
    """Go interface equality of decoded JSON scalars (every JSON number is a float64)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return type(left) is type(right) and bool(left == right)


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _element_kind(*lists: list[Any]) -> str | None:
    """sliceElementType: the common element kind, or None when every list is empty."""
    kinds = {_kind_of(item) for items in lists for item in items}
    if "list" in kinds:
        raise PatchError("lists of lists are not supported", 422)
    if len(kinds) > 1:
        raise PatchError(f"list element types are not identical: {go_repr(list(lists))}", 500)
    return kinds.pop() if kinds else None


def _no_merge_key(item: Any, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_repr(item)} does not contain declared merge key: {merge_key}", 500)


def _key_value(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise PatchError(f"expected a map, but received a {_kind_of(item)}", 500)
    if merge_key not in item:
        raise _no_merge_key(item, merge_key)
    return item[merge_key]


def _index(items: list[Any], wanted: Any, merge_key: str, is_map: bool) -> int:
    def key_of(item: Any) -> Any:
        return item.get(merge_key) if is_map and isinstance(item, dict) else item

    target = key_of(wanted)
    return next((i for i, item in enumerate(items) if _same(key_of(item), target)), -1)


def _go_stable_sort(items: list[Any], less: Callable[[Any, Any], bool]) -> list[Any]:
    """sort.SliceStable's insertion sort, because ``less`` is not a strict order (it answers
    true for items missing from the order list) and only replaying Go's swaps reproduces where
    such items end up."""
    result = list(items)
    for i in range(1, len(result)):
        j = i
        while j > 0 and less(result[j], result[j - 1]):
            result[j], result[j - 1] = result[j - 1], result[j]
            j -= 1
    return result


def _sort_by_order(items: list[Any], order: list[Any], merge_key: str, is_map: bool) -> list[Any]:
    to_delete: list[Any] = []
    if is_map:
        for item in [*items, *order]:
            _key_value(item, merge_key)
        to_delete = [i for i in items if isinstance(i, dict) and i.get(_DIRECTIVE) == "delete"]
        items = [i for i in items if not (isinstance(i, dict) and i.get(_DIRECTIVE) == "delete")]

    def less(left: Any, right: Any) -> bool:
        left_index = _index(order, left, merge_key, is_map)
        if left_index >= 0:
            right_index = _index(order, right, merge_key, is_map)
            if right_index >= 0:
                return left_index < right_index
        return True

    return _go_stable_sort(items, less) + to_delete


def _normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    *,
    merge_key: str,
    is_map: bool,
) -> list[Any]:
    """Patch items in patch order, server-only items in live order, interleaved by live order."""
    right = _sort_by_order(patch_items, patch_order, merge_key, is_map)
    left = _sort_by_order(server_only, server_order, merge_key, is_map)
    merged: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            merged.append(right[j])
            j += 1
        elif j >= len(right):
            merged.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, is_map)
            ri = _index(server_order, right[j], merge_key, is_map)
            if li >= 0 and ri >= 0 and li < ri:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                j += 1
    return merged


def _partition(
    merged: list[Any], present_in: list[Any], merge_key: str, is_map: bool
) -> tuple[list[Any], list[Any]]:
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if is_map:
            value = _key_value(item, merge_key)
            found = any(
                isinstance(p, dict) and merge_key in p and _same(p[merge_key], value)
                for p in present_in
            )
        else:
            found = any(_same(item, p) for p in present_in)
        (inside if found else outside).append(item)
    return inside, outside


def _deduplicate_scalars(items: list[Any]) -> list[Any]:
    """deduplicateScalars, which fills each duplicate's slot with the last item (order matters)."""
    result = list(items)
    length = len(result) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _same(result[i], result[j]):
                result[j] = result[length]
                result = result[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return result


def _discard_nulls(value: Any) -> Any:
    """Drop nulls from a value that enters the object unmerged: the apiserver decodes the result
    into its Go struct, where a null is just an absent field, so it never stores them."""
    if isinstance(value, dict):
        return {k: _discard_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_discard_nulls(item) for item in value]
    return value


class _StrategicMerge:
    """One strategic merge of a patch into an object of ``kind``, mirroring strategicpatch."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def merge_map(
        self, original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]
    ) -> dict[str, Any]:
        if _DIRECTIVE in patch:
            directive = patch[_DIRECTIVE]
            if directive == "replace":
                return {k: _discard_nulls(v) for k, v in patch.items() if k != _DIRECTIVE}
            if directive == "delete":
                return {}
            raise PatchError(f"unknown patch type: {directive} in map: {go_repr(patch)}", 500)
        self._apply_retain_keys(original, patch)
        self._apply_element_orders(original, patch, path)
        deletions = []
        for key, value in patch.items():
            if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
                deletions.append((key, value))
            else:
                self._merge_field(original, key, value, path, is_delete_list=False)
        for key, value in deletions:
            field = _directive_field(key, _DELETE_FROM_PRIMITIVE_LIST)
            self._merge_field(original, field, value, path, is_delete_list=True)
        return original

    def _merge_field(
        self,
        original: dict[str, Any],
        key: str,
        value: Any,
        path: tuple[str, ...],
        *,
        is_delete_list: bool,
    ) -> None:
        if value is None:
            original.pop(key, None)
            return
        if key not in original or _kind_of(original[key]) != _kind_of(value):
            if not is_delete_list:
                original[key] = _discard_nulls(value)
            return
        current = original[key]
        if isinstance(current, dict):
            original[key] = self.merge_map(current, value, (*path, key))
        elif isinstance(current, list):
            original[key] = self.merge_list_field(current, value, (*path, key), is_delete_list)
        else:
            original[key] = value

    def merge_list_field(
        self, original: list[Any], patch: list[Any], path: tuple[str, ...], is_delete_list: bool
    ) -> list[Any]:
        semantics = list_semantics(self.kind, path)
        if semantics.list_type == "atomic" and not is_delete_list:
            return [_discard_nulls(item) for item in patch]
        return self._merge_slice(original, patch, semantics.merge_key or "", path, is_delete_list)

    def _merge_slice(
        self,
        original: list[Any],
        patch: list[Any],
        merge_key: str,
        path: tuple[str, ...],
        is_delete_list: bool,
    ) -> list[Any]:
        if not original and not patch:
            return original
        is_map = _element_kind(original, patch) == "dict"
        if not is_map:
            if is_delete_list:
                return [item for item in original if not any(_same(item, d) for d in patch)]
            merged = _deduplicate_scalars(original + patch)
        else:
            if not merge_key:
                raise PatchError(f"cannot merge lists without merge key for {'.'.join(path)}", 500)
            original, patch = _apply_list_directives(original, patch, merge_key)
            merged = self._merge_items(original, patch, merge_key, path)
        inside, outside = _partition(merged, patch, merge_key, is_map)
        return _normalize_element_order(
            inside, outside, patch, original, merge_key=merge_key, is_map=is_map
        )

    def _merge_items(
        self, original: list[Any], patch: list[Any], merge_key: str, path: tuple[str, ...]
    ) -> list[Any]:
        merged = list(original)
        for item in patch:
            value = _key_value(item, merge_key)
            position = next(
                (
                    i
                    for i, existing in enumerate(merged)
                    if isinstance(existing, dict)
                    and merge_key in existing
                    and _same(existing[merge_key], value)
                ),
                None,
            )
            if position is None:
                merged.append(_discard_nulls(item))
            else:
                merged[position] = self.merge_map(merged[position], item, path)
        return merged

    @staticmethod
    def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
        if _RETAIN_KEYS not in patch:
            return
        retain = patch.pop(_RETAIN_KEYS)
        if not isinstance(retain, list):
            raise PatchError("invalid patch format of retainKeys", 400)
        for key, value in patch.items():
            if value is None or key.startswith((_DELETE_FROM_PRIMITIVE_LIST, _SET_ELEMENT_ORDER)):
                continue
            if key not in retain:
                raise PatchError("patch content doesn't match retainKeys list", 422)
        for key in [k for k in original if k not in retain]:
            del original[key]

    def _apply_element_orders(
        self, original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]
    ) -> None:
        for key in [k for k in patch if k.startswith(_SET_ELEMENT_ORDER)]:
            order = patch.pop(key)
            field = _directive_field(key, _SET_ELEMENT_ORDER)
            if not isinstance(order, list):
                raise PatchError("invalid patch format of setElementOrder list", 400)
            found_original, found_patch = field in original, field in patch
            original_list = original.get(field) if found_original else []
            patch_list = patch.get(field) if found_patch else []
            if not isinstance(original_list, list) or not isinstance(patch_list, list):
                raise PatchError("invalid patch format of setElementOrder list", 400)
            semantics = list_semantics(self.kind, (*path, field))
            merge_key = semantics.merge_key or ""
            _check_order_matches_patch(patch_list, order, merge_key)
            if not found_original and not found_patch:
                continue
            if found_original and found_patch:
                merged = self.merge_list_field(original_list, patch_list, (*path, field), False)
            elif found_patch:
                merged = _discard_nulls(patch_list)
            else:
                merged = original_list
            patch.pop(field, None)
            if not merged:
                original[field] = merged
                continue
            is_map = _element_kind(original_list, patch_list) == "dict"
            inside, outside = _partition(merged, order, merge_key, is_map)
            original[field] = _normalize_element_order(
                inside, outside, order, original_list, merge_key=merge_key, is_map=is_map
            )


def _directive_field(key: str, prefix: str) -> str:
    head, _, field = key.partition("/")
    if head != prefix or not field:
        if prefix == _DELETE_FROM_PRIMITIVE_LIST:
            raise PatchError("invalid patch format of primitive list", 400)
        raise PatchError("invalid patch format of setElementOrder list", 400)
    return field


def _apply_list_directives(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: ``$patch: delete`` items drop entries, ``replace`` wins."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict) or _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            value = _key_value(item, merge_key)
            original = [
                existing
                for existing in original
                if not (
                    isinstance(existing, dict)
                    and merge_key in existing
                    and _same(existing[merge_key], value)
                )
            ]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch", 500)
        else:
            raise PatchError(f"unknown patch type: {directive} in map: {go_repr(item)}", 500)
    if replace:
        return plain, []
    return original, plain


def _check_order_matches_patch(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """validatePatchWithSetOrderList: the patch list must follow the $setElementOrder order."""
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:
        items = [
            i for i in patch_list if not (isinstance(i, dict) and i.get(_DIRECTIVE) == "delete")
        ]
    patch_index = order_index = 0
    while patch_index < len(items) and order_index < len(order):
        item = items[patch_index]
        if isinstance(item, dict) and _DIRECTIVE in item:
            patch_index += 1
            continue
        if merge_key:
            equal = _same(_key_value(item, merge_key), _key_value(order[order_index], merge_key))
        else:
            equal = _same(item, order[order_index])
        if equal:
            patch_index += 1
        order_index += 1
    if patch_index < len(items):
        raise PatchError(
            f"The order in patch list:\n{go_repr(patch_list)}\n doesn't match "
            f"{_SET_ELEMENT_ORDER} list:\n{go_repr(order)}\n",
            500,
        )


def strategic_merge_patch(
    original: Mapping[str, Any], patch: Mapping[str, Any], kind: str
) -> dict[str, Any]:
    """Apply an ``application/strategic-merge-patch+json`` body to an object of ``kind``.

    List fields merge as :mod:`kubesim.list_semantics` says; neither argument is modified.
    """
    if not isinstance(patch, Mapping):
        raise PatchError("invalid JSON document", 400)
    return _StrategicMerge(kind).merge_map(
        copy.deepcopy(dict(original)), copy.deepcopy(dict(patch)), ()
    )
