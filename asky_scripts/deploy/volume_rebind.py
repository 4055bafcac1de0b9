"""Our database volume as found in the cluster, and its safe re-bind after `terminate --keep-data`.

``terminate.py --keep-data`` deletes the claim but keeps the Retain volume, the namespace and
the generated Secrets.  The volume is then Released: its ``claimRef`` still carries the deleted
claim's uid, so the persistent-volume controller will never bind it to a new claim.  Removing
that uid (and the stale resourceVersion) makes it Available again for a claim of the same
namespace and name: the same volume, with the same data.

It is done only when every check says the volume is ours and the data can still be used: the
labels name asky-scripts and this namespace, the claimRef names our claim, and the Secrets with
the passwords the database was initialised with are still in the namespace.  Without them new
passwords would be generated and would lock the services out of the old database, so the run
refuses instead and says what to do.  A volume that is not ours is never touched.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, field, spec, status
from asky_scripts.model.manifests import (
    CLAIM_NAME,
    INSTANCE_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    DeployOptions,
)
from asky_scripts.model.ownership import is_ours
from asky_scripts.model.secrets import secret_names


class VolumeState(enum.Enum):
    #: No volume of that name: the storage stage creates it.
    ABSENT = "absent"
    #: Ours and Available or Bound to our claim: applied as it is, never re-applied.
    USABLE = "usable"
    #: Ours and Released by our deleted claim: re-bound before the claim is applied.
    RELEASED = "released"
    #: Not ours, claimed by someone else, or Failed: the run refuses (see ``problems``).
    REFUSED = "refused"


@dataclass(frozen=True)
class VolumeFinding:
    state: VolumeState
    problems: tuple[str, ...] = ()
    #: The Released volume's claimRef, whose stale uid the re-bind removes.
    stale_claim_ref: Obj | None = None


def judge(volume: Obj | None, options: DeployOptions) -> VolumeFinding:
    """What the storage stage may do with the volume found under our name (pure)."""
    if volume is None:
        return VolumeFinding(VolumeState.ABSENT)
    ns, name = options.namespace, options.pv_name
    ref = field(spec(volume), "claimRef")
    phase = status(volume).get("phase")
    if not is_ours(volume, ns):
        return VolumeFinding(
            VolumeState.REFUSED,
            (
                f"PersistentVolume {name} ({phase or 'no phase'}) exists and is not ours "
                f"(labels {MANAGED_BY_LABEL}={MANAGED_BY} and {INSTANCE_LABEL}={ns} missing); "
                "it is left untouched: remove or rename it, or deploy with another --namespace",
            ),
        )
    if ref and (ref.get("namespace") != ns or ref.get("name") != CLAIM_NAME):
        return VolumeFinding(
            VolumeState.REFUSED,
            (
                f"PersistentVolume {name} is claimed by {ref.get('namespace')}/"
                f"{ref.get('name')}, not {ns}/{CLAIM_NAME}; it is left untouched",
            ),
        )
    if phase == "Failed":
        return VolumeFinding(
            VolumeState.REFUSED,
            (f"PersistentVolume {name} is Failed; inspect it before reusing it",),
        )
    if phase == "Released" and ref.get("uid"):
        return VolumeFinding(VolumeState.RELEASED, stale_claim_ref=dict(ref))
    return VolumeFinding(VolumeState.USABLE)


def lost_secrets_problem(options: DeployOptions, missing: list[str], host_path: str) -> str:
    """The refusal when the data survived but the passwords it was initialised with did not."""
    ns, name = options.namespace, options.pv_name
    return (
        f"PersistentVolume {name} holds the database of an earlier deploy of namespace {ns}, "
        f"but the Secrets with that database's passwords are gone ({', '.join(missing)}), "
        "most likely because the namespace was deleted by hand. New passwords would lock the "
        "services out of that database, so the volume is left untouched. To keep the data: "
        f"restore those Secrets into namespace {ns} from your backup and run again. To start "
        f"over with an empty database: `kubectl delete pv {name}`, delete the directory "
        f"{host_path} on the node (on minikube: `minikube ssh -- sudo rm -rf {host_path}`), "
        "and run again. Or deploy a new copy beside it with --namespace."
    )


def inspect(
    kubectl: Kubectl, options: DeployOptions, volume: Obj | None, host_path: str
) -> VolumeFinding:
    """``judge``, plus the check that a Released volume's Secrets are still there.

    Reads only the Secrets' names (``-o name``): their values never reach this process.
    """
    finding = judge(volume, options)
    if finding.state is not VolumeState.RELEASED:
        return finding
    listed = kubectl.run(
        ["get", "secrets", "-n", options.namespace, "-o", "name", "--ignore-not-found"]
    )
    present = {line.partition("/")[2] for line in listed.split()}
    missing = [name for name in secret_names() if name not in present]
    if missing:
        return VolumeFinding(
            VolumeState.REFUSED, (lost_secrets_problem(options, missing, host_path),)
        )
    return finding


def read_volume(kubectl: Kubectl, options: DeployOptions) -> Obj | None:
    found = kubectl.get_items(["get", f"persistentvolumes/{options.pv_name}", "--ignore-not-found"])
    return found[0] if found else None


def rebind(kubectl: Kubectl, volume_name: str, stale_claim_ref: Obj) -> None:
    """Removes the deleted claim's uid, only if it is still the one judged stale.

    The ``test`` operation makes the patch a compare-and-swap: if anything re-bound the volume
    since we looked, the apiserver refuses the whole patch and nothing changes.
    """
    ops: list[Obj] = [
        {"op": "test", "path": "/spec/claimRef/uid", "value": stale_claim_ref["uid"]},
        {"op": "remove", "path": "/spec/claimRef/uid"},
    ]
    if "resourceVersion" in stale_claim_ref:
        ops.append({"op": "remove", "path": "/spec/claimRef/resourceVersion"})
    kubectl.run(["patch", f"persistentvolumes/{volume_name}", "--type=json", "-p", json.dumps(ops)])
