"""PersistentVolume binding, dynamic provisioning, reclaim and the protection finalizers.

Follows the persistent-volume controller's rules that matter for a deploy and a teardown: a claim
naming a volume binds to it (a pre-bound volume names its claim back), other claims bind to a
matching Available volume or are provisioned by their class, a deleted claim leaves a ``Retain``
volume Released (with the old claim's uid still in ``claimRef``) and deletes a ``Delete`` one, and
neither a claim used by a pod nor a bound volume goes away while in use.
"""

from __future__ import annotations

from typing import Any

from kubesim.controllers.base import Context
from kubesim.controllers.kubelet import Kubelet
from kubesim.quantity import parse_quantity
from kubesim.resources import by_plural
from kubesim.store import editable, timestamp
from kubesim.strategy import PV_PROTECTION, PVC_PROTECTION

JSON = dict[str, Any]

PVS = by_plural("persistentvolumes")
PVCS = by_plural("persistentvolumeclaims")
PODS = by_plural("pods")
STORAGE_CLASSES = by_plural("storageclasses", "storage.k8s.io")
BOUND_BY_CONTROLLER = "pv.kubernetes.io/bound-by-controller"
BIND_COMPLETED = "pv.kubernetes.io/bind-completed"


def _claim_ref(pvc: JSON) -> JSON:
    meta = pvc["metadata"]
    return {
        "kind": "PersistentVolumeClaim",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "apiVersion": "v1",
        "resourceVersion": meta["resourceVersion"],
    }


def _fits(pv: JSON, pvc: JSON) -> bool:
    spec, want = pv.get("spec", {}), pvc.get("spec", {})
    if spec.get("storageClassName", "") != want.get("storageClassName", ""):
        return False
    if not set(want.get("accessModes", [])) <= set(spec.get("accessModes", [])):
        return False
    requested = want.get("resources", {}).get("requests", {}).get("storage", "0")
    return parse_quantity(spec.get("capacity", {}).get("storage", "0")) >= parse_quantity(requested)


def _reserved_for(pv: JSON, pvc: JSON) -> bool:
    ref = pv.get("spec", {}).get("claimRef")
    if not ref:
        return True
    meta = pvc["metadata"]
    return bool(
        ref.get("name") == meta["name"]
        and ref.get("namespace") == meta["namespace"]
        and ref.get("uid", meta["uid"]) == meta["uid"]
    )


class VolumeController:
    def __init__(self, ctx: Context, kubelet: Kubelet) -> None:
        self.ctx = ctx
        self.kubelet = kubelet
        self._warned: set[tuple[str, str]] = set()

    def reconcile(self) -> None:
        store = self.ctx.store
        for pvc in store.all(PVCS):
            if pvc.get("status", {}).get("phase") == "Pending" and not pvc["metadata"].get(
                "deletionTimestamp"
            ):
                self._bind_claim(pvc)
        for pv in store.all(PVS):
            self._sync_volume(pv)
        self._protect()

    def _warn(self, obj: JSON, reason: str, message: str, event_type: str = "Warning") -> None:
        key = (obj["metadata"]["uid"], message)
        if key not in self._warned:
            self._warned.add(key)
            self.ctx.events.record(obj, event_type, reason, message, "persistentvolume-controller")

    def _bind_claim(self, pvc: JSON) -> None:
        store = self.ctx.store
        wanted = pvc["spec"].get("volumeName")
        if wanted:
            pv = store.get(PVS, "", wanted)
            if (
                pv is not None
                and _reserved_for(pv, pvc)
                and _fits(pv, pvc)
                and pv.get("status", {}).get("phase") in ("Available", "Pending", "Bound")
            ):
                self._bind(pv, pvc, by_controller=False)
            return
        candidates = [
            pv
            for pv in store.all(PVS)
            if pv.get("status", {}).get("phase") == "Available"
            and _reserved_for(pv, pvc)
            and _fits(pv, pvc)
            and not pv["metadata"].get("deletionTimestamp")
        ]
        if candidates:
            smallest = min(
                candidates,
                key=lambda pv: parse_quantity(pv["spec"].get("capacity", {}).get("storage", "0")),
            )
            self._bind(smallest, pvc, by_controller=True)
            return
        class_name = pvc["spec"].get("storageClassName", "")
        if not class_name:
            self._warn(
                pvc,
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
                "Normal",
            )
            return
        storage_class = store.get(STORAGE_CLASSES, "", class_name)
        if storage_class is None:
            self._warn(
                pvc, "ProvisioningFailed", f'storageclass.storage.k8s.io "{class_name}" not found'
            )
            return
        if storage_class.get("volumeBindingMode") == "WaitForFirstConsumer":
            self._warn(
                pvc,
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
                "Normal",
            )
            return
        self._provision(pvc, storage_class)

    def _provision(self, pvc: JSON, storage_class: JSON) -> None:
        meta = pvc["metadata"]
        provisioner = storage_class.get("provisioner", "")
        name = f"pvc-{meta['uid']}"
        self.ctx.events.record(
            pvc,
            "Normal",
            "Provisioning",
            f"External provisioner is provisioning volume for claim "
            f'"{meta["namespace"]}/{meta["name"]}"',
            provisioner,
        )
        pv = {
            "kind": "PersistentVolume",
            "apiVersion": "v1",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": provisioner},
                "finalizers": [PV_PROTECTION],
            },
            "spec": {
                "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]},
                "accessModes": list(pvc["spec"].get("accessModes", [])),
                "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
                "storageClassName": storage_class["metadata"]["name"],
                "volumeMode": "Filesystem",
                "hostPath": {
                    "path": f"/tmp/hostpath-provisioner/{meta['namespace']}/{meta['name']}",
                    "type": "",
                },
                "claimRef": _claim_ref(pvc),
            },
            "status": {"phase": "Pending"},
        }
        created = self.ctx.store.create(PVS, pv)
        self.ctx.events.record(
            pvc,
            "Normal",
            "ProvisioningSucceeded",
            f"Successfully provisioned volume {name}",
            provisioner,
        )
        self._bind(created, pvc, by_controller=False)

    def _bind(self, pv: JSON, pvc: JSON, by_controller: bool) -> None:
        bound_pv = editable(pv)
        bound_pv["spec"]["claimRef"] = _claim_ref(pvc)
        bound_pv["status"] = {"phase": "Bound", "lastPhaseTransitionTime": timestamp()}
        if by_controller:
            bound_pv["metadata"].setdefault("annotations", {})[BOUND_BY_CONTROLLER] = "yes"
        self.ctx.update(PVS, bound_pv)
        bound_pvc = editable(pvc)
        bound_pvc["spec"]["volumeName"] = pv["metadata"]["name"]
        annotations = bound_pvc["metadata"].setdefault("annotations", {})
        annotations[BIND_COMPLETED] = "yes"
        if by_controller:
            annotations[BOUND_BY_CONTROLLER] = "yes"
        bound_pvc["status"] = {
            "phase": "Bound",
            "accessModes": list(pv["spec"].get("accessModes", [])),
            "capacity": dict(pv["spec"].get("capacity", {})),
        }
        self.ctx.update(PVCS, bound_pvc)

    def _sync_volume(self, pv: JSON) -> None:
        phase = pv.get("status", {}).get("phase")
        ref = pv.get("spec", {}).get("claimRef")
        if ref and ref.get("uid"):
            claim = self.ctx.store.get(PVCS, ref.get("namespace", ""), ref.get("name", ""))
            if claim is None or claim["metadata"]["uid"] != ref["uid"]:
                if phase == "Bound":
                    self._release(pv)
                return
        if phase == "Pending" or (phase == "Released" and not (ref and ref.get("uid"))):
            available = editable(pv)
            available["status"] = {"phase": "Available", "lastPhaseTransitionTime": timestamp()}
            self.ctx.update(PVS, available)

    def _release(self, pv: JSON) -> None:
        if pv["spec"].get("persistentVolumeReclaimPolicy", "Retain") == "Delete":
            self.kubelet.forget_volume(pv["spec"].get("hostPath", {}).get("path", ""))
            self.ctx.delete(PVS, pv)
            released = self.ctx.store.get(PVS, "", pv["metadata"]["name"])
            if released is None:
                return
            pv = released
        released_pv = editable(pv)
        released_pv["status"] = {"phase": "Released", "lastPhaseTransitionTime": timestamp()}
        self.ctx.update(PVS, released_pv)

    def _protect(self) -> None:
        """Lift the protection finalizers once nothing uses the claim or the volume."""
        store = self.ctx.store
        in_use = {
            (pod["metadata"]["namespace"], v["persistentVolumeClaim"]["claimName"])
            for pod in store.all(PODS)
            for v in pod.get("spec", {}).get("volumes", []) or []
            if "persistentVolumeClaim" in v
        }
        for pvc in store.all(PVCS):
            meta = pvc["metadata"]
            if (
                meta.get("deletionTimestamp")
                and PVC_PROTECTION in meta.get("finalizers", [])
                and (meta["namespace"], meta["name"]) not in in_use
            ):
                self._drop_finalizer(PVCS, pvc, PVC_PROTECTION)
        for pv in store.all(PVS):
            meta = pv["metadata"]
            if (
                meta.get("deletionTimestamp")
                and PV_PROTECTION in meta.get("finalizers", [])
                and pv.get("status", {}).get("phase") != "Bound"
            ):
                self._drop_finalizer(PVS, pv, PV_PROTECTION)

    def _drop_finalizer(self, resource: Any, obj: JSON, finalizer: str) -> None:
        changed = editable(obj)
        changed["metadata"]["finalizers"] = [
            f for f in obj["metadata"].get("finalizers", []) if f != finalizer
        ]
        if not changed["metadata"]["finalizers"]:
            del changed["metadata"]["finalizers"]
        self.ctx.update(resource, changed)
