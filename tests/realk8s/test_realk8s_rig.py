"""The real control plane itself: what a fresh minikube gives, and ``python -m realk8s run``'s
contract (the same as ``python -m kubesim run``)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from realk8s import RealCluster, built_dir
from realk8s.build import KUBERNETES_VERSION
from tests.conftest import Kubectl

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))
KubectlOk = Callable[..., str]  # the kubectl_ok fixture of tests/conftest.py

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
    pytest.mark.skipif(
        built_dir() is None, reason="the real control plane is not built: python -m realk8s build"
    ),
]


@pytest.fixture
def cluster(real_cluster: RealCluster) -> RealCluster:
    real_cluster.reset()
    return real_cluster


def test_it_looks_like_a_fresh_minikube(cluster: RealCluster, kubectl_ok: KubectlOk) -> None:
    version = json.loads(kubectl_ok(cluster, "version", "-o", "json"))
    assert version["serverVersion"]["gitVersion"] == KUBERNETES_VERSION
    assert kubectl_ok(cluster, "config", "current-context").strip() == "minikube"
    whoami = json.loads(kubectl_ok(cluster, "auth", "whoami", "-o", "json"))
    assert "system:masters" in whoami["status"]["userInfo"]["groups"]
    node = json.loads(kubectl_ok(cluster, "get", "node", "minikube", "-o", "json"))
    assert not node["spec"].get("taints")
    assert node["status"]["allocatable"]["cpu"] == "2"
    ready = [c for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    standard = json.loads(kubectl_ok(cluster, "get", "storageclass", "standard", "-o", "json"))
    annotations = standard["metadata"]["annotations"]
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert kubectl_ok(cluster, "get", "serviceaccount", "default", "-o", "name").strip()


def test_pod_security_restricted_is_enforced_for_real(
    cluster: RealCluster, kubectl_ok: KubectlOk
) -> None:
    """The oracle for the manifests' securityContext: a pod that breaks `restricted` is
    refused in a namespace labelled like ours (the deploy itself is in test_realk8s_flows)."""
    kubectl_ok(
        cluster,
        "apply",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": "psa",
                    "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
                },
            }
        ),
    )
    assert KUBECTL is not None
    kubectl = Kubectl(Path(KUBECTL), cluster)
    refused = kubectl("run", "root", "-n", "psa", "--image=busybox", "--restart=Never")
    assert refused.returncode == 1
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr


def test_a_deleted_pod_goes_away_and_a_deployment_pod_gets_ready(
    cluster: RealCluster, kubectl_ok: KubectlOk
) -> None:
    kubectl_ok(cluster, "create", "deployment", "web", "--image=nginx", "--replicas=2")
    kubectl_ok(cluster, "rollout", "status", "deployment/web", "--timeout=60s")
    pods = kubectl_ok(cluster, "get", "pods", "-l", "app=web", "-o", "name").split()
    assert len(pods) == 2
    kubectl_ok(cluster, "delete", pods[0], "--wait=true", "--timeout=60s")
    kubectl_ok(cluster, "rollout", "status", "deployment/web", "--timeout=60s")


# Starts realk8s with SIGINT at its default action, as a shell starts a foreground job: a test
# process may run with SIGINT ignored (seen under pytest-xdist), and that would be inherited.
_SIGINT_DEFAULT = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def _realk8s_run(*command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _SIGINT_DEFAULT, "-m", "realk8s", "run", "--", *command],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a process group of its own, as a shell gives a job
    )


def _alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running: a zombie has exited, only its reaping is left."""
    alive = []
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.append(pid)
    return alive


def _descendants(pid: int) -> list[int]:
    children = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    found = [int(c) for c in children]
    for child in list(found):
        found += _descendants(child)
    return found


def test_run_passes_the_exit_code_and_removes_everything() -> None:
    script = 'echo "$KUBECONFIG"; kubectl get --raw /readyz >/dev/null && exit 7'
    env_path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    run = subprocess.run(
        [sys.executable, "-m", "realk8s", "run", "--", "sh", "-c", script],
        cwd=REPO,
        env={**os.environ, "PATH": env_path},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 7, run.stderr
    kubeconfig = Path(run.stdout.strip())
    assert kubeconfig.name == "kubeconfig"
    assert not kubeconfig.parent.exists()  # etcd data, certificates, logs: all removed


def test_ctrl_c_stops_every_component_and_removes_the_cluster() -> None:
    proc = _realk8s_run("sh", "-c", 'echo "$KUBECONFIG"; exec sleep 600')
    assert proc.stdout is not None
    kubeconfig = Path(proc.stdout.readline().strip())
    components = _descendants(proc.pid)
    assert len(components) >= 6  # etcd, apiserver, controller-manager, scheduler, kwok, sh
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole job
    try:
        _, err = proc.communicate(timeout=120)  # drained: a full pipe must not hold it up
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole job, or CMD keeps the pipes open
        _, err = proc.communicate()
        pytest.fail(f"realk8s run still running 120 s after Ctrl-C; its stderr:\n{err}")
    assert proc.returncode == 130, err
    deadline = time.monotonic() + 10
    while _alive(components) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _alive(components) == []
    assert not kubeconfig.parent.exists()


def test_a_killed_run_leaves_no_component_running() -> None:
    """SIGKILL leaves realk8s no time to stop anything: the kernel stops the components."""
    proc = _realk8s_run("sh", "-c", 'echo "$KUBECONFIG"; echo $$; exec sleep 600')
    assert proc.stdout is not None
    kubeconfig = Path(proc.stdout.readline().strip())
    command = int(proc.stdout.readline())
    components = [pid for pid in _descendants(proc.pid) if pid != command]
    try:
        assert len(components) >= 5  # etcd, apiserver, controller-manager, scheduler, kwok
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 10
        while _alive(components) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _alive(components) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # CMD: a user's job control stops it with the job
        for pid in _alive(components):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.communicate()
        shutil.rmtree(kubeconfig.parent, ignore_errors=True)  # nobody was left to remove it


def test_requests_skip_the_event_the_api_server_is_still_writing(tmp_path: Path) -> None:
    """The audit log holds every client's events: one may be half written when a test reads."""
    cluster = RealCluster(bin_dir=tmp_path, workdir=tmp_path)
    cluster.logs.mkdir()
    whole = {
        "userAgent": "kubectl/v1.37.1",
        "verb": "list",
        "requestURI": "/api/v1/namespaces?limit=500",
        "responseStatus": {"code": 200},
    }
    half = '{"userAgent":"kube-controller-manager/v1.36.3","verb":"upd'
    (cluster.logs / "audit.jsonl").write_text(json.dumps(whole) + "\n" + half)
    (request,) = cluster.requests()
    assert (request.method, request.path, request.query, request.status) == (
        "GET",
        "/api/v1/namespaces",
        "limit=500",
        200,
    )
