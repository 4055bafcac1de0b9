"""Gate: every manifest is valid, strictly, for the oldest and newest Kubernetes we support.

kubernetes-validate exits 0 on a removed API and only prints a warning, so any output at all
fails the gate, not only the exit code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

OLDEST_SUPPORTED = "1.30.0"
NEWEST_SUPPORTED = "1.37.0"


def run_kubernetes_validate(version: str, files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "--kubernetes-version",
            version,
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("version", [OLDEST_SUPPORTED, NEWEST_SUPPORTED])
def test_manifests_validate_strictly_without_any_message(
    version: str, manifest_files: list[Path]
) -> None:
    result = run_kubernetes_validate(version, manifest_files)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    manifest = tmp_path / "service.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n"
        "spec:\n  ports:\n    - port: 80\n  selectr:\n    app: s\n",
        encoding="utf-8",
    )

    result = run_kubernetes_validate(NEWEST_SUPPORTED, [manifest])

    assert result.returncode != 0
    assert "selectr" in result.stdout + result.stderr
