"""A PersistentVolume is ready when Available or Bound to our claim.

A volume bound to someone else's claim, or released with its old claimRef, will never bind
ours: both fail at once, naming the fix.
"""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj, field, name_of, spec, status
from asky_scripts.model.manifests import CLAIM_NAME
from asky_scripts.readiness import base
from asky_scripts.readiness.verdict import Failed, Ready, Verdict, Waiting


def volume_verdict(volume: Obj, claim_namespace: str, claim_name: str) -> Verdict:
    gate = base.lifecycle_gate(volume)
    if gate:
        return gate
    name = name_of(volume)
    phase = status(volume).get("phase")
    ref = field(spec(volume), "claimRef")
    ours = ref.get("namespace") == claim_namespace and ref.get("name") == claim_name
    if phase == "Available":
        return Ready("Available")
    if phase == "Bound":
        if ours:
            return Ready(f"Bound to {claim_namespace}/{claim_name}")
        return Failed(
            f"volume {name} is bound to another claim, {ref.get('namespace')}/{ref.get('name')}",
            hint="it belongs to someone else; choose another --namespace or remove that claim",
        )
    if phase == "Released" and not ref.get("uid"):
        return Waiting("Released, becoming Available for its claim")
    if phase == "Released":
        return Failed(
            f"volume {name} was released by a deleted claim and keeps its old claimRef",
            hint="run.py re-binds only its own released volume; for this one, check "
            f"its data, then: kubectl patch pv {name} --type json "
            '-p \'[{"op":"remove","path":"/spec/claimRef/uid"}]\'',
        )
    if phase == "Failed":
        return Failed(f"volume {name} failed: {status(volume).get('message', 'no message')}")
    return Waiting(f"phase {phase or 'unknown'}")


class VolumeReadiness(base.KindReadiness):
    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        return volume_verdict(obj, context.setting.namespace, CLAIM_NAME)
