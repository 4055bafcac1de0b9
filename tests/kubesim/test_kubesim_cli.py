"""The command line: ``python -m kubesim run -- CMD`` wraps one command around a fresh emulator
and is transparent (CMD's output and exit code, nothing of its own); ``serve`` keeps one up for
other processes until SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def kubesim(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubesim", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def test_run_is_transparent(kubectl_bin: Path) -> None:
    result = kubesim("run", "--", str(kubectl_bin), "get", "ns", "default", "-o", "name")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "namespace/default\n"
    assert result.stderr == ""


def test_run_propagates_the_exit_code_and_isolates_the_kubectl_cache() -> None:
    script = 'test -n "$KUBECONFIG" && test "$HOME" != "$REAL_HOME" && exit 7'
    env_home = {**os.environ, "REAL_HOME": os.environ.get("HOME", "")}
    result = subprocess.run(
        [sys.executable, "-m", "kubesim", "run", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env_home,
        timeout=30,
        check=False,
    )
    assert result.returncode == 7
    assert (result.stdout, result.stderr) == ("", "")


def test_run_failures_of_its_own() -> None:
    missing = kubesim("run", "--", "no-such-command-kubesim")
    assert missing.returncode == 127
    assert missing.stderr == "kubesim run: command not found: no-such-command-kubesim\n"
    verbose = kubesim("run", "-v", "--", "true")
    assert verbose.returncode == 0
    assert verbose.stderr.startswith("kubesim: serving http://127.0.0.1:")
    unreadable = kubesim("run", "--scenario", "/nonexistent/scenario.yaml", "--", "true")
    assert unreadable.returncode == 2
    assert unreadable.stderr == (
        "kubesim: cannot read scenario /nonexistent/scenario.yaml: No such file or directory\n"
    )


def test_run_uses_the_scenario(tmp_path: Path, kubectl_bin: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("kubernetesVersion: v1.35.2\n")
    result = kubesim(
        "run", "--scenario", str(scenario), "--", str(kubectl_bin), "version", "-o", "json"
    )
    assert result.returncode == 0, result.stderr
    assert '"gitVersion": "v1.35.2"' in result.stdout
    scenario.write_text("speeed: 2\n")
    typo = kubesim("run", "--scenario", str(scenario), "--", "true")
    assert typo.returncode == 2
    assert typo.stderr == "kubesim: scenario: unknown field(s) speeed\n"


def test_serve_writes_a_kubeconfig_and_stops_on_sigterm(tmp_path: Path, kubectl_bin: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    server = subprocess.Popen(
        [sys.executable, "-m", "kubesim", "serve", "--kubeconfig-out", str(kubeconfig)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        banner = server.stdout.readline()
        assert banner.startswith("kubesim serving http://127.0.0.1:")
        assert f"(kubeconfig: {kubeconfig})" in banner
        assert "current-context: kubesim" in kubeconfig.read_text()
        env = {**os.environ, "KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path)}
        got = subprocess.run(
            [str(kubectl_bin), "get", "ns", "kube-system", "-o", "name"],
            capture_output=True,
            text=True,
            env=env,
            timeout=30,
            check=False,
        )
        assert got.stdout == "namespace/kube-system\n", got.stderr
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=5) == 0
        assert time.monotonic() - started < 3
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate(timeout=5)


def test_run_stopped_by_sigterm_removes_the_emulator_directory() -> None:
    """As a service manager stops a job: SIGTERM to the whole process group."""
    run = subprocess.Popen(
        [sys.executable, "-m", "kubesim", "run", "--", "sh", "-c", 'echo "$KUBECONFIG"; sleep 600'],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert run.stdout is not None
        kubeconfig = Path(run.stdout.readline().strip())
        assert kubeconfig.exists()
        os.killpg(run.pid, signal.SIGTERM)
        assert run.wait(timeout=20) == 130
        assert not kubeconfig.parent.exists()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=5)
