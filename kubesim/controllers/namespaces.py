"""Namespace lifecycle: default content on creation, and the deletion a real cluster performs.

A deleted namespace stays ``Terminating`` while its content is deleted (finalizers honoured),
reports why with the conditions the namespace controller sets (``NamespaceContentRemaining``,
``NamespaceFinalizersRemaining`` …), and disappears only when its ``kubernetes`` finalizer is
removed.  A teardown tool that explains a stuck namespace needs exactly these conditions.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from kubesim.controllers.base import Context, set_condition, sooner
from kubesim.resources import RESOURCES, by_plural
from kubesim.store import editable, timestamp

JSON = dict[str, Any]

NAMESPACES = by_plural("namespaces")
SERVICE_ACCOUNTS = by_plural("serviceaccounts")
CONFIGMAPS = by_plural("configmaps")
_NAMESPACED = tuple(r for r in RESOURCES if r.namespaced and not r.virtual)
# The two conditions that say what is left to delete (resources, then their finalizers): type,
# one count's words, (reason, message) while some remain, (reason, message) when none does.
_REMAINING = (
    (
        "NamespaceContentRemaining",
        "{} has {} resource instances",
        ("SomeResourcesRemain", "Some resources are remaining: "),
        ("ContentRemoved", "All content successfully removed"),
    ),
    (
        "NamespaceFinalizersRemaining",
        "{} in {} resource instances",
        ("SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: "),
        ("ContentHasNoFinalizers", "All content-preserving finalizers finished"),
    ),
)
_CONDITIONS = (
    (
        "NamespaceDeletionDiscoveryFailure",
        "ResourcesDiscovered",
        "All resources successfully discovered",
    ),
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed",
    ),
    (
        "NamespaceDeletionContentFailure",
        "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization",
    ),
)
ROOT_CA = "-----BEGIN CERTIFICATE-----\nMIIBkubesim\n-----END CERTIFICATE-----\n"


class NamespaceController:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._deleting_since: dict[str, float] = {}

    def reconcile(self) -> float | None:
        wait: float | None = None
        for namespace in self.ctx.store.all(NAMESPACES):
            if namespace["metadata"].get("deletionTimestamp"):
                wait = sooner(wait, self._finalize(namespace))
            else:
                self._populate(namespace)
        return wait

    def _populate(self, namespace: JSON) -> None:
        """The default ServiceAccount and root CA ConfigMap every namespace gets."""
        name = namespace["metadata"]["name"]
        store = self.ctx.store
        if store.get(SERVICE_ACCOUNTS, name, "default") is None:
            store.create(
                SERVICE_ACCOUNTS,
                {
                    "kind": "ServiceAccount",
                    "apiVersion": "v1",
                    "metadata": {"name": "default", "namespace": name},
                },
            )
        if store.get(CONFIGMAPS, name, "kube-root-ca.crt") is None:
            store.create(
                CONFIGMAPS,
                {
                    "kind": "ConfigMap",
                    "apiVersion": "v1",
                    "metadata": {
                        "name": "kube-root-ca.crt",
                        "namespace": name,
                        "annotations": {
                            "kubernetes.io/description": "Contains a CA bundle "
                            "that can be used to verify the kube-apiserver "
                            "when using internal endpoints such as the "
                            "internal service IP or kubernetes.default.svc. "
                            "No other usage is guaranteed across "
                            "distributions of Kubernetes clusters."
                        },
                    },
                    "data": {"ca.crt": ROOT_CA},
                },
            )

    def _finalize(self, namespace: JSON) -> float | None:
        name = namespace["metadata"]["name"]
        since = self._deleting_since.setdefault(name, time.monotonic())
        remaining: Counter[str] = Counter()
        finalizers: Counter[str] = Counter()
        for resource in _NAMESPACED:
            for obj in self.ctx.store.all(resource):
                if obj["metadata"].get("namespace") != name:
                    continue
                remaining[resource.qualified] += 1
                for finalizer in obj["metadata"].get("finalizers", []):
                    finalizers[finalizer] += 1
                self.ctx.delete(resource, obj)
        status = {
            "phase": "Terminating",
            "conditions": editable(namespace.get("status", {}).get("conditions", [])),
        }
        now = timestamp()
        for kind, reason, message in _CONDITIONS:
            set_condition(status, kind, "False", reason, message, now)
        for (kind, item, remain, done), counts in zip(
            _REMAINING, (remaining, finalizers), strict=True
        ):
            if counts:
                listed = ", ".join(item.format(key, n) for key, n in sorted(counts.items()))
                set_condition(status, kind, "True", remain[0], remain[1] + listed, now)
            else:
                set_condition(status, kind, "False", *done, now)
        changed = editable(namespace)
        changed["status"] = status
        delay = self.ctx.scenario.seconds(self.ctx.scenario.namespace_finalize_delay)
        ready_at = since + delay
        if not remaining and time.monotonic() >= ready_at:
            changed["spec"]["finalizers"] = [
                f for f in changed.get("spec", {}).get("finalizers", []) if f != "kubernetes"
            ]
        stored = self.ctx.store.replace(NAMESPACES, changed)
        if not stored.get("spec", {}).get("finalizers") and not stored["metadata"].get(
            "finalizers"
        ):
            self.ctx.store.remove(NAMESPACES, "", name)
            self._deleting_since.pop(name, None)
            return None
        return max(ready_at - time.monotonic(), 0.0) if not remaining else None
