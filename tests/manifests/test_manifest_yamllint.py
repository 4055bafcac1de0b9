"""Gate: yamllint with the project's config, where any warning fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_yamllint(config: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "yamllint",
            "--strict",
            "-f",
            "parsable",
            "-c",
            str(config),
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_manifests_pass_yamllint_without_any_message(manifests_dir: Path) -> None:
    result = run_yamllint(manifests_dir / ".yamllint.yaml", manifests_dir)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_project_config_rejects_a_duplicate_key(manifests_dir: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "service.yaml"
    manifest.write_text("---\nmetadata:\n  name: a\n  name: b\n", encoding="utf-8")

    result = run_yamllint(manifests_dir / ".yamllint.yaml", manifest)

    assert result.returncode != 0
    assert "key-duplicates" in result.stdout
