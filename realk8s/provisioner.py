"""A tiny stand-in for minikube's storage-provisioner (k8s.io/minikube-hostpath).

Why not kwok's volume stages: they bind claim and volume themselves, racing the controller
manager's real PV binder. This provisioner does only what an external provisioner does (the
contract of sigs.k8s.io/sig-storage-lib-external-provisioner): for a claim the PV controller has
handed to it (annotation ``volume.kubernetes.io/storage-provisioner``), it creates a volume with a
claimRef to it; the real binder binds them. When such a volume is Released and its policy is
Delete, it deletes it. Nothing is written to disk: there is no kubelet to mount it.
"""

from __future__ import annotations

import threading
from typing import Any

from realk8s.api import Api, ApiError

JSON = dict[str, Any]
PROVISIONER_ANNOTATION = "volume.kubernetes.io/storage-provisioner"
PROVISIONED_BY = "pv.kubernetes.io/provisioned-by"


class HostPathProvisioner:
    NAME = "k8s.io/minikube-hostpath"
    # minikube's provisioner puts volumes under this directory of the node.
    ROOT = "/tmp/hostpath-provisioner"

    def __init__(self, api: Api, interval: float = 0.5) -> None:
        self.api = api
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="hostpath-provisioner", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sync()
            except ApiError:
                continue  # the API server is starting or stopping: the next pass retries

    def sync(self) -> None:
        for claim in self.api.items("/api/v1/persistentvolumeclaims"):
            annotations = claim["metadata"].get("annotations") or {}
            if (
                annotations.get(PROVISIONER_ANNOTATION) == self.NAME
                and not claim["spec"].get("volumeName")
                and claim.get("status", {}).get("phase") == "Pending"
                and not claim["metadata"].get("deletionTimestamp")
            ):
                self._provision(claim)
        for volume in self.api.items("/api/v1/persistentvolumes"):
            annotations = volume["metadata"].get("annotations") or {}
            if (
                annotations.get(PROVISIONED_BY) == self.NAME
                and volume["spec"].get("persistentVolumeReclaimPolicy") == "Delete"
                and volume.get("status", {}).get("phase") in ("Released", "Failed")
            ):
                self.api.delete(f"/api/v1/persistentvolumes/{volume['metadata']['name']}")

    def _provision(self, claim: JSON) -> None:
        meta, spec = claim["metadata"], claim["spec"]
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": f"pvc-{meta['uid']}",
                "annotations": {PROVISIONED_BY: self.NAME},
            },
            "spec": {
                "capacity": {"storage": spec["resources"]["requests"]["storage"]},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": spec.get("storageClassName", ""),
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
                "hostPath": {"path": f"{self.ROOT}/{meta['namespace']}/{meta['name']}"},
            },
        }
        try:
            self.api.create("/api/v1/persistentvolumes", volume)
        except ApiError as error:
            if error.status != 409:
                raise
