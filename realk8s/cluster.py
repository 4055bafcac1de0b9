"""``RealCluster``: a real single-node control plane on 127.0.0.1, shaped like a fresh minikube.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler (Kubernetes v1.36, built by
realk8s/build.py) each run as a process of their own; kwok plays the kubelet of node
``minikube``. What a test sees is what ``minikube start`` gives: context, cluster and user
``minikube`` (client certificate, group system:masters), the default StorageClass ``standard``
(provisioner k8s.io/minikube-hostpath, see realk8s/provisioner.py), node ``minikube`` with
minikube's default size (2 CPUs, 3912Mi, 110 pods) and address 192.168.49.2, and the default
admission plugins (PodSecurity, DefaultStorageClass, ServiceAccount, ...) plus NodeRestriction, as
kubeadm enables them.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from kubesim.rig import Rig
from realk8s.api import Api, ApiError, resource_path
from realk8s.build import CONTROL_PLANE, KUBERNETES_VERSION, KWOK, built_dir
from realk8s.processes import Component, ComponentError, free_port, stop_all
from realk8s.provisioner import HostPathProvisioner

JSON = dict[str, Any]

CONTEXT = "minikube"
NODE_NAME = "minikube"
NODE_ADDRESS = "192.168.49.2"
NODE_CAPACITY = {"cpu": "2", "memory": "3912Mi", "pods": "110", "ephemeral-storage": "61202244Ki"}
POD_CIDR = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/12"
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
STAGES = Path(__file__).resolve().parent / "kwok" / "stages.yaml"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
# Resources whose objects change with time alone (heartbeats, leases, events), left out of
# snapshot(): a command that changes nothing must leave everything else as it was.
# componentstatuses are computed on each read, not stored.
NOISY_RESOURCES = frozenset(
    {"events", "events.events.k8s.io", "leases.coordination.k8s.io", "nodes", "componentstatuses"}
)


# Metadata of every request, at its answer: enough for verb, URI, client and status code.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
"""


# The audit log names the API verb; the HTTP method that carried it is what kubesim logs.
HTTP_METHODS = {
    "get": "GET",
    "list": "GET",
    "watch": "GET",
    "create": "POST",
    "update": "PUT",
    "patch": "PATCH",
    "delete": "DELETE",
    "deletecollection": "DELETE",
}


@dataclass(frozen=True)
class AuditedRequest:
    """One answered request, as the API server's audit log tells it (kubesim's LoggedRequest
    carries the same four fields)."""

    method: str
    path: str
    query: str
    status: int


class ClusterStartError(Exception):
    """The control plane is not built, or did not come up; the message says which part."""


def kubeconfig_text(server: str, pki: Path) -> str:
    """A kubeconfig like the one ``minikube start`` writes (certificate files, not inline data)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": CONTEXT,
                "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
            }
        ],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": "default"},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
        "users": [
            {
                "name": CONTEXT,
                "user": {
                    "client-certificate": str(pki / "client.crt"),
                    "client-key": str(pki / "client.key"),
                },
            }
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def node_manifest() -> JSON:
    """Node ``minikube`` as its kubelet registers it; kwok then reports it Ready (stages.yaml)."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": NODE_NAME,
            "labels": {
                "kubernetes.io/hostname": NODE_NAME,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "beta.kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
                "minikube.k8s.io/name": NODE_NAME,
                "minikube.k8s.io/primary": "true",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": POD_CIDR, "podCIDRs": [POD_CIDR]},
        "status": {
            "capacity": NODE_CAPACITY,
            "allocatable": NODE_CAPACITY,
            "addresses": [
                {"type": "InternalIP", "address": NODE_ADDRESS},
                {"type": "Hostname", "address": NODE_NAME},
                # Only the API server uses this one (--kubelet-preferred-address-types): its
                # `kubectl logs` requests reach kwok's kubelet API on 127.0.0.1.
                {"type": "InternalDNS", "address": "localhost"},
            ],
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": "",
                "containerRuntimeVersion": "containerd://1.7.23",
                "kernelVersion": "6.1.0",
                "kubeProxyVersion": "",
                "kubeletVersion": KUBERNETES_VERSION,
                "machineID": "",
                "operatingSystem": "linux",
                "osImage": "Ubuntu 22.04.5 LTS",
                "systemUUID": "",
            },
        },
    }


def storage_class_manifest() -> JSON:
    """minikube's default class (deploy/addons/storageclass/storageclass.yaml in minikube)."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": "standard",
            "annotations": {DEFAULT_CLASS: "true"},
            "labels": {"addonmanager.kubernetes.io/mode": "EnsureExists"},
        },
        "provisioner": HostPathProvisioner.NAME,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def _cri_log(lines: list[str]) -> str:
    """Container log lines in the CRI file format kwok's kubelet API reads (as containerd's)."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return "".join(f"{stamp} stdout F {line}\n" for line in lines)


# What `kubectl logs` shows: postgres says it accepts connections (run.py reads that line), a
# crashed container's previous run says it was scripted, any other container says it started.
CONTAINER_LOGS = {
    "postgres": [
        "PostgreSQL Database directory appears to contain a database; Skipping initialization",
        "LOG:  starting PostgreSQL 16 on x86_64-pc-linux-musl (realk8s: kwok container log)",
        "LOG:  database system is ready to accept connections",
    ],
    "container": ["started (realk8s: kwok plays this container; nothing really runs)"],
    "previous": ["fatal: exiting with code 1 (realk8s: a crash scripted by kwok stages.yaml)"],
}


class RealCluster(Rig):
    """``with RealCluster() as cluster:`` a fresh control plane; ``cluster.env`` runs kubectl."""

    def __init__(
        self,
        bin_dir: Path | None = None,
        workdir: Path | None = None,
        timeout: float = 180,
    ) -> None:
        found = bin_dir or built_dir()
        if found is None:
            raise ClusterStartError(
                "the control plane is not built: run `python -m realk8s build` (needs Go 1.26)"
            )
        self.bin_dir = found
        self.timeout = timeout
        super().__init__(workdir, prefix="realk8s-")
        self.pki = self.workdir / "pki"
        self.logs = self.workdir / "logs"
        self.etcd_port, self.peer_port = free_port(), free_port()
        self.port, self.kubelet_port = free_port(), free_port()
        self.components: list[Component] = []
        self.startup_seconds = 0.0
        self._api: Api | None = None
        self._provisioner: HostPathProvisioner | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def describe(self) -> str:
        return f"serving {self.url} (started in {self.startup_seconds:.1f}s, logs in {self.logs})"

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(
                self.url, self.pki / "ca.crt", self.pki / "client.crt", self.pki / "client.key"
            )
        return self._api

    # -- start and stop ---------------------------------------------------------------------------

    def start(self) -> RealCluster:
        started = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _start(self) -> None:
        for directory in (self.pki, self.logs, self.workdir / "etcd"):
            directory.mkdir(parents=True, exist_ok=True)
        binary = str(self.bin_dir / CONTROL_PLANE)
        made = subprocess.run(
            [binary, "pki", str(self.pki)], capture_output=True, text=True, check=False
        )
        if made.returncode != 0:
            raise ClusterStartError(f"certificates: {made.stderr.strip()}")
        self.kubeconfig.write_text(kubeconfig_text(self.url, self.pki))
        self._audit_policy.write_text(AUDIT_POLICY)
        self._launch("etcd", self._etcd_args())
        self._wait("etcd to serve", self._etcd_healthy, 30)
        self._launch("kube-apiserver", self._apiserver_args())
        self._wait("kube-apiserver /readyz", self.api.ready, self.timeout)
        self.api.create("/apis/storage.k8s.io/v1/storageclasses", storage_class_manifest())
        self.api.create("/api/v1/nodes", node_manifest())
        self._launch("kube-controller-manager", self._controller_manager_args())
        self._launch("kube-scheduler", self._scheduler_args())
        self._launch("kwok", self._kwok_args(), binary=str(self.bin_dir / KWOK))
        self._provisioner = HostPathProvisioner(self.api)
        self._provisioner.start()
        self._wait("the ServiceAccount default/default", self._default_account, self.timeout)
        self._wait("node minikube Ready without taints", self._node_ready, self.timeout)

    def stop(self) -> None:
        if self._provisioner is not None:
            self._provisioner.stop()
        stop_all(self.components)
        self.components.clear()
        self.remove_workdir()

    def _launch(self, name: str, args: list[str], binary: str | None = None) -> None:
        argv = [binary, *args] if binary else [str(self.bin_dir / CONTROL_PLANE), name, *args]
        # A HOME of their own: kwok would read ~/.kwok/kwok.yaml, client-go ~/.kube.
        env = {**os.environ, "HOME": str(self.workdir / "home")}
        env.pop("KUBECONFIG", None)
        component = Component(name, argv, self.logs / f"{name}.log", env)
        component.start()
        self.components.append(component)

    def _wait(self, what: str, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for component in self.components:
                try:
                    component.check()
                except ComponentError as error:
                    raise ClusterStartError(f"waiting for {what}: {error}") from error
            if ready():
                return
            if time.monotonic() > deadline:
                raise ClusterStartError(
                    f"{what} not ready after {timeout:g}s; component logs in {self.logs}"
                )
            time.sleep(0.2)

    def _etcd_healthy(self) -> bool:
        import urllib.request  # noqa: PLC0415 - only the start needs it

        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.etcd_port}/health", timeout=2
            ) as response:
                return b'"true"' in response.read()
        except OSError:
            return False

    def _default_account(self) -> bool:
        return self.api.get("/api/v1/namespaces/default/serviceaccounts/default") is not None

    def _node_ready(self) -> bool:
        node = self.api.get(f"/api/v1/nodes/{NODE_NAME}") or {}
        conditions = node.get("status", {}).get("conditions") or []
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
        return ready and not node.get("spec", {}).get("taints")

    # -- component flags --------------------------------------------------------------------------

    def _etcd_args(self) -> list[str]:
        client = f"http://127.0.0.1:{self.etcd_port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        return [
            f"--name={NODE_NAME}",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={NODE_NAME}={peer}",
            "--unsafe-no-fsync",  # a throw-away cluster: durability costs seconds per test
            "--auto-compaction-retention=1",
            "--log-level=warn",
        ]

    def _apiserver_args(self) -> list[str]:
        pki = self.pki
        return [
            f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",  # no default route to guess an address from
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'apiserver'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--kubelet-client-certificate={pki / 'client.crt'}",
            f"--kubelet-client-key={pki / 'client.key'}",
            "--kubelet-preferred-address-types=InternalDNS",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",  # on top of the default set
            "--allow-privileged=true",
            # 127.0.0.1 is not a valid endpoint of Service `kubernetes`; nothing here needs it.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            # Each request's verb, URI, client and answer, so tests can compare what kubectl was
            # answered here with what kubesim answered it (requests()).
            f"--audit-policy-file={self._audit_policy}",
            f"--audit-log-path={self._audit_log}",
            "--audit-log-mode=blocking",
        ]

    def _client_args(self) -> list[str]:
        return [f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--secure-port=0"]

    def _controller_manager_args(self) -> list[str]:
        return [
            *self._client_args(),
            f"--root-ca-file={self.pki / 'ca.crt'}",
            f"--service-account-private-key-file={self.pki / 'sa.key'}",
            f"--cluster-signing-cert-file={self.pki / 'ca.crt'}",
            f"--cluster-signing-key-file={self.pki / 'ca.key'}",
            "--controllers=*",
        ]

    def _scheduler_args(self) -> list[str]:
        return self._client_args()

    def _kwok_args(self) -> list[str]:
        logs_config = self.workdir / "kwok-logs.yaml"
        logs_config.write_text(self._logs_config())
        return [
            f"--kubeconfig={self.kubeconfig}",
            f"--config={STAGES}",
            f"--config={logs_config}",
            f"--manage-single-node={NODE_NAME}",
            f"--node-name={NODE_NAME}",
            f"--node-ip={NODE_ADDRESS}",
            f"--node-port={self.kubelet_port}",
            f"--server-address=127.0.0.1:{self.kubelet_port}",
            f"--tls-cert-file={self.pki / 'apiserver.crt'}",
            f"--tls-private-key-file={self.pki / 'apiserver.key'}",
            f"--cidr={POD_CIDR}",
            "--node-lease-duration-seconds=40",
        ]

    def _logs_config(self) -> str:
        """kwok ClusterLogs: which file `kubectl logs` reads for which container."""
        files = {}
        for name, lines in CONTAINER_LOGS.items():
            files[name] = self.logs / f"container-{name}.log"
            files[name].write_text(_cri_log(lines))
        previous = str(files["previous"])
        config = {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "ClusterLogs",
            "metadata": {"name": "containers"},
            "spec": {
                "logs": [
                    {
                        "containers": ["postgres"],
                        "logsFile": str(files["postgres"]),
                        "previousLogsFile": previous,
                    },
                    {"logsFile": str(files["container"]), "previousLogsFile": previous},
                ]
            },
        }
        return yaml.safe_dump(config, sort_keys=False)

    # -- direct access for assertions -------------------------------------------------------------

    @property
    def _audit_policy(self) -> Path:
        return self.workdir / "audit-policy.yaml"

    @property
    def _audit_log(self) -> Path:
        return self.logs / "audit.jsonl"

    def requests(self, user_agent: str = "kubectl/") -> list[AuditedRequest]:
        """The requests answered so far whose client's User-Agent starts with ``user_agent``,
        oldest first, from the API server's audit log (written before each answer is sent)."""
        if not self._audit_log.exists():
            return []
        data = self._audit_log.read_bytes()
        answered = []
        # Only whole lines: the API server may be writing another client's event right now.
        for line in data[: data.rfind(b"\n") + 1].splitlines():
            event = json.loads(line)
            if not str(event.get("userAgent", "")).startswith(user_agent):
                continue
            uri = urllib.parse.urlsplit(event["requestURI"])
            status = event.get("responseStatus", {}).get("code", 0)
            method = HTTP_METHODS.get(event["verb"], event["verb"].upper())
            answered.append(AuditedRequest(method, uri.path, uri.query, int(status)))
        return answered

    def objects(self, plural: str, namespace: str = "", group: str = "") -> list[JSON]:
        """The objects of a resource, sorted by namespace/name (as kubesim's ``objects``)."""
        items = self.api.items(resource_path(plural, namespace, group))
        return sorted(
            items,
            key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]),
        )

    def get(self, plural: str, name: str, namespace: str = "", group: str = "") -> JSON | None:
        return self.api.get(f"{resource_path(plural, namespace, group)}/{name}")

    def snapshot(self) -> dict[tuple[str, str, str], str]:
        """Every object's (resource, namespace, name) → resourceVersion, leaving out what changes
        by itself (NOISY_RESOURCES): compare before/after a command to prove it changed nothing."""
        found: dict[tuple[str, str, str], str] = {}
        for qualified, path in self._listable():
            if qualified in NOISY_RESOURCES:
                continue
            for item in self.api.items(path):
                meta = item["metadata"]
                found[(qualified, meta.get("namespace", ""), meta["name"])] = meta[
                    "resourceVersion"
                ]
        return found

    def _listable(self) -> list[tuple[str, str]]:
        """(plural.group, collection path) of every listable top-level resource."""
        group_versions = [("", "/api/v1")]
        for group in self.api.request("GET", "/apis").get("groups", []):
            version = group["preferredVersion"]["groupVersion"]
            group_versions.append((group["name"], f"/apis/{version}"))
        found = []
        for group, base in group_versions:
            for resource in self.api.request("GET", base).get("resources", []):
                if "/" in resource["name"] or "list" not in resource.get("verbs", []):
                    continue
                qualified = f"{resource['name']}.{group}" if group else resource["name"]
                found.append((qualified, f"{base}/{resource['name']}"))
        return found

    def reset(self, timeout: float = 120) -> None:
        """Back to a fresh cluster's state for the next test: every namespace but the system
        ones and every PersistentVolume deleted, and gone (finalizers done)."""
        for namespace in self.objects("namespaces"):
            name = namespace["metadata"]["name"]
            if name not in SYSTEM_NAMESPACES and not namespace["metadata"].get("deletionTimestamp"):
                self.api.delete(f"/api/v1/namespaces/{name}")
        for volume in self.objects("persistentvolumes"):
            self.api.delete(f"/api/v1/persistentvolumes/{volume['metadata']['name']}")

        def clean() -> bool:
            namespaces = {n["metadata"]["name"] for n in self.objects("namespaces")}
            return namespaces <= set(SYSTEM_NAMESPACES) and not self.objects("persistentvolumes")

        try:
            self._wait("the namespaces and volumes of the last test to go", clean, timeout)
        except ApiError as error:
            raise ClusterStartError(f"reset: {error}") from error
