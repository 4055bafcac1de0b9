"""run.py's command line: bad input is refused with exit 2 before any cluster is touched."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from asky_scripts.cli.run import main
from asky_scripts.errors import ExitCode

REPO = Path(__file__).resolve().parents[3]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, environ=environ or {"PATH": "/nonexistent"})
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--replicas", "auth=-1"], "whole number"),
        (["--replicas", "auth=two"], "whole number"),
        (["--replicas", "auth"], "SVC=VALUE"),
        (["--replicas", "nginx=2"], "unknown service nginx"),
        (["--set-image", "auth=Not An Image"], "invalid image reference"),
        (["--set-image", "gatewy=nginx:1.27"], "unknown service gatewy"),
        (["--timeout", "0"], "more than 0"),
        (["--timeout", "-5"], "more than 0"),
        (["--timeout", "soon"], "not a number"),
        (["--namespace", "Bad_Name"], "invalid namespace name"),
        (["--namespace", "x" * 64], "invalid namespace name"),
        (["--gateway-type", "ClusterIP"], "invalid choice"),
        (["--dry-run", "--diff"], "not allowed with"),
        (["--replicas", "auth=1", "--replicas", "auth=2"], "given twice"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason(argv: list[str], needle: str) -> None:
    code, _, err = run(argv)
    assert code == ExitCode.BAD_INPUT
    assert needle in err


def test_no_kubectl_on_path_exits_2_with_install_hint() -> None:
    code, _, err = run([])
    assert code == ExitCode.BAD_INPUT
    assert "kubectl was not found on PATH" in err
    assert "--kubectl" in err


def test_missing_kubeconfig_exits_2(tmp_path: Path) -> None:
    code, _, err = run(["--kubeconfig", str(tmp_path / "none")])
    assert code == ExitCode.BAD_INPUT
    assert "no such file" in err


def test_json_output_reports_failures_as_json_lines() -> None:
    code, out, _ = run(["--output", "json"])
    assert code == ExitCode.BAD_INPUT
    records = [json.loads(line) for line in out.splitlines()]
    assert records[-1]["event"] == "failure"
    assert records[-1]["exit_code"] == 2


def test_help_exits_0_and_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "exit codes: 0 ready" in capsys.readouterr().out


@pytest.mark.skipif(KUBECTL is None, reason="pinned kubectl not installed")
def test_unreachable_server_exits_3_after_bounded_retries(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
        "users: [{name: u, user: {}}]\n"
    )
    assert KUBECTL is not None
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    code, _, err = run(["--kubectl", KUBECTL], env)
    assert code == ExitCode.CLUSTER_UNAVAILABLE
    assert "refused" in err


@pytest.mark.skipif(KUBECTL is None, reason="pinned kubectl not installed")
def test_unknown_context_exits_2(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    assert KUBECTL is not None
    env = {"PATH": "/nonexistent", "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    code, _, err = run(["--kubectl", KUBECTL, "--context", "nope"], env)
    assert code == ExitCode.BAD_INPUT
    assert "nope" in err


def test_run_py_works_from_another_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "run.py"), "--replicas", "auth=x"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == ExitCode.BAD_INPUT
    assert "whole number" in result.stderr
