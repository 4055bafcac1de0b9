"""terminate.py on a flaky API: it still removes everything, shows each retry with -v, logs no
retry when nothing fails, and never retries a permanent refusal.  The same fault profile as
run.py's fault tests (test_asky_e2e_run_more.py), seeded so a failure can be replayed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesim import KubeSim, Scenario
from kubesim.scenario import Faults

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

FLAKY = (
    "{{seed: {seed}, errorRate: 0.2, errorCodes: [500, 503, 429], retryAfter: 1, "
    "resetRate: 0.05, latency: 0.2, watchCutAfter: 2}}"
)
RETRY_LINE = re.compile(r"^  retry \d+: ")


def script(sim: KubeSim, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / name), "--kubectl", str(KUBECTL), *args],
        env={**sim.env, "NO_COLOR": "1"},
        cwd=sim.workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def faults(text: str) -> Faults:
    return Scenario.from_yaml(f"faults: {text}").faults


def ours_left(sim: KubeSim) -> list[tuple[str, str, str]]:
    return sorted(
        key
        for key in sim.snapshot()
        if key[1] == "asky" or key[2] in ("asky", "asky-postgres-data")
    )


@pytest.fixture
def deployed() -> Iterator[KubeSim]:
    """A clean deploy on a reliable API; each test then decides how the API misbehaves."""
    with KubeSim() as sim:
        result = script(sim, "run.py", "-q")
        assert result.returncode == 0, result.stdout + result.stderr
        yield sim


@pytest.mark.parametrize("seed", [7, 11])
def test_flaky_api_still_tears_down_and_every_retry_is_shown(deployed: KubeSim, seed: int) -> None:
    deployed.set_faults(faults(FLAKY.format(seed=seed)))
    result = script(deployed, "terminate.py", "-v", "--yes")
    deployed.set_faults(Faults())
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    retries = [line for line in result.stderr.splitlines() if RETRY_LINE.match(line)]
    assert retries, "20% of requests fail: some retry must be shown"
    assert all("(again in " in line for line in retries)
    assert "asky terminated in" in result.stdout
    assert ours_left(deployed) == []


def test_reliable_api_logs_no_retry(deployed: KubeSim) -> None:
    result = script(deployed, "terminate.py", "-v", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "  $ kubectl delete namespaces/asky" in result.stderr  # -v shows the commands
    assert "retry" not in result.stderr
    assert ours_left(deployed) == []


def test_a_permanent_refusal_is_never_retried(deployed: KubeSim) -> None:
    deployed.set_faults(faults("{forbidden: [{verb: get, resource: namespaces}]}"))
    before = deployed.snapshot()
    started = time.monotonic()
    result = script(deployed, "terminate.py", "-v", "--yes")
    deployed.set_faults(Faults())
    assert result.returncode == 3, result.stdout + result.stderr
    assert time.monotonic() - started < 10
    assert 'cannot get resource "namespaces"' in result.stderr
    assert "retry" not in result.stderr
    assert deployed.snapshot() == before
