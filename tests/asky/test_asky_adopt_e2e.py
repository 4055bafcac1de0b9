"""run.py --adopt and terminate.py --run-sh on a cluster prepared exactly as run.sh prepares it.

The set-up is run.sh's own: ``kubectl create namespace asky``, then a client-side
``kubectl apply`` of its manifests (tests/asky/run_sh/), with the real kubectl; its postgres
initialises its database on the volume, which is what the adoption must keep.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubesim import KubeSim

REPO = Path(__file__).resolve().parents[2]
RUN_SH = Path(__file__).resolve().parent / "run_sh"
KUBECTL = str(Path(sys.executable).parent / "kubectl")
WORKLOADS = ("postgres", "auth", "gateway", "pyxis", "request-management")
OLD_DATA = "/mnt/data"
MANAGED = "app.kubernetes.io/managed-by"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not Path(KUBECTL).exists(), reason="the pinned kubectl is not installed"),
]

RunPy = Callable[..., "subprocess.CompletedProcess[str]"]


def kubectl(sim: KubeSim, *args: str, binary: str = KUBECTL) -> str:
    done = subprocess.run(
        [binary, *args], env=sim.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"kubectl {' '.join(args)}:\n{done.stderr}"
    return done.stdout


def deploy_like_run_sh(sim: KubeSim, binary: str = KUBECTL) -> None:
    """What run.sh did: create the namespace, apply each folder client-side, wait for postgres."""
    kubectl(sim, "create", "namespace", "asky", binary=binary)
    for path in sorted(RUN_SH.glob("*.yaml")):
        kubectl(sim, "apply", "-n", "asky", "-f", str(path), binary=binary)
    kubectl(sim, "wait", "-n", "asky", "--for=condition=Ready", "pod", "-l", "app=postgres")
    kubectl(sim, "rollout", "status", "-n", "asky", "deployment/auth", "--timeout=60s")


@pytest.fixture
def run_sh_cluster() -> Iterator[KubeSim]:
    with KubeSim() as sim:
        deploy_like_run_sh(sim)
        assert sim.has_volume_data(OLD_DATA)
        yield sim


def command(sim: KubeSim, script: str, *args: str, binary: str = KUBECTL) -> list[str]:
    return [sys.executable, str(REPO / script), "--kubectl", binary, *args]


def run(
    sim: KubeSim, script: str, *args: str, binary: str = KUBECTL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(sim, script, *args, binary=binary),
        env={**sim.env, "NO_COLOR": "1"},
        cwd=sim.workdir,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def secret_value(sim: KubeSim, name: str, key: str) -> str:
    secret = sim.get("secrets", name, "asky")
    assert secret is not None, name
    return base64.b64decode(secret["data"][key]).decode()


def assert_adopted(sim: KubeSim, output: str) -> None:
    """Five Deployments ours and ready, no pod of run.sh's, the old data and its password."""
    deployments = {d["metadata"]["name"]: d for d in sim.objects("deployments", "asky", "apps")}
    assert set(deployments) == set(WORKLOADS)
    for name, deployment in deployments.items():
        assert deployment["metadata"]["labels"][MANAGED] == "asky-scripts", name
        status = deployment.get("status", {})
        assert status.get("readyReplicas") == deployment["spec"]["replicas"], name
    pods = sim.objects("pods", "asky")
    assert pods and all("app" not in p["metadata"].get("labels", {}) for p in pods)
    namespace = sim.get("namespaces", "asky")
    assert namespace is not None and namespace["metadata"]["labels"][MANAGED] == "asky-scripts"
    # The old database is used in place: our volume is on run.sh's directory, PGDATA its root.
    volume = sim.get("persistentvolumes", "asky-postgres-data")
    assert volume is not None and volume["spec"]["hostPath"]["path"] == OLD_DATA
    assert volume["status"]["phase"] == "Bound"
    assert "Skipping initialization" in output
    assert "initdb" not in output.replace("postgres-initdb-config", "")
    assert not sim.has_volume_data("/data/asky/postgres")
    # The services log in with run.sh's credentials.
    for secret in ("postgres-superuser", "auth-db", "pyxis-db", "request-management-db"):
        assert secret_value(sim, secret, "username") == "asky"
        assert secret_value(sim, secret, "password") == "run-sh-old-password"
    assert "run-sh-old-password" not in output
    # Nothing of run.sh's is left: its claim, volume object, init ConfigMap, labels, annotation.
    assert sim.get("persistentvolumes", "postgres-pv-volume") is None
    assert sim.get("persistentvolumeclaims", "postgres-pv-claim", "asky") is None
    assert sim.get("configmaps", "postgres-initdb-config", "asky") is None
    for service in sim.objects("services", "asky"):
        assert "app" not in service["spec"]["selector"], service["metadata"]["name"]
        annotations = service["metadata"].get("annotations") or {}
        assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations
        managers = {f["manager"] for f in service["metadata"].get("managedFields", [])}
        assert "kubectl-client-side-apply" not in managers, service["metadata"]["name"]
    gateway_config = sim.get("configmaps", "gateway-config", "asky")
    assert gateway_config is not None and set(gateway_config["data"]) == {"nginx.conf"}


def test_run_sh_deployment_is_refused_without_adopt_and_nothing_changes(
    run_sh_cluster: KubeSim,
) -> None:
    sim = run_sh_cluster
    before = sim.snapshot()
    result = run(sim, "run.py")
    assert result.returncode == 3, result.stderr
    assert "namespace asky holds a deployment made by the original run.sh" in result.stderr
    for listed in ("Deployment/postgres (app=postgres)", "PersistentVolume/postgres-pv-volume"):
        assert listed in result.stderr
    assert "python run.py --adopt" in result.stderr
    assert "choose another --namespace" not in result.stderr
    assert sim.snapshot() == before


def test_adopt_takes_over_keeps_the_database_and_a_rerun_changes_nothing(
    kubectl_bin: Path,
) -> None:
    """With each kubectl: the client-side to server-side apply upgrade is kubectl's own."""
    binary = str(kubectl_bin)
    with KubeSim() as sim:
        deploy_like_run_sh(sim, binary)
        adopted = run(sim, "run.py", "--adopt", binary=binary)
        assert adopted.returncode == 0, adopted.stdout + adopted.stderr
        assert_adopted(sim, adopted.stdout)
        before = sim.snapshot()
        again = run(sim, "run.py", binary=binary)
        assert again.returncode == 0, again.stderr
        assert sim.snapshot() == before
        assert "Skipping initialization" in again.stdout
        removed = run(sim, "terminate.py", "--yes", binary=binary)
        assert removed.returncode == 0, removed.stderr
        assert sim.get("namespaces", "asky") is None
        assert not sim.objects("persistentvolumes")


def _interrupt_at(sim: KubeSim, moment: str) -> int:
    """Starts run.py --adopt and sends SIGINT as soon as it reports ``moment``: a stage that
    starts, or the start of a note (one adoption step begins or ends)."""
    process = subprocess.Popen(
        command(sim, "run.py", "--adopt", "-o", "json"),
        env={**sim.env, "NO_COLOR": "1"},
        cwd=sim.workdir,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        event = json.loads(line)
        started = event.get("event") == "stage" and event.get("stage") == moment
        noted = event.get("event") == "note" and str(event.get("message")).startswith(moment)
        if started or noted:
            process.send_signal(signal.SIGINT)
            break
    else:
        pytest.fail(f"run.py --adopt never reported {moment!r}")
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err
    return process.returncode


# Every stage, and every adoption step within them (as its note starts it or reports it done).
MOMENTS = (
    "namespace",
    "storage",
    "configuration",
    "database",
    "stopping run.sh's postgres",
    "run.sh's postgres stopped",
    "services",
    "stopping run.sh's auth",
    "removed run.sh's ConfigMap",
    "removed run.sh's claim",
    "removed run.sh's volume",
)


@pytest.mark.parametrize("moment", MOMENTS)
def test_adoption_interrupted_at_each_stage_finishes_when_run_again(
    run_sh_cluster: KubeSim, moment: str
) -> None:
    sim = run_sh_cluster
    assert _interrupt_at(sim, moment) == 130
    refused = run(sim, "run.py")
    if sim.get("persistentvolumes", "postgres-pv-volume") is not None:
        # Unfinished: a plain run must not start our postgres beside run.sh's leftovers.
        before = sim.snapshot()
        assert refused.returncode == 3, refused.stderr
        assert "run.sh" in refused.stderr and "--adopt" in refused.stderr
        assert sim.snapshot() == before
    finished = run(sim, "run.py", "--adopt")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    # The run that started our postgres printed its log; read it again from the pod.
    assert_adopted(sim, finished.stdout + _database_log(sim))
    before = sim.snapshot()
    assert run(sim, "run.py").returncode == 0
    assert sim.snapshot() == before
    assert run(sim, "terminate.py", "--yes").returncode == 0
    assert sim.get("namespaces", "asky") is None and not sim.objects("persistentvolumes")


def _database_log(sim: KubeSim) -> str:
    return kubectl(sim, "logs", "-n", "asky", "deployment/postgres")


# -- terminate.py on run.sh's deployment ----------------------------------------------------------


def test_terminate_refuses_run_sh_deployment_without_the_flag(run_sh_cluster: KubeSim) -> None:
    sim = run_sh_cluster
    before = sim.snapshot()
    result = run(sim, "terminate.py", "--yes")
    assert result.returncode == 3
    assert "run.sh" in result.stderr and "--run-sh" in result.stderr
    assert "--force" not in result.stderr
    assert sim.snapshot() == before


def test_terminate_run_sh_removes_namespace_and_volume_and_says_what_it_does_not_do(
    run_sh_cluster: KubeSim,
) -> None:
    sim = run_sh_cluster
    result = run(sim, "terminate.py", "--run-sh", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sim.get("namespaces", "asky") is None
    assert sim.get("persistentvolumes", "postgres-pv-volume") is None
    said = result.stdout + result.stderr
    assert "kubectl delete all --all -n default" in said and "helm uninstall" in said
    assert "/mnt/data" in said
