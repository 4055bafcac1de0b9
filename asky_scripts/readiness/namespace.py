"""A Namespace is ready when Active; one being deleted fails the deploy at once."""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj, meta, name_of, status
from asky_scripts.readiness import base
from asky_scripts.readiness.verdict import Failed, Ready, Verdict, Waiting


def namespace_verdict(namespace: Obj) -> Verdict:
    phase = status(namespace).get("phase")
    if meta(namespace).get("deletionTimestamp") or phase == "Terminating":
        return Failed(
            f"namespace {name_of(namespace)} is Terminating",
            hint="wait until it is gone (terminate.py waits and says what holds it), "
            "then run again",
        )
    return Ready("Active") if phase == "Active" else Waiting(f"phase {phase or 'unknown'}")


class NamespaceReadiness(base.KindReadiness):
    shown_in_summary = True
    explained_on_timeout = True

    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        return namespace_verdict(obj)
