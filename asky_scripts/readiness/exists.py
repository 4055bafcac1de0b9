"""Every other kind (ConfigMaps, Secrets, policies): with no status to wait for, present is
ready, unless being deleted or not yet seen by its controller."""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj
from asky_scripts.readiness import base
from asky_scripts.readiness.verdict import Ready, Verdict


def exists_verdict(obj: Obj) -> Verdict:
    return base.lifecycle_gate(obj) or Ready("present")


class ExistsReadiness(base.KindReadiness):
    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        return exists_verdict(obj)
