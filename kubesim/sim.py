"""``KubeSim``: a running emulator with a kubeconfig, for tests, benchmarks and demos."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubesim.cluster import Cluster
from kubesim.faults import FaultInjector
from kubesim.resources import Resource, by_plural
from kubesim.rig import Rig
from kubesim.scenario import Faults, Scenario
from kubesim.server import KubeSimServer, LoggedRequest

JSON = dict[str, Any]
CONTEXT = "kubesim"


def kubeconfig_text(url: str, user: str) -> str:
    """A kubeconfig whose current context ``kubesim`` points at ``url`` (plain HTTP)."""
    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        f"- name: {CONTEXT}\n"
        "  cluster:\n"
        f"    server: {url}\n"
        "contexts:\n"
        f"- name: {CONTEXT}\n"
        "  context:\n"
        f"    cluster: {CONTEXT}\n"
        f"    user: {user}\n"
        "    namespace: default\n"
        f"current-context: {CONTEXT}\n"
        "users:\n"
        f"- name: {user}\n"
        "  user:\n"
        "    token: kubesim\n"
    )


class KubeSim(Rig):
    """Start with ``with KubeSim(scenario) as sim:``; ``sim.env`` runs kubectl against it."""

    def __init__(
        self,
        scenario: Scenario | str | None = None,
        port: int = 0,
        workdir: Path | None = None,
    ) -> None:
        if isinstance(scenario, str):
            scenario = Scenario.from_yaml(scenario)
        self.scenario = scenario or Scenario()
        self.cluster = Cluster(self.scenario)
        self._server = KubeSimServer(("127.0.0.1", port), self.cluster)
        super().__init__(workdir, prefix="kubesim-")
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[LoggedRequest]:
        return list(self._server.requests)

    @property
    def open_watches(self) -> int:
        """How many watch streams are open now: a test waits for kubectl to be watching
        before it makes the change the watch should report."""
        return self._server.open_watches

    def set_faults(self, faults: Faults) -> None:
        """Change the API faults of a running emulator (a token that expires, an apiserver
        that starts throttling); the random draws restart from ``faults.seed``."""
        self.scenario = replace(self.scenario, faults=faults)
        self.cluster.scenario = self.cluster.api.scenario = self.scenario
        self._server.faults = FaultInjector(faults)

    def write_kubeconfig(self, path: Path | None = None) -> Path:
        target = path or self.kubeconfig
        target.write_text(kubeconfig_text(self.url, self.scenario.user))
        return target

    def start(self) -> KubeSim:
        self.write_kubeconfig()
        self.cluster.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self.cluster.stop()
        self.remove_workdir()

    # direct access for assertions -------------------------------------------------------------

    def objects(self, plural: str, namespace: str = "", group: str = "") -> list[JSON]:
        items, _ = self.cluster.store.list_objects(by_plural(plural, group), namespace)
        return items

    def get(self, plural: str, name: str, namespace: str = "", group: str = "") -> JSON | None:
        return self.cluster.store.get(by_plural(plural, group), namespace, name)

    def resource(self, plural: str, group: str = "") -> Resource:
        return by_plural(plural, group)

    def snapshot(self) -> dict[tuple[str, str, str], str]:
        """Every object's (resource, namespace, name) → resourceVersion: compare before/after
        a command to prove it changed nothing."""
        store = self.cluster.store
        with store.lock:
            return {
                (resource.qualified, *key): obj["metadata"]["resourceVersion"]
                for resource, bucket in store._objects.items()
                for key, obj in bucket.items()
                if resource.kind != "Event"
            }

    def has_volume_data(self, path: str) -> bool:
        """Whether the database has written to the volume at ``path`` (kubesim's data marker)."""
        return self.cluster.controllers.kubelet.has_data(path)
