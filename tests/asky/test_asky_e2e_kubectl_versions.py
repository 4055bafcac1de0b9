"""The user's flows with every kubectl a user may have: each supported kubectl on this machine
(the versioned binaries 1.28 and up, and the pinned 1.37) runs run.py and terminate.py end to
end against kubesim; an older kubectl is refused before anything changes.

One test per flow and version, each on its own emulator, so a failure names both; the flows are
chained inside a test (deploy, re-run, diff...) to keep the cost per version to a few deploys.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesim import KubeSim
from tests.asky.conftest import run_script
from tests.conftest import SUPPORTED_KUBECTLS, TOO_OLD_KUBECTLS

WORKLOADS = {"postgres", "auth", "gateway", "pyxis", "request-management"}

pytestmark = pytest.mark.e2e


@pytest.fixture(params=list(SUPPORTED_KUBECTLS), ids=lambda v: f"kubectl-{v}")
def kubectl(request: pytest.FixtureRequest) -> Path:
    return SUPPORTED_KUBECTLS[request.param]


@pytest.fixture
def sim() -> Iterator[KubeSim]:
    with KubeSim() as started:
        yield started


def script(name: str, sim: KubeSim, kubectl: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_script(name, sim, kubectl, *args, timeout=180)


def said(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def ready(sim: KubeSim) -> dict[str, int]:
    return {
        d["metadata"]["name"]: int((d.get("status") or {}).get("readyReplicas") or 0)
        for d in sim.objects("deployments", "asky", "apps")
    }


def test_dry_run_deploy_rerun_and_diff(sim: KubeSim, kubectl: Path) -> None:
    before = sim.snapshot()
    dry = script("run.py", sim, kubectl, "--dry-run")
    assert dry.returncode == 0, said(dry)
    assert "nothing was changed" in dry.stdout
    new = script("run.py", sim, kubectl, "--diff")
    assert new.returncode == 1, said(new)
    assert "+ Deployment/auth" in new.stdout
    assert sim.snapshot() == before, "--dry-run or --diff changed the cluster"

    deployed = script("run.py", sim, kubectl)
    assert deployed.returncode == 0, said(deployed)
    assert "generated Secrets" in deployed.stdout
    assert set(ready(sim)) == WORKLOADS and all(ready(sim).values())

    settled = sim.snapshot()
    again = script("run.py", sim, kubectl)
    assert again.returncode == 0, said(again)
    assert sim.snapshot() == settled, "a re-run changed the cluster"

    same = script("run.py", sim, kubectl, "--diff")
    assert same.returncode == 0, said(same)
    assert "no differences" in same.stdout
    changed = script("run.py", sim, kubectl, "--diff", "--replicas", "auth=3")
    assert changed.returncode == 1, said(changed)
    assert "replicas: 3" in changed.stdout
    assert sim.snapshot() == settled, "--diff changed the cluster"


def test_keep_data_round_trip_then_terminate(sim: KubeSim, kubectl: Path) -> None:
    assert script("run.py", sim, kubectl, "-q").returncode == 0
    volume = sim.get("persistentvolumes", "asky-postgres-data")
    assert volume is not None

    kept = script("terminate.py", sim, kubectl, "--keep-data", "--yes")
    assert kept.returncode == 0, said(kept)
    assert sim.objects("deployments", "asky", "apps") == []
    released = sim.get("persistentvolumes", "asky-postgres-data")
    assert released is not None and released["status"]["phase"] == "Released"

    again = script("run.py", sim, kubectl)
    assert again.returncode == 0, said(again)
    assert "Skipping initialization" in again.stdout
    rebound = sim.get("persistentvolumes", "asky-postgres-data")
    assert rebound is not None and rebound["metadata"]["uid"] == volume["metadata"]["uid"]

    gone = script("terminate.py", sim, kubectl, "--yes")
    assert gone.returncode == 0, said(gone)
    assert sim.get("namespaces", "asky") is None
    assert sim.get("persistentvolumes", "asky-postgres-data") is None


def test_image_not_found_fails_fast_with_its_cause(kubectl: Path) -> None:
    with KubeSim("images: [{match: 'asky-auth:*', pull: notFound}]") as sim:
        result = script("run.py", sim, kubectl, "--timeout", "60")
    assert result.returncode == 1, said(result)
    assert 'image "asky-auth:' in result.stderr and "not found" in result.stderr
    assert "hint:" in result.stderr


@pytest.mark.parametrize("version", list(TOO_OLD_KUBECTLS) or ["none"])
def test_a_kubectl_older_than_the_range_is_refused_before_any_change(
    sim: KubeSim, version: str
) -> None:
    if version not in TOO_OLD_KUBECTLS:
        pytest.skip("no kubectl older than the supported range on this machine")
    before = sim.snapshot()
    result = script("run.py", sim, TOO_OLD_KUBECTLS[version])
    assert result.returncode == 3, said(result)
    assert f"is kubectl v{version}." in result.stderr
    assert "1.28 to 1.37" in result.stderr
    assert "minikube kubectl --" in result.stderr
    assert "correct the" not in result.stderr
    assert sim.snapshot() == before
    assert sim.get("namespaces", "asky") is None


def test_a_kubectl_that_crashes_mid_deploy_is_reported_as_our_defect(
    sim: KubeSim, tmp_path: Path
) -> None:
    """A real kubectl behind a wrapper that crashes it (SIGSEGV) on the first object run.py
    pipes to ``create`` (the deploy lock): exit 5, the exact command (shown without -v, since
    the user is asked to report it), and no advice to correct the user's input."""
    pinned = SUPPORTED_KUBECTLS.get("1.37")
    if pinned is None:
        pytest.skip("the pinned kubectl is not installed")
    wrapper = tmp_path / "kubectl"
    wrapper.write_text(
        "#!/bin/sh\n"
        'case "$*" in *"create -f - -o name"*) kill -SEGV $$ ;; esac\n'
        f'exec {pinned} "$@"\n'
    )
    wrapper.chmod(0o755)
    result = script("run.py", sim, wrapper)
    assert result.returncode == 5, said(result)
    assert "killed by SIGSEGV" in result.stderr
    assert "defect of asky-scripts or an incompatibility with this kubectl version" in (
        result.stderr
    )
    assert "command: kubectl --request-timeout=20s create -f - -o name" in result.stderr
    assert "correct the" not in result.stderr
    as_json = script("run.py", sim, wrapper, "--output", "json")
    failure = json.loads(as_json.stdout.splitlines()[-1])
    assert (failure["event"], failure["exit_code"]) == ("failure", 5)
    assert failure["command"][-4:] == ["-f", "-", "-o", "name"]
