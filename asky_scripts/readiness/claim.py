"""A PersistentVolumeClaim is ready when Bound, or Pending for a WaitForFirstConsumer class.

Its StorageClass is read with it only when --storage-class named one (reading StorageClasses
needs a cluster-wide permission the default class does not justify); a ProvisioningFailed
event fails it at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, name_of, spec, status
from asky_scripts.readiness import base
from asky_scripts.readiness.events import latest_event
from asky_scripts.readiness.verdict import Failed, Ready, Verdict, Waiting


def claim_verdict(claim: Obj, storage_class: Obj | None, events: Sequence[Obj]) -> Verdict:
    gate = base.lifecycle_gate(claim)
    if gate:
        return gate
    name = name_of(claim)
    phase = status(claim).get("phase")
    volume = spec(claim).get("volumeName", "")
    if phase == "Bound":
        return Ready(f"Bound to {volume}")
    if phase == "Lost":
        return Failed(
            f"claim {name} lost its volume {volume}",
            hint="the PersistentVolume was deleted; the data on it is gone from the cluster",
        )
    if storage_class and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer":
        return Ready(f"Pending until its first pod (class {name_of(storage_class)})")
    failed = latest_event(events, claim, reasons=("ProvisioningFailed",))
    if failed:
        return Failed(
            f"claim {name}: ProvisioningFailed — {failed.get('message', '')}",
            hint="check the StorageClass given with --storage-class and its provisioner",
        )
    return Waiting(f"phase {phase or 'unknown'}")


class ClaimReadiness(base.KindReadiness):
    shown_in_summary = True
    explained_on_timeout = True

    def watches(self, setting: base.Setting) -> tuple[str, ...]:
        return ("Event", "StorageClass") if setting.storage_class else ("Event",)

    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        storage_class = observed.find("StorageClass", str(spec(obj).get("storageClassName")))
        return claim_verdict(obj, storage_class, observed.of("Event"))
