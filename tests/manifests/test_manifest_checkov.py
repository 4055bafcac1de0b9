"""Gate: checkov's Kubernetes and secrets checks find nothing, skips only with a reason.

checkov pins many packages, so it lives in its own virtualenv, made by install_gate_tools.sh.
It is found through $CHECKOV, else $GATE_VENV/bin/checkov (default /tmp/asky-gates-venv),
else PATH. checkov reports success on a file it could not parse, so the gate also checks that
every manifest it should have checked was checked.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

DEFAULT_GATE_VENV = "/tmp/asky-gates-venv"
# Kinds checkov 3 has Kubernetes checks for among ours; the others are parsed but not checked.
CHECKED_KINDS = {"Deployment", "Service", "ConfigMap"}
SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")


def find_checkov() -> Path | None:
    if explicit := os.environ.get("CHECKOV"):
        return Path(explicit)
    in_gate_venv = Path(os.environ.get("GATE_VENV", DEFAULT_GATE_VENV)) / "bin" / "checkov"
    if in_gate_venv.exists():
        return in_gate_venv
    on_path = shutil.which("checkov")
    return Path(on_path) if on_path else None


@pytest.fixture(scope="module")
def checkov() -> Path:
    binary = find_checkov()
    if binary is None:
        pytest.skip(
            "checkov not installed: run tests/manifests/install_gate_tools.sh "
            f"(or set CHECKOV / GATE_VENV, default {DEFAULT_GATE_VENV})"
        )
    return binary


def run_checkov(checkov: Path, directory: Path, frameworks: list[str], workdir: Path) -> list[Any]:
    """checkov's JSON reports, one per framework that found something to scan."""
    result = subprocess.run(
        [
            str(checkov),
            "--directory",
            str(directory),
            "--framework",
            *frameworks,
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=workdir,
    )
    assert result.returncode in (0, 1), f"checkov crashed:\n{result.stderr}"
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


@pytest.fixture(scope="module")
def kubernetes_report(
    checkov: Path, manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    reports = run_checkov(
        checkov, manifests_dir, ["kubernetes", "secrets"], tmp_path_factory.mktemp("checkov")
    )
    by_type = {report.get("check_type"): report for report in reports}
    assert set(by_type) <= {"kubernetes", "secrets"}, f"unexpected checkov output: {reports}"
    secrets = by_type.get("secrets")
    assert secrets is None or secrets["summary"]["failed"] == 0, secrets
    assert "kubernetes" in by_type, f"checkov checked no Kubernetes resource: {reports}"
    report: dict[str, Any] = by_type["kubernetes"]
    return report


def test_checkov_finds_no_failure(kubernetes_report: dict[str, Any]) -> None:
    failures = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for check in kubernetes_report["results"]["failed_checks"]
    ]

    assert failures == []
    assert kubernetes_report["summary"]["parsing_errors"] == 0


def test_checkov_checked_every_manifest_it_has_checks_for(
    kubernetes_report: dict[str, Any], manifests: list[dict[str, Any]]
) -> None:
    results = kubernetes_report["results"]
    checked = {
        check["resource"]
        for outcome in ("passed_checks", "failed_checks", "skipped_checks")
        for check in results[outcome]
    }
    expected = {
        f"{doc['kind']}.default.{doc['metadata']['name']}"
        for doc in manifests
        if doc["kind"] in CHECKED_KINDS
    }

    assert expected - checked == set()
    assert kubernetes_report["summary"]["resource_count"] >= len(manifests)


def test_every_skip_is_an_annotation_on_that_resource_with_a_reason(
    kubernetes_report: dict[str, Any], objects: dict[tuple[str, str], dict[str, Any]]
) -> None:
    problems = []
    for check in kubernetes_report["results"]["skipped_checks"]:
        kind, _, name = check["resource"].split(".", 2)
        annotations = objects[(kind, name)]["metadata"].get("annotations", {})
        skips = {
            value.split("=", 1)[0]: value.split("=", 1)[1] if "=" in value else ""
            for key, value in annotations.items()
            if SKIP_ANNOTATION.match(key)
        }
        reason = skips.get(check["check_id"], "")
        if len(reason.split()) < 3:
            problems.append(f"{check['check_id']} on {kind}/{name}: reason {reason!r}")

    assert problems == []


def test_secret_scan_catches_a_planted_credential(checkov: Path, tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "config.yaml").write_text(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n"
        "  aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n"
        "  aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
        encoding="utf-8",
    )

    reports = run_checkov(checkov, planted, ["secrets"], tmp_path)

    assert sum(report["summary"]["failed"] for report in reports) > 0
