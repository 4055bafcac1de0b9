"""REST semantics of the apiserver over the store: create, read, update, patch, delete, watch.

The HTTP layer (``server.py``) only parses requests and writes answers; everything a client can
observe about a write (validation, defaulting, admission, field ownership, dry runs, finalizers)
is decided here so it can be tested without a socket.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import yaml

from kubesim import defaults, managed_fields, patch, validation
from kubesim.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    method_not_allowed,
    namespace_terminating,
    not_found,
    rbac_forbidden,
    unsupported_media_type,
)
from kubesim.media import content_type
from kubesim.names import random_suffix
from kubesim.protobuf import ProtobufDecodeError, decode_object
from kubesim.resources import Resource, by_plural
from kubesim.routing import Target
from kubesim.scenario import Scenario
from kubesim.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    format_label_selector,
)
from kubesim.store import Change, Store, editable, timestamp
from kubesim.strategy import Allocator, prepare_create, prepare_update

JSON = dict[str, Any]
Query = dict[str, str]

NAMESPACES = by_plural("namespaces")
_PATCH_REASONS = {400: "BadRequest", 422: "Invalid", 500: "InternalError"}
STORAGE_CLASSES = by_plural("storageclasses", "storage.k8s.io")
# Kinds whose removal waits for a controller even when no finalizer is left.
_REMOVED_BY_CONTROLLER = {"Pod", "Namespace"}
# The garbage collector's finalizers for the propagation policies that wait for it.
PROPAGATION_FINALIZERS = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}
# Longest a watch stays open when the client gives no timeoutSeconds.
_MAX_WATCH_SECONDS = 1800.0


def _json_body(raw: bytes) -> JSON:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        try:
            body = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise bad_request(f"the body of the request could not be decoded: {error}") from error
    if not isinstance(body, dict):
        raise bad_request("the body of the request must be an object")
    return body


def decode_body(raw: bytes, header: str) -> JSON:
    """A request body as JSON, whatever encoding kubectl chose for it."""
    media = content_type(header)
    if media == "application/vnd.kubernetes.protobuf":
        try:
            return decode_object(raw)
        except ProtobufDecodeError as error:
            raise bad_request(f"unable to decode protobuf body: {error}") from error
    if media in ("application/json", "application/yaml", ""):
        return _json_body(raw)
    raise unsupported_media_type(media)


class Api:
    """The resource endpoints of one simulated cluster."""

    def __init__(self, store: Store, scenario: Scenario, logs: Callable[[Target, Query], str]):
        self.store = store
        self.scenario = scenario
        self.allocator = Allocator()
        self._logs = logs

    # reads ---------------------------------------------------------------------------------

    def get(self, target: Target, query: Query) -> JSON | str:
        if target.subresource == "log":
            self.store.require(target.resource, target.namespace, target.name)
            return self._logs(target, query)
        obj = self.store.require(target.resource, target.namespace, target.name)
        return scale_of(target.resource, obj) if target.subresource == "scale" else obj

    def _matcher(self, target: Target, query: Query) -> Callable[[JSON], bool]:
        try:
            labels = LabelSelector.parse(query.get("labelSelector", ""))
            fields = FieldSelector.parse(query.get("fieldSelector", ""), target.resource.kind)
        except SelectorError as error:
            raise bad_request(str(error)) from error

        def matches(obj: JSON) -> bool:
            return labels.matches(obj["metadata"].get("labels") or {}) and fields.matches(obj)

        return matches

    def list_collection(self, target: Target, query: Query) -> JSON:
        matches = self._matcher(target, query)
        items, resource_version = self.store.list_objects(target.resource, target.namespace)
        resource = target.resource
        return {
            "kind": f"{resource.kind}List",
            "apiVersion": resource.group_version,
            "metadata": {"resourceVersion": str(resource_version)},
            "items": [_with_type(resource, o) for o in items if matches(o)],
        }

    def watch(self, target: Target, query: Query, stopped: Callable[[], bool]) -> Iterator[JSON]:
        """The events of a watch, as the apiserver streams them, until timeout or ``stopped``.

        Options and selectors are checked here, before the first event, so a bad watch is an
        error answer (422, 400) and not a stream that fails after its 200 was sent.
        """
        _check_watch_options(query)
        matches = self._matcher(target, query)
        requested = query.get("resourceVersion", "")
        if requested not in ("", "0") and not requested.isdigit():
            raise bad_request(f"invalid resource version: {requested!r}")
        return self._events(target, query, matches, stopped)

    def _events(
        self,
        target: Target,
        query: Query,
        matches: Callable[[JSON], bool],
        stopped: Callable[[], bool],
    ) -> Iterator[JSON]:
        resource = target.resource
        timeout = float(query.get("timeoutSeconds") or _MAX_WATCH_SECONDS)
        deadline = time.monotonic() + min(timeout, _MAX_WATCH_SECONDS)
        requested = query.get("resourceVersion", "")
        initial = query.get("sendInitialEvents") == "true"

        def in_scope(obj: JSON) -> bool:
            return not target.namespace or obj["metadata"].get("namespace") == target.namespace

        if initial or requested in ("", "0"):
            items, last = self.store.list_objects(resource, target.namespace)
            for obj in items:
                if matches(obj):
                    yield {"type": "ADDED", "object": _with_type(resource, obj)}
            if initial and query.get("allowWatchBookmarks") == "true":
                yield _bookmark(resource, last, initial_events_end=True)
        else:
            last = int(requested)
        while not stopped():
            with self.store.lock:
                changes = self.store.changes_after(resource, last)
                expired = _expired(last, self.store.oldest_watchable) if changes is None else None
                last = self.store.resource_version
            if changes is None:
                yield {"type": "ERROR", "object": expired}
                return
            for change in changes:
                obj = change.obj
                if not in_scope(obj):
                    continue
                event_type = _filtered_type(change, matches)
                if event_type:
                    yield {"type": event_type, "object": _with_type(resource, obj)}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self.store.wait_for_change(last, min(remaining, 0.5))

    # writes --------------------------------------------------------------------------------

    def _check_namespace(self, target: Target, name: str) -> None:
        if not target.resource.namespaced:
            return
        namespace = self.store.get(NAMESPACES, "", target.namespace)
        if namespace is None:
            raise not_found(NAMESPACES, target.namespace)
        if namespace["metadata"].get("deletionTimestamp"):
            raise namespace_terminating(target.resource, name, target.namespace)

    def _validate(
        self, resource: Resource, obj: JSON, query: Query, operation: str, sent: Any = None
    ) -> list[str]:
        """Decoding and validity checks in the apiserver's order; returns the warnings that
        ``fieldValidation=Warn`` (the server's default) turns unknown fields into."""
        kind, api_version = obj.get("kind", resource.kind), obj.get("apiVersion", "")
        bad_quantity = validation.quantity_error(obj)
        if bad_quantity:
            raise validation.cannot_handle(kind, api_version, bad_quantity)
        warnings: list[str] = []
        if operation != "apply":
            unknown = validation.unknown_fields(obj, self.scenario.kubernetes_version)
            mode = query.get("fieldValidation", "Warn")
            if unknown and mode == "Strict":
                raise validation.strict_decoding_failure(
                    kind, api_version, unknown, operation, patch=sent
                )
            if unknown and mode == "Warn":
                warnings = [f'unknown field "{path}"' for path in unknown]
        errors = validation.invalid(obj)
        if errors:
            raise validation.invalid_failure(kind, obj["metadata"].get("name", ""), errors)
        return warnings

    def _check_type(self, resource: Resource, obj: JSON) -> None:
        if obj.get("kind") not in (None, resource.kind) or obj.get("apiVersion") not in (
            None,
            resource.group_version,
        ):
            raise bad_request(
                f"the API version in the data ({obj.get('apiVersion')}) does not match the "
                f"expected API version ({resource.group_version})"
            )
        obj["kind"] = resource.kind
        obj["apiVersion"] = resource.group_version

    def _scope(self, target: Target, obj: JSON) -> None:
        meta = obj.setdefault("metadata", {})
        if target.resource.namespaced:
            if meta.get("namespace", target.namespace) != target.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent "
                    "on the request"
                )
            meta["namespace"] = target.namespace
        else:
            meta.pop("namespace", None)

    def create(
        self, target: Target, body: JSON, query: Query, manager: str, *, applied: bool = False
    ) -> tuple[JSON, list[str]]:
        """POST: a new object.  ``applied`` objects come from server-side apply and already
        carry their Apply ownership, so no Update entry is recorded for them."""
        resource = target.resource
        if not target.is_collection:
            raise method_not_allowed()
        obj = editable(body)
        self._check_type(resource, obj)
        self._scope(target, obj)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + random_suffix()
        if not meta.get("name"):
            raise validation.invalid_failure(
                resource.kind,
                "",
                [
                    validation.FieldError(
                        "FieldValueRequired",
                        "metadata.name",
                        detail="name or generateName is required",
                    )
                ],
            )
        for server_field in (
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
        ):
            meta.pop(server_field, None)
        if not applied:
            meta.pop("managedFields", None)
        self._check_namespace(target, meta["name"])
        warnings = self._validate(resource, obj, query, "create")
        obj = defaults.apply_defaults(obj)
        classes, _ = self.store.list_objects(STORAGE_CLASSES)
        prepare_create(resource, obj, self.allocator, classes)
        if not applied:
            obj = managed_fields.track_update(None, obj, manager=manager, now=timestamp())
        if query.get("dryRun") == "All":
            if self.store.get(resource, target.namespace, meta["name"]) is not None:
                raise already_exists(resource, meta["name"])
            meta = obj["metadata"]
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", timestamp())
            return obj, warnings
        return self.store.create(resource, obj), warnings

    def _write(
        self,
        target: Target,
        old: JSON,
        new: JSON,
        query: Query,
        manager: str,
        operation: str,
        sent: Any = None,
    ) -> tuple[JSON, list[str]]:
        """Validate and store a new version of ``old`` (main resource or a subresource)."""
        resource = target.resource
        self._check_type(resource, new)
        self._scope(target, new)
        new["metadata"]["name"] = old["metadata"]["name"]
        if target.subresource == "status":
            status = new.get("status")
            new = editable(old)
            if status is not None:
                new["status"] = status
        elif "status" in old:
            new["status"] = old["status"]
        warnings = self._validate(resource, new, query, operation, sent)
        new = defaults.apply_defaults(new)
        immutable = [] if target.subresource else validation.invalid_update(old, new)
        if immutable:
            raise validation.invalid_failure(
                new.get("kind", ""), new["metadata"].get("name", ""), immutable
            )
        prepare_update(resource, old, new, self.allocator)
        if operation != "apply":
            new = managed_fields.track_update(
                old, new, manager=manager, now=timestamp(), subresource=target.subresource
            )
        if query.get("dryRun") == "All":
            return new, warnings
        stored = self.store.replace(resource, new)
        return self.finish_if_released(resource, stored), warnings

    def finish_if_released(self, resource: Resource, obj: JSON) -> JSON:
        """Remove an object being deleted once its last finalizer is gone."""
        meta = obj["metadata"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and resource.kind not in _REMOVED_BY_CONTROLLER
        ):
            self.store.remove(resource, meta.get("namespace", ""), meta["name"])
        return obj

    def update(
        self, target: Target, body: JSON, query: Query, manager: str
    ) -> tuple[JSON, list[str]]:
        old = self.store.require(target.resource, target.namespace, target.name)
        new = editable(body)
        sent_version = new.get("metadata", {}).get("resourceVersion")
        if sent_version and sent_version != old["metadata"]["resourceVersion"]:
            raise conflict(
                target.resource,
                target.name,
                "the object has been modified; please apply your changes to the latest "
                "version and try again",
            )
        if target.subresource == "finalize":
            finalized = editable(old)
            finalized["spec"] = new.get("spec", {})
            return self._write(
                dataclasses.replace(target, subresource=""),
                old,
                finalized,
                query,
                manager,
                "update",
            )
        if target.subresource == "scale":
            return self._rescale(target, old, new, query, manager, "update")
        return self._write(target, old, new, query, manager, "update")

    def patch(
        self, target: Target, raw: bytes, header: str, query: Query, manager: str
    ) -> tuple[int, JSON, list[str]]:
        media = content_type(header)
        resource = target.resource
        if media == "application/apply-patch+yaml":
            return self._apply(target, _json_body(raw), query)
        old = self.store.require(resource, target.namespace, target.name)
        scaling = target.subresource == "scale"
        base = scale_of(resource, old) if scaling else old
        try:
            if media == "application/merge-patch+json":
                sent = _json_body(raw)
                new = patch.json_merge_patch(base, sent)
            elif media == "application/strategic-merge-patch+json":
                sent = _json_body(raw)
                new = patch.strategic_merge_patch(base, sent, base["kind"])
            elif media == "application/json-patch+json":
                sent = json.loads(raw)
                new = patch.json_patch(base, sent)
            else:
                raise unsupported_media_type(media)
        except patch.PatchError as error:
            raise ApiError(error.code, _PATCH_REASONS.get(error.code, ""), error.message) from error
        if scaling:
            return 200, *self._rescale(target, old, new, query, manager, "patch")
        stored, warnings = self._write(target, old, new, query, manager, "patch", sent)
        return 200, stored, warnings

    def _rescale(
        self, target: Target, old: JSON, scale: JSON, query: Query, manager: str, operation: str
    ) -> tuple[JSON, list[str]]:
        """A write to the ``scale`` subresource: only ``spec.replicas`` reaches the owner."""
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise validation.invalid_failure(
                "Scale",
                target.name,
                [
                    validation.FieldError(
                        "FieldValueInvalid",
                        "spec.replicas",
                        replicas,
                        "must be greater than or equal to 0",
                    )
                ],
            )
        new = editable(old)
        new.setdefault("spec", {})["replicas"] = replicas
        stored, warnings = self._write(target, old, new, query, manager, operation)
        return scale_of(target.resource, stored), warnings

    def _apply(self, target: Target, config: JSON, query: Query) -> tuple[int, JSON, list[str]]:
        resource = target.resource
        manager = query.get("fieldManager", "")
        if not manager:
            raise bad_request("PATCH /apply requires fieldManager to be set")
        self._check_type(resource, config)
        self._scope(target, config)
        config["metadata"]["name"] = target.name
        undeclared = validation.typed_patch_error(config, self.scenario.kubernetes_version)
        if undeclared is not None:
            raise undeclared
        live = self.store.get(resource, target.namespace, target.name)
        try:
            merged = managed_fields.server_side_apply(
                live, config, manager=manager, force=query.get("force") == "true", now=timestamp()
            )
        except managed_fields.ApplyConflict as error:
            raise ApiError(
                409,
                "Conflict",
                error.message,
                {"name": target.name, "kind": resource.plural, "causes": error.causes},
            ) from error
        if live is None:
            self._authorize_create(target)
            created, warnings = self.create(
                Target(resource, target.namespace), merged, query, manager, applied=True
            )
            return 201, created, warnings
        stored, warnings = self._write(target, live, merged, query, manager, "apply")
        return 200, stored, warnings

    def _authorize_create(self, target: Target) -> None:
        """An apply that creates the object also needs ``create``, as the apiserver's patch
        handler checks (its createValidation runs the authorizer with verb create): the
        request filter only saw ``patch``."""
        resource = target.resource
        namespace = target.namespace or (target.name if resource.kind == "Namespace" else "")
        for rule in self.scenario.faults.forbidden:
            if (
                rule.verb in ("create", "*")
                and rule.resource in (resource.plural, "*")
                and rule.namespace in ("", namespace)
            ):
                user = self.scenario.user
                raise rbac_forbidden(resource, target.name, "create", namespace, user)

    def delete(self, target: Target, options: JSON, query: Query) -> JSON:
        """DELETE of one object.  Foreground and Orphan propagation put the garbage
        collector's finalizer on the owner (``foregroundDeletion``: gone after its dependents;
        ``orphan``: gone once its dependents lost their owner reference), as the apiserver
        does; Background (kubectl's default) deletes at once and leaves dependents to the GC."""
        resource = target.resource
        if target.is_collection:
            raise method_not_allowed()
        policy = _propagation_policy(options, query)
        obj = self.store.require(resource, target.namespace, target.name)
        if query.get("dryRun") == "All" or options.get("dryRun"):
            return obj
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return obj
        doomed = editable(obj)
        doomed_meta = doomed["metadata"]
        doomed_meta["deletionTimestamp"] = timestamp()
        if resource.kind == "Namespace":
            doomed["status"] = {"phase": "Terminating"}
            return self.store.replace(resource, doomed)
        if policy in PROPAGATION_FINALIZERS:
            finalizers = doomed_meta.setdefault("finalizers", [])
            finalizers.append(PROPAGATION_FINALIZERS[policy])
        if resource.kind == "Pod" or doomed_meta.get("finalizers"):
            grace = options.get("gracePeriodSeconds")
            if resource.kind == "Pod":
                default_grace = obj.get("spec", {}).get("terminationGracePeriodSeconds", 30)
                doomed_meta["deletionGracePeriodSeconds"] = (
                    default_grace if grace is None else grace
                )
            else:
                doomed_meta["deletionGracePeriodSeconds"] = 0
            return self.store.replace(resource, doomed)
        gone = self.store.remove(resource, target.namespace, target.name)
        if resource.kind == "Service":
            self.allocator.release(gone)
        return _deleted_status(resource, gone)

    def delete_collection(self, target: Target, options: JSON, query: Query) -> JSON:
        """DELETE on a collection (``deletecollection``): every object the selectors match,
        deleted one by one; the answer is the list of what was deleted, as the registry's."""
        if "deletecollection" not in target.resource.verbs:
            raise method_not_allowed()
        listed = self.list_collection(target, query)
        deleted = []
        for item in listed["items"]:
            meta = item["metadata"]
            one = Target(target.resource, meta.get("namespace", ""), meta["name"])
            answer = self.delete(one, options, query)
            deleted.append(item if answer.get("kind") == "Status" else answer)
        listed["items"] = [_with_type(target.resource, obj) for obj in deleted]
        listed["metadata"] = {"resourceVersion": str(self.store.resource_version)}
        return listed

    def review_access(self, body: JSON) -> JSON:
        """A SelfSubjectAccessReview: is the scenario's user allowed the verb it names?"""
        attributes = body.get("spec", {}).get("resourceAttributes", {})
        denied = any(
            rule.verb in (attributes.get("verb"), "*")
            and rule.resource in (attributes.get("resource"), "*")
            and rule.namespace in ("", attributes.get("namespace", ""))
            for rule in self.scenario.faults.forbidden
        )
        review = editable(body)
        # RBAC gives no reason for a plain denial, so `kubectl auth can-i` prints only "no".
        review["status"] = {"allowed": not denied}
        review.setdefault("metadata", {})["creationTimestamp"] = None
        return review


def scale_of(resource: Resource, obj: JSON) -> JSON:
    """The ``autoscaling/v1`` Scale a workload's ``scale`` subresource reads and writes."""
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in meta
        },
        "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
        "status": {
            "replicas": obj.get("status", {}).get("replicas", 0),
            "selector": format_label_selector(obj.get("spec", {}).get("selector")),
        },
    }


def _filtered_type(change: Change, matches: Callable[[JSON], bool]) -> str:
    """The event a selector-filtered watch reports, as the apiserver's watch cache does:
    an object entering the selection is ADDED, one leaving it DELETED."""
    now = change.type != "DELETED" and matches(change.obj)
    before = change.previous is not None and matches(change.previous)
    if change.type == "DELETED":
        return "DELETED" if before or matches(change.obj) else ""
    if now:
        return "MODIFIED" if before else "ADDED"
    return "DELETED" if before else ""


def _with_type(resource: Resource, obj: JSON) -> JSON:
    if "kind" in obj:
        return obj
    return {"kind": resource.kind, "apiVersion": resource.group_version, **obj}


def _bookmark(resource: Resource, resource_version: int, *, initial_events_end: bool) -> JSON:
    meta: JSON = {"resourceVersion": str(resource_version)}
    if initial_events_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": resource.kind, "apiVersion": resource.group_version, "metadata": meta},
    }


def _expired(requested: int, oldest: int) -> JSON:
    """The watch cache's answer to a resourceVersion it no longer holds history for."""
    message = f"too old resource version: {requested} ({oldest})"
    return ApiError(410, "Expired", message).status()


def _check_watch_options(query: Query) -> None:
    """apimachinery's validateWatchOptions: the combinations a watch may not ask for."""
    match = query.get("resourceVersionMatch", "")
    initial = query.get("sendInitialEvents")
    errors: list[validation.FieldError] = []
    if initial is not None and match != "NotOlderThan":
        errors.append(
            validation.FieldError(
                "FieldValueForbidden",
                "resourceVersionMatch",
                detail="sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )
        )
    if match:
        if initial is None:
            errors.append(
                validation.FieldError(
                    "FieldValueForbidden",
                    "resourceVersionMatch",
                    detail="resourceVersionMatch is forbidden for watch unless sendInitialEvents "
                    "is provided",
                )
            )
        if match != "NotOlderThan":
            errors.append(
                validation.FieldError(
                    "FieldValueNotSupported",
                    "resourceVersionMatch",
                    match,
                    'supported values: "NotOlderThan"',
                )
            )
    if errors:
        raise validation.invalid_failure("ListOptions", "", errors)


def _propagation_policy(options: JSON, query: Query) -> str:
    policy = options.get("propagationPolicy") or query.get("propagationPolicy") or ""
    if options.get("orphanDependents") is True and not policy:
        policy = "Orphan"  # the deprecated spelling kubectl no longer sends
    if policy and policy not in ("Foreground", "Background", "Orphan"):
        raise validation.invalid_failure(
            "DeleteOptions",
            "",
            [
                validation.FieldError(
                    "FieldValueNotSupported",
                    "propagationPolicy",
                    policy,
                    'supported values: "Foreground", "Background", "Orphan", "nil"',
                )
            ],
        )
    return str(policy)


def _deleted_status(resource: Resource, gone: JSON) -> JSON:
    details: JSON = {
        "name": gone["metadata"]["name"],
        "kind": resource.plural,
        "uid": gone["metadata"]["uid"],
    }
    if resource.group:
        details["group"] = resource.group
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
