"""Runs every controller whenever the store changes or a scripted delay falls due."""

from __future__ import annotations

import threading
import time

from kubesim.controllers.base import Context
from kubesim.controllers.endpoints import EndpointSliceController
from kubesim.controllers.kubelet import Kubelet
from kubesim.controllers.namespaces import NamespaceController
from kubesim.controllers.volumes import VolumeController
from kubesim.controllers.workloads import (
    DeploymentController,
    GarbageCollector,
    ReplicaSetController,
)
from kubesim.resources import by_plural

# Longest pause between passes when nothing is scheduled: a safety net, not a clock.
IDLE_WAKE = 0.5


class ControllerManager:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.kubelet = Kubelet(ctx)
        self.namespaces = NamespaceController(ctx)
        self.deployments = DeploymentController(ctx)
        self.replicasets = ReplicaSetController(ctx)
        self.volumes = VolumeController(ctx, self.kubelet)
        self.endpoints = EndpointSliceController(ctx)
        self.garbage = GarbageCollector(
            ctx,
            (
                by_plural("deployments", "apps"),
                by_plural("replicasets", "apps"),
                by_plural("pods"),
                by_plural("services"),
                by_plural("endpointslices", "discovery.k8s.io"),
            ),
        )
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kubesim-controllers", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self.ctx.store.changed:
            self.ctx.store.changed.notify_all()
        self._thread.join(timeout=5)

    def reconcile_once(self) -> float:
        """One pass of every controller; returns how long until one needs to run again."""
        waits = []
        with self.ctx.store.lock:
            waits.append(self.namespaces.reconcile())
            waits.append(self.deployments.reconcile())
            waits.append(self.replicasets.reconcile())
            self.volumes.reconcile()
            waits.append(self.kubelet.reconcile())
            self.endpoints.reconcile()
            self.garbage.reconcile()
        return min([w for w in waits if w is not None], default=IDLE_WAKE)

    def _loop(self) -> None:
        store = self.ctx.store
        seen = -1
        while not self._stop.is_set():
            wait = self.reconcile_once()
            # A pass that changed something runs again at once: controllers feed each other.
            if store.resource_version != seen:
                seen = store.resource_version
                continue
            deadline = time.monotonic() + min(wait, IDLE_WAKE)
            with store.changed:
                while store.resource_version == seen and not self._stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    store.changed.wait(remaining)
