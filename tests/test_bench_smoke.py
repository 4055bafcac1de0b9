"""The bench's quick mode end to end: every figure runs and the result files are written.

No timings are asserted (these machines are too noisy for that); only that a user running
``python bench/run.py --quick`` gets a complete report.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (Path(sys.executable).parent / "kubectl").exists(),
        reason="the pinned kubectl is not installed",
    ),
]


def test_quick_bench_writes_every_figure(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = (tmp_path / "RESULTS.md").read_text()
    for heading in (
        "## Targets",
        "## 1. Deploy overhead",
        "## 2. Detection latency",
        "## 3. Time to diagnosis",
        "## 4. Scale",
        "## 5. Teardown",
        "## 6. Idempotent re-run",
    ):
        assert heading in report
    data = json.loads((tmp_path / "results.json").read_text())
    contenders = {sample["contender"] for sample in data["deploy"]["samples"]}
    assert contenders == {"run.py", "peer-a", "peer-b"}
    assert all(s["returncode"] == 0 for s in data["deploy"]["samples"])
    assert {s["failure"] for s in data["diagnosis"]["samples"]} == {
        "image-never-loaded",
        "image-not-found",
        "crash-loop",
        "ready-then-crash",
        "missing-config-key",
        "too-big",
    }
    # The deploys a real cluster finishes end in exit 0, and the settle rule's price is measured.
    assert {s["transient"] for s in data["diagnosis"]["transients"]} == {
        "crash-once",
        "crash-once-after-ready",
    }
    assert all(s["returncode"] == 0 for s in data["diagnosis"]["transients"])
    assert len(data["diagnosis"]["settle"]) == 1
    for picture in data["plots"]:
        assert (tmp_path / picture).stat().st_size > 0
        assert f"]({picture})" in report
