"""run.py end to end: the real kubectl against kubesim, as a user runs it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubesim import KubeSim

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

RunPy = Callable[..., subprocess.CompletedProcess[str]]  # the run_py fixture

WORKLOADS = ("postgres", "auth", "gateway", "pyxis", "request-management")


@pytest.fixture
def sim() -> Iterator[KubeSim]:
    with KubeSim() as started:
        yield started


def start(scenario: str) -> KubeSim:
    return KubeSim(scenario).start()


def ready_replicas(sim: KubeSim, namespace: str = "asky") -> dict[str, int]:
    return {
        d["metadata"]["name"]: int(d.get("status", {}).get("readyReplicas") or 0)
        for d in sim.objects("deployments", namespace, "apps")
    }


def test_clean_deploy_is_ready_and_prints_the_summary(sim: KubeSim, run_py: RunPy) -> None:
    result = run_py(sim)
    assert result.returncode == 0, result.stderr
    for stage in ("preflight", "namespace", "storage", "configuration", "database", "services"):
        assert f" {stage} " in result.stdout
    assert "gateway: http://192.168.49.2:" in result.stdout
    assert "minikube service gateway -n asky --url" in result.stdout
    ready = ready_replicas(sim)
    assert set(ready) == set(WORKLOADS) and all(ready.values())
    assert {s["metadata"]["name"] for s in sim.objects("secrets", "asky")} >= {
        "postgres-superuser",
        "auth-db",
    }


def test_second_run_changes_nothing(sim: KubeSim, run_py: RunPy) -> None:
    assert run_py(sim).returncode == 0
    secrets_before = {s["metadata"]["name"]: s["data"] for s in sim.objects("secrets", "asky")}
    before = sim.snapshot()
    again = run_py(sim)
    assert again.returncode == 0, again.stderr
    assert sim.snapshot() == before
    assert {s["metadata"]["name"]: s["data"] for s in sim.objects("secrets", "asky")} == (
        secrets_before
    )


def test_image_not_found_fails_fast_with_its_cause(
    run_py: RunPy,
) -> None:
    sim = start("images: [{match: 'asky-auth:*', pull: notFound}]")
    try:
        result = run_py(sim, "--timeout", "60")
    finally:
        sim.stop()
    assert result.returncode == 1
    assert 'image "asky-auth:' in result.stderr and "not found" in result.stderr
    assert "warning events:" in result.stderr
    assert "hint:" in result.stderr


def test_crash_loop_reports_exit_code_and_previous_log(
    run_py: RunPy,
) -> None:
    sim = start(
        "images: [{match: 'asky-pyxis:*', crash: {exitCode: 3}, logs: ['pyxis: bad config']}]"
    )
    try:
        result = run_py(sim, "--timeout", "60")
    finally:
        sim.stop()
    assert result.returncode == 1
    assert "CrashLoopBackOff" in result.stderr and "exited with code 3" in result.stderr
    assert "previous log" in result.stderr


def test_pod_never_ready_times_out_with_exit_4(
    run_py: RunPy,
) -> None:
    sim = start("images: [{match: 'asky-request-management:*', neverReady: true}]")
    try:
        result = run_py(sim, "--timeout", "3")
    finally:
        sim.stop()
    assert result.returncode == 4
    assert "stage services not ready after 3s" in result.stderr
    assert "request-management" in result.stderr


def test_typo_in_a_late_manifest_changes_nothing(
    sim: KubeSim, tmp_path: Path, run_py: RunPy
) -> None:
    manifests = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", manifests)
    gateway = manifests / "deployments" / "gateway.yaml"
    gateway.write_text(gateway.read_text().replace("revisionHistoryLimit:", "revisionHistoryLimt:"))
    before = sim.snapshot()
    result = run_py(sim, "--manifests", str(manifests))
    assert result.returncode == 2, result.stderr
    assert "deployments/gateway.yaml" in result.stderr
    assert sim.snapshot() == before


def test_dry_run_and_diff_change_nothing(sim: KubeSim, run_py: RunPy) -> None:
    before = sim.snapshot()
    dry = run_py(sim, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "nothing was changed" in dry.stdout
    diff = run_py(sim, "--diff")
    assert diff.returncode == 1, diff.stderr
    assert "+ Deployment/auth" in diff.stdout
    assert sim.snapshot() == before
    assert run_py(sim).returncode == 0
    unchanged = run_py(sim, "--diff")
    assert unchanged.returncode == 0, unchanged.stdout + unchanged.stderr
    assert "no differences" in unchanged.stdout


def test_second_namespace_deploys_beside_the_first(sim: KubeSim, run_py: RunPy) -> None:
    assert run_py(sim).returncode == 0
    result = run_py(sim, "--namespace", "staging")
    assert result.returncode == 0, result.stderr
    assert all(ready_replicas(sim, "staging").values())
    assert all(ready_replicas(sim, "asky").values())
    assert sim.get("persistentvolumes", "staging-postgres-data") is not None
    assert sim.get("persistentvolumes", "asky-postgres-data") is not None


def test_json_output_is_one_event_per_line(sim: KubeSim, run_py: RunPy) -> None:
    result = run_py(sim, "--output", "json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    done = [r["stage"] for r in records if r["event"] == "stage" and r["status"] == "done"]
    assert done == ["preflight", "namespace", "storage", "configuration", "database", "services"]
    assert records[-1]["event"] == "summary"
    assert any(r["event"] == "resource" and r["name"] == "auth" for r in records)


def test_namespace_owned_by_someone_else_is_refused(
    run_py: RunPy,
) -> None:
    sim = start("objects: [{apiVersion: v1, kind: Namespace, metadata: {name: asky}}]")
    try:
        before = sim.snapshot()
        result = run_py(sim)
        assert result.returncode == 3
        assert "was not created by asky-scripts" in result.stderr
        assert sim.snapshot() == before
    finally:
        sim.stop()


def test_hand_edited_config_map_is_a_conflict_until_forced(sim: KubeSim, run_py: RunPy) -> None:
    assert run_py(sim).returncode == 0
    assert KUBECTL is not None
    subprocess.run(
        [
            KUBECTL,
            "patch",
            "configmap",
            "gateway-config",
            "-n",
            "asky",
            "--type=merge",
            "--field-manager=kubectl-edit",
            "-p",
            '{"data":{"nginx.conf":"# edited by hand"}}',
        ],
        env=sim.env,
        check=True,
        capture_output=True,
    )
    result = run_py(sim)
    assert result.returncode == 3
    assert "kubectl-edit" in result.stderr and "--force-conflicts" in result.stderr
    forced = run_py(sim, "--force-conflicts")
    assert forced.returncode == 0, forced.stderr


def test_forbidden_verb_is_refused_before_any_change(
    run_py: RunPy,
) -> None:
    sim = start("faults: {forbidden: [{verb: patch, resource: deployments}]}")
    try:
        before = sim.snapshot()
        result = run_py(sim)
        assert result.returncode == 3, result.stderr
        assert "forbidden" in result.stderr.lower()
        assert sim.snapshot() == before
    finally:
        sim.stop()


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_stops_cleanly_and_the_next_run_completes(
    sig: int, code: int, run_py: RunPy
) -> None:
    sim = start("images: [{match: 'asky-pyxis:*', readyDelay: 30}]")
    try:
        assert KUBECTL is not None
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "run.py"), "--kubectl", KUBECTL],
            env={**sim.env, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith(" ") and line.split()[1:2] == ["database"]:  # stage done
                break
        time.sleep(0.5)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == code
        assert "interrupted during stage services; run again to continue" in err
        leftovers = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        assert leftovers == ""
        assert sim.get("configmaps", "asky-scripts-lock", "asky") is None  # lock released
    finally:
        sim.stop()
