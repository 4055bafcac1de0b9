"""Fixtures of the run.py end-to-end tests: run.py as a user runs it, against kubesim."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from kubesim import KubeSim

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

RunPy = Callable[..., "subprocess.CompletedProcess[str]"]


def run_script(
    name: str,
    sim: KubeSim,
    kubectl: str | Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python NAME --kubectl KUBECTL ARGS`` (run.py or terminate.py) in the emulator's
    environment, as a user runs it, output captured."""
    return subprocess.run(
        [sys.executable, str(REPO / name), "--kubectl", str(kubectl), *args],
        env={**sim.env, "NO_COLOR": "1", **(env or {})},
        cwd=sim.workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _run_py(
    sim: KubeSim,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python run.py --kubectl <pinned> ARGS`` in the emulator's environment, output captured."""
    if KUBECTL is None:
        pytest.skip("the pinned kubectl is not installed")
    return run_script("run.py", sim, KUBECTL, *args, env=env, timeout=timeout)


@pytest.fixture
def run_py() -> RunPy:
    return _run_py
