"""terminate.py end to end: the real kubectl against kubesim, after a real run.py deploy."""

from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from asky_scripts.cli.terminate import main
from kubesim import KubeSim

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

OURS = "{app.kubernetes.io/managed-by: asky-scripts, app.kubernetes.io/instance: %s}"
# A namespace and two volumes that must survive every terminate of namespace asky: one not
# ours at all, one ours but of another copy (instance staging).
DECOYS = f"""
objects:
  - {{apiVersion: v1, kind: Namespace, metadata: {{name: decoy}}}}
  - apiVersion: v1
    kind: PersistentVolume
    metadata: {{name: decoy-data}}
    spec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], hostPath: {{path: /d}}}}
  - apiVersion: v1
    kind: PersistentVolume
    metadata: {{name: staging-postgres-data, labels: {OURS % "staging"}}}
    spec: {{capacity: {{storage: 1Gi}}, accessModes: [ReadWriteOnce], hostPath: {{path: /s}}}}
"""


def script(
    name: str, sim: KubeSim, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [sys.executable, str(REPO / name), "--kubectl", KUBECTL, *args],
        env={**sim.env, "NO_COLOR": "1"},
        cwd=sim.workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def deploy(sim: KubeSim) -> None:
    result = script("run.py", sim, "-q")
    assert result.returncode == 0, result.stdout + result.stderr


def terminate(sim: KubeSim, *args: str) -> subprocess.CompletedProcess[str]:
    return script("terminate.py", sim, *args)


def kubectl(sim: KubeSim, *args: str, stdin: str | None = None) -> str:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, *args], input=stdin, env=sim.env, capture_output=True, text=True, check=True
    ).stdout


def ours_left(sim: KubeSim) -> list[tuple[str, str, str]]:
    """Every object still carrying the labels of namespace asky's deploy."""
    return sorted(
        (resource, ns, name)
        for (resource, ns, name) in sim.snapshot()
        if ns == "asky" or name in ("asky", "asky-postgres-data")
    )


def decoys(sim: KubeSim) -> dict[tuple[str, str, str], str]:
    return {
        key: version
        for key, version in sim.snapshot().items()
        if key[2] in ("decoy", "decoy-data", "staging-postgres-data") or key[1] == "decoy"
    }


@pytest.fixture
def sim() -> Iterator[KubeSim]:
    with KubeSim(DECOYS) as started:
        yield started


def test_terminate_removes_everything_of_ours_and_nothing_else(sim: KubeSim) -> None:
    deploy(sim)
    before = decoys(sim)
    result = terminate(sim)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "will be deleted" in out and "/data/asky/postgres" in out  # the data, said plainly
    for ref in ("Namespace/asky", "PersistentVolumeClaim/postgres-data", "PersistentVolume/asky"):
        assert f"deleted {ref}" in out
    assert "asky terminated in" in out
    assert ours_left(sim) == []
    assert decoys(sim) == before and len(before) >= 3

    again = terminate(sim)
    assert again.returncode == 0, again.stderr
    assert "nothing of asky-scripts is left to delete for namespace asky" in again.stdout


def test_dry_run_lists_and_changes_nothing(sim: KubeSim) -> None:
    deploy(sim)
    before = sim.snapshot()
    result = terminate(sim, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "delete:   Namespace/asky with everything in it" in result.stdout
    assert "dry run: nothing was deleted" in result.stdout
    assert sim.snapshot() == before


def _generated_secrets(sim: KubeSim) -> dict[str, tuple[str, dict[str, str]]]:
    """Each Secret's resourceVersion and data: equal means never rewritten, not just equal."""
    return {
        s["metadata"]["name"]: (s["metadata"]["resourceVersion"], s["data"])
        for s in sim.objects("secrets", "asky")
    }


def test_keep_data_then_run_binds_the_same_volume_with_its_data(sim: KubeSim) -> None:
    deploy(sim)
    volume = sim.get("persistentvolumes", "asky-postgres-data")
    assert volume is not None
    secrets = _generated_secrets(sim)

    kept = terminate(sim, "--keep-data")
    assert kept.returncode == 0, kept.stderr
    assert "deleted PersistentVolumeClaim/postgres-data" in kept.stdout
    assert sim.objects("deployments", "asky", "apps") == []
    assert sim.objects("pods", "asky") == []
    released = sim.get("persistentvolumes", "asky-postgres-data")
    assert released is not None and released["status"]["phase"] == "Released"
    assert _generated_secrets(sim) == secrets

    again = script("run.py", sim)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Skipping initialization" in again.stdout
    rebound = sim.get("persistentvolumes", "asky-postgres-data")
    assert rebound is not None and rebound["metadata"]["uid"] == volume["metadata"]["uid"]
    assert rebound["status"]["phase"] == "Bound"
    assert sim.has_volume_data("/data/asky/postgres")
    assert _generated_secrets(sim) == secrets


def test_second_keep_data_says_only_the_kept_data_is_left(sim: KubeSim) -> None:
    deploy(sim)
    assert terminate(sim, "--keep-data").returncode == 0
    before = sim.snapshot()
    again = terminate(sim, "--keep-data")
    assert again.returncode == 0, again.stderr
    assert "nothing of asky-scripts is left to delete" in again.stdout
    assert "kept: PersistentVolume/asky-postgres-data" in again.stdout
    assert sim.snapshot() == before


def test_a_namespace_someone_else_made_is_refused_and_unchanged() -> None:
    with KubeSim(
        "objects: [{apiVersion: v1, kind: Namespace, metadata: {name: asky}},"
        " {apiVersion: v1, kind: ConfigMap, metadata: {name: theirs, namespace: asky}}]"
    ) as sim:
        before = sim.snapshot()
        result = terminate(sim)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "was not created by asky-scripts" in result.stderr
        assert "nothing was deleted" in result.stderr
        assert sim.snapshot() == before


def test_a_stuck_finalizer_is_explained_and_times_out_with_4(sim: KubeSim) -> None:
    deploy(sim)
    kubectl(
        sim,
        "create",
        "-f",
        "-",
        stdin=json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": "held",
                    "namespace": "asky",
                    "finalizers": ["example.com/hold"],
                },
            }
        ),
    )
    stuck = terminate(sim, "--timeout", "2")
    assert stuck.returncode == 4, stuck.stdout + stuck.stderr
    assert "still present after 2s: Namespace/asky" in stuck.stderr
    assert "NamespaceFinalizersRemaining" in stuck.stderr
    assert "ConfigMap/held: Terminating since" in stuck.stderr
    assert "--force-finalize" in stuck.stderr
    assert sim.get("configmaps", "held", "asky") is not None  # never stripped by default

    forced = terminate(sim, "--timeout", "15", "--force-finalize")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "removed finalizer example.com/hold from ConfigMap/held" in forced.stderr
    assert "deleted Namespace/asky" in forced.stdout
    assert sim.get("namespaces", "asky") is None


def test_a_claim_held_by_a_pod_is_explained() -> None:
    with KubeSim(DECOYS + "podStopDelay: 30\n") as sim:
        deploy(sim)
        result = terminate(sim, "--timeout", "2")
    assert result.returncode == 4, result.stdout + result.stderr
    assert "PersistentVolumeClaim/postgres-data: still mounted by pod postgres-" in result.stderr
    assert "PersistentVolume/asky-postgres-data: phase Bound, reclaim policy Retain" in (
        result.stderr
    )


def test_json_output_has_one_event_per_object_gone(sim: KubeSim) -> None:
    deploy(sim)
    result = terminate(sim, "--output", "json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    plan = next(r for r in records if r["event"] == "plan")
    assert plan["delete"] == ["Namespace/asky", "PersistentVolume/asky-postgres-data"]
    gone = {(r["kind"], r["name"]) for r in records if r["event"] == "deleted"}
    assert ("PersistentVolume", "asky-postgres-data") in gone
    assert records[-1]["event"] == "summary" and records[-1]["deleted"] == 3


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_person_must_type_the_namespace_name(sim: KubeSim) -> None:
    deploy(sim)
    before = sim.snapshot()
    out, err = io.StringIO(), io.StringIO()
    args = ["--kubectl", str(KUBECTL)]
    code = main(args, stdout=out, stderr=err, stdin=_Terminal("askyy\n"), environ=sim.env)
    assert code == 2
    assert "Type the namespace name (asky)" in err.getvalue()
    assert "does not match" in err.getvalue() and "nothing was deleted" in err.getvalue()
    assert sim.snapshot() == before
    code = main(args, stdout=out, stderr=err, stdin=_Terminal("asky\n"), environ=sim.env)
    assert code == 0, err.getvalue()
    assert sim.get("namespaces", "asky") is None


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_while_waiting_stops_cleanly_and_the_next_run_finishes(
    sig: int, code: int
) -> None:
    with KubeSim("podStopDelay: 3") as sim:
        deploy(sim)
        assert KUBECTL is not None
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "terminate.py"), "--kubectl", KUBECTL],
            env={**sim.env, "NO_COLOR": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("  data:"):
                break
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == code, err
        assert "run again to continue" in err
        leftovers = subprocess.run(
            ["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, check=False
        ).stdout
        assert leftovers == ""
        again = terminate(sim, "--timeout", "20")
        assert again.returncode == 0, again.stdout + again.stderr
        assert sim.get("namespaces", "asky") is None
