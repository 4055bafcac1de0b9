"""run.py end to end, continued: data kept across terminate --keep-data, the minikube host
directory, the namespace lock, API faults, and the fail-fast causes not covered elsewhere."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from kubesim import KubeSim

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

RunPy = Callable[..., subprocess.CompletedProcess[str]]  # the run_py fixture
KubectlOk = Callable[..., str]  # the kubectl_ok fixture
StartSim = Callable[..., KubeSim]  # tests/conftest.py's start_sim fixture

OURS = "app.kubernetes.io/managed-by=asky-scripts"
LOCK = "asky-scripts-lock"
PREPARE = "ssh -- sudo install -d -o 999 -g 999 -m 0700 /data/asky/postgres"
FAULTS = (
    "faults: {{seed: {seed}, errorRate: 0.2, errorCodes: [500, 503, 429], retryAfter: 1, "
    "resetRate: 0.05, latency: 0.2, watchCutAfter: 2}}"
)


def pv_uid(sim: KubeSim, name: str = "asky-postgres-data") -> str:
    volume = sim.get("persistentvolumes", name)
    assert volume is not None
    return str(volume["metadata"]["uid"])


def pv_phase(sim: KubeSim, name: str = "asky-postgres-data") -> str:
    volume = sim.get("persistentvolumes", name)
    assert volume is not None
    return str(volume.get("status", {}).get("phase"))


def keep_data_teardown(sim: KubeSim, kubectl_ok: KubectlOk) -> None:
    """What terminate.py --keep-data leaves: namespace, generated Secrets and the volume."""
    kubectl_ok(
        sim,
        "delete",
        "deployments.apps,services,configmaps,networkpolicies,poddisruptionbudgets,"
        "persistentvolumeclaims",
        "-n",
        "asky",
        "-l",
        OURS,
    )
    assert pv_phase(sim) == "Released"


def error_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("error: "))


def copied_manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", root)
    return root


def edit_yaml(path: Path, change: Callable[[dict[str, object]], None]) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for document in documents:
        change(document)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


# -- the data survives terminate --keep-data ----------------------------------------------------


def test_keep_data_cycle_rebinds_the_same_volume_and_reuses_the_database(
    sim: KubeSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    assert run_py(sim).returncode == 0
    uid = pv_uid(sim)
    secrets = {s["metadata"]["name"]: s["data"] for s in sim.objects("secrets", "asky")}
    keep_data_teardown(sim, kubectl_ok)

    again = run_py(sim)

    assert again.returncode == 0, again.stderr
    assert "re-binding volume asky-postgres-data" in again.stdout
    assert "Skipping initialization" in again.stdout
    assert pv_uid(sim) == uid and pv_phase(sim) == "Bound"
    assert sim.has_volume_data("/data/asky/postgres")
    assert {s["metadata"]["name"]: s["data"] for s in sim.objects("secrets", "asky")} == secrets


def test_released_volume_whose_secrets_are_gone_is_refused_and_left_alone(
    sim: KubeSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    assert run_py(sim).returncode == 0
    kubectl_ok(sim, "delete", "namespace", "asky")  # by hand: the Secrets go with it
    assert pv_phase(sim) == "Released"
    before = sim.snapshot()

    result = run_py(sim)

    assert result.returncode == 3
    assert "Secrets with that database's passwords are gone" in result.stderr
    assert "kubectl delete pv asky-postgres-data" in result.stderr
    assert sim.snapshot() == before


def test_released_volume_that_is_not_ours_is_never_touched(
    sim: KubeSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    kubectl_ok(sim, "create", "namespace", "other")
    kubectl_ok(
        sim,
        "apply",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(
            [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolume",
                    "metadata": {"name": "asky-postgres-data"},
                    "spec": {
                        "capacity": {"storage": "1Gi"},
                        "accessModes": ["ReadWriteOnce"],
                        "persistentVolumeReclaimPolicy": "Retain",
                        "storageClassName": "",
                        "hostPath": {"path": "/data/other"},
                    },
                },
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data", "namespace": "other"},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": "",
                        "volumeName": "asky-postgres-data",
                        "resources": {"requests": {"storage": "1Gi"}},
                    },
                },
            ]
        ),
    )
    kubectl_ok(sim, "wait", "pvc/data", "-n", "other", "--for=jsonpath={.status.phase}=Bound")
    kubectl_ok(sim, "delete", "pvc/data", "-n", "other")
    assert pv_phase(sim) == "Released"
    before = sim.snapshot()

    result = run_py(sim)

    assert result.returncode == 3
    assert "PersistentVolume asky-postgres-data (Released) exists and is not ours" in result.stderr
    assert sim.snapshot() == before


# -- the minikube host directory ---------------------------------------------------------------


def minikube_kubeconfig(sim: KubeSim, tmp_path: Path) -> Path:
    """The emulator's kubeconfig with its context named as minikube names its own."""
    path = tmp_path / "minikube-kubeconfig"
    path.write_text(sim.kubeconfig.read_text().replace("kubesim", "minikube"))
    return path


def fake_minikube(tmp_path: Path) -> tuple[Path, Path]:
    """A ``minikube`` on PATH that records its arguments (there is no VM to ssh into here)."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "minikube-calls"
    bin_dir.mkdir()
    script = bin_dir / "minikube"
    script.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    script.chmod(0o755)
    return bin_dir, calls


def test_minikube_context_prepares_the_host_directory_before_the_database(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    bin_dir, calls = fake_minikube(tmp_path)
    env = {
        "KUBECONFIG": str(minikube_kubeconfig(sim, tmp_path)),
        "PATH": f"{bin_dir}:/usr/bin:/bin",
    }
    result = run_py(sim, env=env)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == [PREPARE]
    lines = result.stdout.splitlines()
    prepared = next(i for i, line in enumerate(lines) if "data directory /data/asky" in line)
    database = next(i for i, line in enumerate(lines) if re.match(r"^\S+ database ", line))
    assert prepared < database
    assert "owned by uid/gid 999" not in result.stdout


def test_minikube_context_without_the_binary_warns_with_the_exact_command(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    env = {"KUBECONFIG": str(minikube_kubeconfig(sim, tmp_path)), "PATH": "/usr/bin:/bin"}
    result = run_py(sim, env=env)
    assert result.returncode == 0, result.stderr
    assert "warning: no minikube binary on PATH" in result.stderr
    assert f"minikube {PREPARE}" in result.stderr


def test_other_clusters_are_told_the_directory_must_belong_to_uid_999(
    sim: KubeSim, run_py: RunPy
) -> None:
    result = run_py(sim)
    assert result.returncode == 0, result.stderr
    assert "/data/asky/postgres (hostPath): it must exist on the node, owned by uid/gid 999" in (
        result.stdout
    )


# -- the namespace lock -------------------------------------------------------------------------


def hand_made_lock(sim: KubeSim, kubectl_ok: KubectlOk, holder: str, expires: str) -> None:
    kubectl_ok(
        sim,
        "create",
        "-f",
        "-",
        stdin=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": LOCK,
                    "namespace": "asky",
                    "annotations": {
                        "asky-scripts/holder": holder,
                        "asky-scripts/expires": expires,
                    },
                },
            }
        ),
    )


def test_a_live_lock_makes_the_run_wait_then_refuse_naming_the_holder(
    sim: KubeSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    assert run_py(sim).returncode == 0
    hand_made_lock(sim, kubectl_ok, "run.py pid 4242 on laptop since now", "2999-01-01T00:00:00Z")
    before = sim.snapshot()
    started = time.monotonic()

    result = run_py(sim, "--timeout", "2")

    assert result.returncode == 3
    assert time.monotonic() - started < 20
    assert "being changed by another run: run.py pid 4242 on laptop" in error_line(result.stderr)
    assert f"kubectl delete configmap {LOCK} -n asky" in result.stderr
    assert sim.snapshot() == before


def test_an_expired_lock_is_taken_over_and_released_at_the_end(
    sim: KubeSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    assert run_py(sim).returncode == 0
    hand_made_lock(sim, kubectl_ok, "run.py pid 1 on gone since then", "2000-01-01T00:00:00Z")
    result = run_py(sim)
    assert result.returncode == 0, result.stderr
    assert "took over the expired lock of run.py pid 1 on gone" in result.stdout
    assert sim.get("configmaps", LOCK, "asky") is None


def test_two_runs_at_once_take_turns(start_sim: StartSim) -> None:
    sim = start_sim("images: [{match: 'asky-pyxis:*', readyDelay: 3}]")
    assert KUBECTL is not None
    procs = [
        subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), "--kubectl", KUBECTL],
            env={**sim.env, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    waited = [out for out, _ in outputs if "waiting for the lock of namespace asky" in out]
    assert len(waited) == 1
    assert sim.get("configmaps", LOCK, "asky") is None


# -- -v, API faults and permanent errors --------------------------------------------------------


def test_verbose_shows_each_kubectl_command_and_no_retry_without_faults(
    sim: KubeSim, run_py: RunPy
) -> None:
    result = run_py(sim, "-v")
    assert result.returncode == 0, result.stderr
    assert "  $ kubectl apply --server-side --field-manager=asky-scripts -f -" in result.stderr
    assert "  $ kubectl create -f - -o name" in result.stderr
    assert "retry" not in result.stderr


@pytest.mark.parametrize("seed", [7, 11])
def test_flaky_api_still_deploys_and_every_retry_is_shown(
    start_sim: StartSim, run_py: RunPy, seed: int
) -> None:
    sim = start_sim(FAULTS.format(seed=seed))
    result = run_py(sim, "-v", timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    retries = [line for line in result.stderr.splitlines() if re.match(r"^  retry \d+: ", line)]
    assert retries, "20% of requests fail: some retry must be shown"
    assert all("(again in " in line for line in retries)
    assert "asky is ready in namespace asky" in result.stdout


def test_forbidden_is_never_retried_and_fails_at_once(start_sim: StartSim, run_py: RunPy) -> None:
    sim = start_sim("faults: {forbidden: [{verb: patch, resource: deployments}]}")
    started = time.monotonic()
    result = run_py(sim, "-v")
    assert result.returncode == 3
    assert time.monotonic() - started < 15
    assert "retry" not in result.stderr
    assert 'cannot patch resource "deployments"' in error_line(result.stderr)
    assert sim.get("namespaces", "asky") is None


# -- more deploy shapes and fail-fast causes ----------------------------------------------------


def test_storage_class_provisions_the_claim_without_our_volume(sim: KubeSim, run_py: RunPy) -> None:
    result = run_py(sim, "--storage-class", "standard")
    assert result.returncode == 0, result.stderr
    assert sim.get("persistentvolumes", "asky-postgres-data") is None
    claim = sim.get("persistentvolumeclaims", "postgres-data", "asky")
    assert claim is not None and claim["status"]["phase"] == "Bound"
    assert claim["spec"]["volumeName"].startswith("pvc-")
    assert "uid/gid 999" not in result.stdout


def test_terminating_namespace_is_refused_with_the_reason(
    start_sim: StartSim, run_py: RunPy, kubectl_ok: KubectlOk
) -> None:
    sim = start_sim("namespaceFinalizeDelay: 60")
    assert run_py(sim).returncode == 0
    kubectl_ok(sim, "delete", "namespace", "asky", "--wait=false")
    result = run_py(sim)
    assert result.returncode == 3
    assert "namespace asky is Terminating; wait until it is gone" in result.stderr


def test_load_balancer_gateway_pending_on_minikube_still_succeeds(
    sim: KubeSim, run_py: RunPy
) -> None:
    result = run_py(sim, "--gateway-type", "LoadBalancer")
    assert result.returncode == 0, result.stderr
    assert "LoadBalancer external address pending" in result.stdout
    assert "minikube tunnel" in result.stdout
    gateway = sim.get("services", "gateway", "asky")
    assert gateway is not None and gateway["spec"]["type"] == "LoadBalancer"


def test_selector_typo_is_caught_before_anything_changes(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    root = copied_manifests(tmp_path)

    def typo(service: dict[str, object]) -> None:
        service["spec"]["selector"]["app.kubernetes.io/name"] = "pyxsi"  # type: ignore[index]

    edit_yaml(root / "services" / "pyxis.yaml", typo)
    before = sim.snapshot()
    result = run_py(sim, "--manifests", str(root))
    assert result.returncode == 2
    assert "services/pyxis.yaml" in result.stderr and "matches no Deployment" in result.stderr
    assert sim.snapshot() == before


def test_service_without_endpoints_is_caught_by_the_endpoint_check(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    """A Service copied from pyxis whose selector still names pyxis, which runs no replica:
    the manifests are self-consistent, only the live EndpointSlices show auth unreachable."""
    root = copied_manifests(tmp_path)

    def copied(service: dict[str, object]) -> None:
        service["spec"]["selector"]["app.kubernetes.io/name"] = "pyxis"  # type: ignore[index]

    edit_yaml(root / "services" / "auth.yaml", copied)
    result = run_py(sim, "--manifests", str(root), "--replicas", "pyxis=0", "--timeout", "60")
    assert result.returncode == 1
    assert error_line(result.stderr) == (
        "error: auth: service auth has no ready endpoint although its pods are ready"
    )


def test_a_pod_bigger_than_the_node_fails_at_once_with_the_node_allocatable(
    start_sim: StartSim, run_py: RunPy
) -> None:
    """postgres requests 250m cpu on a 100m node: it can never schedule, which preflight sees
    from the node's allocatable before anything is created."""
    sim = start_sim("node: {cpu: 100m}")
    result = run_py(sim, "--timeout", "10")
    assert result.returncode == 3, result.stderr
    said = result.stderr.replace("\n    ", " ")
    assert (
        "postgres: it requests 250m cpu but the largest node, minikube, has 100m allocatable"
        in (said)
    )
    assert "short by 550m cpu" in said
    assert sim.get("namespaces", "asky") is None


def test_a_mounted_config_key_that_is_missing_fails_fast_with_failed_mount(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    """The gateway mounts nginx.conf from its ConfigMap; renamed, the pod stays in
    ContainerCreating with FailedMount events, which run.py reports instead of timing out."""
    root = copied_manifests(tmp_path)

    def renamed(config_map: dict[str, object]) -> None:
        data = config_map["data"]
        data["nginx-renamed.conf"] = data.pop("nginx.conf")  # type: ignore[attr-defined]

    edit_yaml(root / "config-maps" / "gateway.yaml", renamed)
    result = run_py(sim, "--manifests", str(root), "--timeout", "30")
    assert result.returncode == 1, result.stderr
    assert error_line(result.stderr) == (
        'error: gateway: ConfigMap gateway-config has no key nginx.conf, needed by volume "config" '
        "(FailedMount)"
    )
    assert re.search(
        r"FailedMount( \(x\d+\))? on gateway-\S+: MountVolume.SetUp failed for volume "
        r'"config" : configmap references non-existent config key: nginx.conf',
        result.stderr,
    )
    assert "hint: add the missing key or object" in result.stderr


def test_missing_config_key_fails_with_create_container_config_error(
    sim: KubeSim, run_py: RunPy, tmp_path: Path
) -> None:
    root = copied_manifests(tmp_path)

    def missing_key(deployment: dict[str, object]) -> None:
        container = deployment["spec"]["template"]["spec"]["containers"][0]  # type: ignore[index]
        container.setdefault("env", []).append(
            {
                "name": "LOG_LEVEL",
                "valueFrom": {"configMapKeyRef": {"name": "gateway-config", "key": "log-level"}},
            }
        )

    edit_yaml(root / "deployments" / "pyxis.yaml", missing_key)
    result = run_py(sim, "--manifests", str(root), "--timeout", "60")
    assert result.returncode == 1
    line = error_line(result.stderr)
    assert line.startswith("error: pyxis: ") and "CreateContainerConfigError" in line
    assert "couldn't find key log-level" in line


def test_crash_loop_names_the_exit_code_in_one_line(start_sim: StartSim, run_py: RunPy) -> None:
    sim = start_sim("images: [{match: 'asky-auth:*', crash: {exitCode: 78}}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 1
    line = error_line(result.stderr)
    assert line.startswith("error: auth: ") and "CrashLoopBackOff" in line and "78" in line
