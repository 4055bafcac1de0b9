"""Every other kind (ConfigMaps, Secrets, policies): with no status to wait for, present is
ready, unless being deleted or not yet seen by its controller."""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj
from asky_scripts.readiness.base import (
    Context,
    KindReadiness,
    Observed,
    Ready,
    Verdict,
    lifecycle_gate,
)


def exists_verdict(obj: Obj) -> Verdict:
    return lifecycle_gate(obj) or Ready("present")


class ExistsReadiness(KindReadiness):
    def verdict(self, obj: Obj, observed: Observed, context: Context) -> Verdict:
        return exists_verdict(obj)
