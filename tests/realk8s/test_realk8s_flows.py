"""run.py and terminate.py end to end on both backends: kubesim and the real control plane.

Each test takes the ``backend`` fixture (tests/conftest.py): ``--backend=both`` (the default) runs
it on kubesim and on realk8s (kube-apiserver, controller-manager and scheduler v1.36, kwok as node
minikube). Where the two disagree, the real one is right. The fault cases pick a failure by image
(``--set-image SVC=faults.realk8s.invalid/...``), scripted by kwok stages on the real backend and
by the same images in kubesim's scenario.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubesim import KubeSim
from realk8s import RealCluster
from tests.asky.conftest import run_script
from tests.conftest import Kubectl

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

WORKLOADS = {"postgres", "auth", "gateway", "pyxis", "request-management"}
Backend = KubeSim | RealCluster


def script(
    name: str, backend: Backend, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python run.py|terminate.py --kubectl <pinned> ARGS`` as a user runs it."""
    assert KUBECTL is not None
    return run_script(name, backend, KUBECTL, *args, timeout=timeout)


def run_py(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    return script("run.py", backend, *args)


def deployed(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_py(backend, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def kubectl(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return Kubectl(Path(KUBECTL), backend)(*args)


def ready_replicas(backend: Backend, namespace: str = "asky") -> dict[str, int]:
    return {
        d["metadata"]["name"]: int(d.get("status", {}).get("readyReplicas") or 0)
        for d in backend.objects("deployments", namespace, "apps")
    }


def volume(backend: Backend, name: str = "asky-postgres-data") -> dict[str, object]:
    found = backend.get("persistentvolumes", name)
    assert found is not None, f"PersistentVolume {name} is gone"
    return found


def secrets(backend: Backend, namespace: str = "asky") -> dict[str, object]:
    return {s["metadata"]["name"]: s["data"] for s in backend.objects("secrets", namespace)}


def test_clean_deploy_is_ready_and_admitted_by_pod_security_restricted(backend: Backend) -> None:
    result = deployed(backend)
    for stage in ("preflight", "namespace", "storage", "configuration", "database", "services"):
        assert f" {stage} " in result.stdout
    assert "gateway: http://192.168.49.2:" in result.stdout
    ready = ready_replicas(backend)
    assert set(ready) == WORKLOADS and all(ready.values()), ready
    namespace = backend.get("namespaces", "asky")
    assert namespace is not None
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # No pod of ours was refused or warned about by PodSecurity admission.
    assert "PodSecurity" not in result.stdout + result.stderr
    assert {"postgres-superuser", "auth-db"} <= set(secrets(backend))
    assert volume(backend)["status"]["phase"] == "Bound"  # type: ignore[index]


def test_second_run_changes_nothing(backend: Backend) -> None:
    deployed(backend)
    before, kept = backend.snapshot(), secrets(backend)
    deployed(backend)
    after = backend.snapshot()
    assert {k: v for k, v in after.items() if before.get(k) != v} == {}
    assert after == before
    assert secrets(backend) == kept


def test_dry_run_and_diff_change_nothing(backend: Backend) -> None:
    before = backend.snapshot()
    dry = run_py(backend, "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "nothing was changed" in dry.stdout
    diff = run_py(backend, "--diff")
    assert diff.returncode == 1, diff.stdout + diff.stderr
    assert "+ Deployment/auth" in diff.stdout
    assert backend.snapshot() == before
    deployed(backend)
    unchanged = run_py(backend, "--diff")
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "no differences" in unchanged.stdout


def test_staging_deploys_beside_asky(backend: Backend) -> None:
    deployed(backend)
    deployed(backend, "--namespace", "staging")
    assert all(ready_replicas(backend, "staging").values())
    assert all(ready_replicas(backend, "asky").values())
    assert volume(backend, "staging-postgres-data")["status"]["phase"] == "Bound"  # type: ignore[index]
    assert volume(backend)["status"]["phase"] == "Bound"  # type: ignore[index]


def test_terminate_removes_ours_and_leaves_the_rest(backend: Backend) -> None:
    deployed(backend)
    deployed(backend, "--namespace", "staging")
    result = script("terminate.py", backend)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "asky terminated in" in result.stdout
    assert backend.get("namespaces", "asky") is None
    assert backend.get("persistentvolumes", "asky-postgres-data") is None
    assert all(ready_replicas(backend, "staging").values())
    assert volume(backend, "staging-postgres-data")["status"]["phase"] == "Bound"  # type: ignore[index]
    again = script("terminate.py", backend)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing of asky-scripts is left to delete for namespace asky" in again.stdout


def test_keep_data_then_run_binds_the_same_volume(backend: Backend) -> None:
    deployed(backend)
    uid = volume(backend)["metadata"]["uid"]  # type: ignore[index]
    kept_secrets = secrets(backend)
    kept = script("terminate.py", backend, "--keep-data")
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert backend.objects("deployments", "asky", "apps") == []
    assert volume(backend)["status"]["phase"] == "Released"  # type: ignore[index]
    again = deployed(backend)
    assert "re-binding volume asky-postgres-data" in again.stdout
    assert "Skipping initialization" in again.stdout
    rebound = volume(backend)
    assert rebound["metadata"]["uid"] == uid  # type: ignore[index]
    assert rebound["status"]["phase"] == "Bound"  # type: ignore[index]
    assert secrets(backend) == kept_secrets


def test_a_namespace_someone_else_made_is_refused_by_both_scripts(backend: Backend) -> None:
    made = kubectl(backend, "create", "namespace", "asky")
    assert made.returncode == 0, made.stderr
    before = backend.snapshot()
    refused = run_py(backend)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "was not created by asky-scripts" in refused.stderr
    kept = script("terminate.py", backend)
    assert kept.returncode == 3, kept.stdout + kept.stderr
    assert "nothing was deleted" in kept.stderr
    assert backend.snapshot() == before


def test_storage_class_standard_provisions_the_claim(backend: Backend) -> None:
    result = deployed(backend, "--storage-class", "standard")
    assert backend.get("persistentvolumes", "asky-postgres-data") is None
    claim = backend.get("persistentvolumeclaims", "postgres-data", "asky")
    assert claim is not None and claim["status"]["phase"] == "Bound", result.stdout
    assert claim["spec"]["storageClassName"] == "standard"


def test_crash_loop_fails_fast_with_the_exit_code(backend: Backend) -> None:
    result = run_py(
        backend, "--set-image", "auth=faults.realk8s.invalid/crash-loop:1", "--timeout", "90"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CrashLoopBackOff" in result.stderr
    assert "exited with code 1" in result.stderr
    assert "previous log" in result.stderr


def test_image_not_found_fails_fast_with_its_cause(backend: Backend) -> None:
    result = run_py(
        backend, "--set-image", "pyxis=faults.realk8s.invalid/no-such-image:1", "--timeout", "90"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'image "faults.realk8s.invalid/no-such-image:1" not found' in result.stderr


def test_never_ready_times_out_with_exit_4(backend: Backend) -> None:
    result = run_py(
        backend,
        "--set-image",
        "request-management=faults.realk8s.invalid/never-ready:1",
        "--timeout",
        "15",
    )
    assert result.returncode == 4, result.stdout + result.stderr
    assert "stage services not ready after 15s" in result.stderr
    assert "request-management" in result.stderr
