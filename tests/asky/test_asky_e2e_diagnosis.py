"""run.py end to end against kubesim's faithful kubelet: what a real cluster would finish ends in
exit 0, what will not heal fails naming its cause first, what may heal is waited for."""

from __future__ import annotations

import shutil
import subprocess
import sys
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

RunPy = Callable[..., subprocess.CompletedProcess[str]]
StartSim = Callable[..., KubeSim]


def error_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("error: "))


def hint_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("hint: "))


def manifests_with(
    tmp_path: Path, relative: str, change: Callable[[dict[str, object]], None]
) -> Path:
    root = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", root)
    path = root / relative
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    for document in documents:
        change(document)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return root


def auth_credentials(deployment: dict[str, object]) -> list[dict[str, object]]:
    """The sources of the auth Deployment's projected credentials volume."""
    volumes = deployment["spec"]["template"]["spec"]["volumes"]  # type: ignore[index]
    volume = next(v for v in volumes if v["name"] == "credentials")
    return list(volume["projected"]["sources"])


# -- crashes -----------------------------------------------------------------------------------


def test_a_service_that_crashes_once_at_start_then_runs_deploys_with_exit_0(
    start_sim: StartSim, run_py: RunPy
) -> None:
    """The common transient: a service that starts a moment before its dependency answers.
    The kubelet restarts it at once (no CrashLoopBackOff), so a real cluster finishes."""
    sim = start_sim("images: [{match: 'asky-auth:*', crash: {exitCode: 1, after: 0.2, times: 1}}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 0, result.stderr
    assert "asky is ready" in result.stdout
    restarts = [
        s["restartCount"]
        for p in sim.objects("pods", "asky")
        if p["metadata"]["name"].startswith("auth-")
        for s in p["status"]["containerStatuses"]
    ]
    assert restarts and all(count == 1 for count in restarts)


def test_a_persistent_crash_loop_fails_at_its_second_exit_with_code_and_previous_log(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim(
        "images: [{match: 'asky-pyxis:*', crash: {exitCode: 3, after: 0.2},"
        " logs: ['pyxis: DATABASE_HOST unreachable']}]"
    )
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 1, result.stderr
    line = error_line(result.stderr)
    assert line.startswith("error: pyxis: CrashLoopBackOff — container pyxis exited with code 3")
    assert "1 restart(s)" in line
    assert "(previous log)" in result.stderr
    assert "| pyxis: DATABASE_HOST unreachable" in result.stderr


# -- probes ------------------------------------------------------------------------------------


def test_a_probe_that_never_passes_times_out_naming_the_probe_once_per_workload(
    start_sim: StartSim, run_py: RunPy
) -> None:
    """The headline names the probe and its output, not 'no ready endpoint yet'; the pyxis
    Deployment and its Service give one evidence block, not two."""
    sim = start_sim("images: [{match: 'asky-pyxis:*', neverReady: true}]")
    result = run_py(sim, "--timeout", "4")
    assert result.returncode == 4, result.stderr
    line = error_line(result.stderr)
    assert line.startswith("error: stage services not ready after 4s: pyxis: 0/2 ready: ")
    assert (
        "Startup probe failed: dial tcp 10.244." in line
        and ":8000: connect: connection refused" in line
    )
    assert "no ready endpoint" not in line
    assert result.stderr.count("Deployment/pyxis:") == 1


# -- images ------------------------------------------------------------------------------------


def test_a_local_image_never_loaded_into_minikube_fails_at_once_with_minikube_image_load(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim("images: [{match: 'asky-auth:*', pull: noRepository}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 1, result.stderr
    assert error_line(result.stderr).startswith(
        'error: auth: ErrImagePull — image "asky-auth:1.0.0" is in no registry the node can reach'
    ) or error_line(result.stderr).startswith(
        'error: auth: ImagePullBackOff — image "asky-auth:1.0.0" is in no registry'
    )
    hint = hint_line(result.stderr)
    assert "minikube image load asky-auth:1.0.0" in hint
    assert "minikube image build -t asky-auth:1.0.0" in hint


def test_refused_registry_credentials_fail_at_once_asking_for_a_pull_secret(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim("images: [{match: 'asky-auth:*', pull: unauthorized}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 1, result.stderr
    assert "refused the credentials" in error_line(result.stderr)
    assert "imagePullSecret" in hint_line(result.stderr)


def test_a_registry_timeout_that_clears_is_waited_for_and_deploys(
    start_sim: StartSim, run_py: RunPy
) -> None:
    """containerd's dial timeout may pass; the kubelet retries after its pull back-off (10 s,
    1 s at speed 10) and the deploy ends ready."""
    sim = start_sim("speed: 10\nimages: [{match: 'asky-auth:*', pull: timeout, pullFailures: 2}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 0, result.stderr


def test_a_registry_that_stays_unreachable_times_out_naming_the_pull_error(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim("speed: 10\nimages: [{match: 'asky-auth:*', pull: timeout}]")
    result = run_py(sim, "--timeout", "4")
    assert result.returncode == 4, result.stderr
    line = error_line(result.stderr)
    assert 'auth: 0/2 ready: ImagePullBackOff: Failed to pull image "asky-auth:1.0.0"' in line
    assert "i/o timeout" in line


# -- volumes -----------------------------------------------------------------------------------


def renamed_secret(deployment: dict[str, object]) -> None:
    auth_credentials(deployment)[1]["secret"]["name"] = "auth-token-keys"  # type: ignore[index]


def renamed_key(deployment: dict[str, object]) -> None:
    items = auth_credentials(deployment)[0]["secret"]["items"]  # type: ignore[index]
    items[1]["key"] = "passwd"


@pytest.mark.parametrize(
    ("typo", "line"),
    [
        (
            renamed_secret,
            'error: auth: Secret auth-token-keys does not exist, needed by volume "credentials" '
            "(FailedMount)",
        ),
        (
            renamed_key,
            'error: auth: Secret auth-db has no key passwd, needed by volume "credentials" '
            "(FailedMount)",
        ),
    ],
    ids=["secret", "key"],
)
def test_a_projected_secret_or_key_that_does_not_exist_is_named_with_its_volume(
    typo: Callable[[dict[str, object]], None],
    line: str,
    start_sim: StartSim,
    run_py: RunPy,
    tmp_path: Path,
) -> None:
    root = manifests_with(tmp_path, "deployments/auth.yaml", typo)
    result = run_py(start_sim(), "--manifests", str(root), "--timeout", "30")
    assert result.returncode == 1, result.stderr
    assert error_line(result.stderr) == line


def test_an_optional_projected_secret_that_does_not_exist_still_deploys(
    start_sim: StartSim, run_py: RunPy, tmp_path: Path
) -> None:
    def optional(deployment: dict[str, object]) -> None:
        auth_credentials(deployment).append({"secret": {"name": "auth-extra", "optional": True}})
        volumes = deployment["spec"]["template"]["spec"]["volumes"]  # type: ignore[index]
        next(v for v in volumes if v["name"] == "credentials")["projected"]["sources"] = (
            auth_credentials(deployment)
        )

    root = manifests_with(tmp_path, "deployments/auth.yaml", optional)
    result = run_py(start_sim(), "--manifests", str(root), "--timeout", "30")
    assert result.returncode == 0, result.stderr


# -- ready, then crashes: minReadySeconds -------------------------------------------------------


def test_a_service_that_crashes_each_time_a_second_after_ready_is_not_called_done(
    start_sim: StartSim, run_py: RunPy
) -> None:
    """Its probe passes, then it exits: without minReadySeconds the Deployment would be
    Available at once and run.py would print success over a crash loop."""
    sim = start_sim("images: [{match: 'nginxinc/*', crash: {exitCode: 2, after: 1.0}}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 1, result.stdout
    assert error_line(result.stderr).startswith(
        "error: gateway: CrashLoopBackOff — container gateway exited with code 2"
    )


def test_a_service_that_crashes_once_after_ready_then_runs_deploys_with_exit_0(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim("images: [{match: 'nginxinc/*', crash: {exitCode: 2, after: 1.0, times: 1}}]")
    result = run_py(sim, "--timeout", "60")
    assert result.returncode == 0, result.stderr


# -- capacity, before anything changes ---------------------------------------------------------


def test_replicas_the_node_cannot_hold_are_refused_before_any_change(
    sim: KubeSim, run_py: RunPy
) -> None:
    result = run_py(sim, "--replicas", "pyxis=30", "--timeout", "30")
    assert result.returncode == 3, result.stderr
    assert (
        "the stack requests 4672Mi memory (postgres 256Mi, auth 2 x 128Mi, gateway 2 x 32Mi, "
        in (result.stderr.replace("\n    ", " "))
    )
    assert "short by 760Mi memory" in result.stderr.replace("\n    ", " ")
    assert "short by 50m cpu" in result.stderr.replace("\n    ", " ")
    assert sim.get("namespaces", "asky") is None


def test_what_other_namespaces_hold_on_the_node_is_counted(
    start_sim: StartSim, run_py: RunPy
) -> None:
    sim = start_sim(
        "objects:\n"
        "- apiVersion: v1\n  kind: Pod\n"
        "  metadata: {name: batch, namespace: default}\n"
        "  spec:\n    nodeName: minikube\n"
        "    containers: [{name: batch, image: 'batch:1', resources: {requests: {cpu: 1800m}}}]\n"
    )
    result = run_py(sim, "--timeout", "30")
    assert result.returncode == 3, result.stderr
    said = result.stderr.replace("\n    ", " ")
    assert (
        "the nodes have 200m free of 2 allocatable, 1.8 of it requested by 1 pods of other" in said
    )
    assert "short by 450m cpu" in said


def test_a_quota_and_a_limit_range_added_to_the_namespace_are_both_reported(
    sim: KubeSim, run_py: RunPy, kubectl_ok: Callable[..., str]
) -> None:
    assert run_py(sim).returncode == 0
    kubectl_ok(
        sim,
        "apply",
        "-f",
        "-",
        stdin=(
            "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: team, namespace: asky}\n"
            "spec: {hard: {requests.cpu: 500m}}\n---\n"
            "apiVersion: v1\nkind: LimitRange\nmetadata: {name: small, namespace: asky}\n"
            "spec: {limits: [{type: Container, max: {memory: 512Mi}}]}\n"
        ),
    )
    before = sim.snapshot()
    result = run_py(sim, "--timeout", "30")
    assert result.returncode == 3, result.stderr
    said = result.stderr.replace("\n    ", " ")
    assert "preflight found 2 problems" in said
    assert (
        "ResourceQuota team allows 500m requests.cpu in the namespace; the stack needs 650m: "
        "short by 150m" in said
    )
    assert (
        "LimitRange small: container postgres/postgres limits 1024Mi memory, above its "
        "maximum 512Mi" in said
    )
    assert sim.snapshot() == before
