"""The kubectl runner: retries of transient failures, child clean-up, kubectl's own failures."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from asky_scripts.cluster import kubectl as k
from asky_scripts.cluster import kubectl_errors as errors
from asky_scripts.cluster.programs import find_kubectl
from asky_scripts.errors import ExitCode, Interrupted
from kubesim import KubeSim


def fake_kubectl(tmp_path: Path, body: str) -> str:
    """A stand-in binary for the wrapper's own process handling (not an e2e test)."""
    path = tmp_path / "kubectl"
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_transient_failures_are_retried_then_succeed(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    binary = fake_kubectl(
        tmp_path,
        f"""
        import sys, pathlib
        p = pathlib.Path({str(counter)!r})
        n = int(p.read_text()) if p.exists() else 0
        p.write_text(str(n + 1))
        if n < 2:
            sys.stderr.write("Error from server (ServiceUnavailable): try later\\n")
            sys.exit(1)
        print(sys.stdin.read().upper())
        """,
    )
    notices: list[k.RetryNotice] = []
    out = k.Kubectl(binary, on_retry=notices.append).run(["apply", "-f", "-"], stdin="abc")
    assert out.strip() == "ABC"
    assert [n.attempt for n in notices] == [1, 2]


def test_permanent_failures_are_not_retried(tmp_path: Path) -> None:
    counter = tmp_path / "count"
    binary = fake_kubectl(
        tmp_path,
        f"""
        import sys, pathlib
        p = pathlib.Path({str(counter)!r})
        p.write_text(p.read_text() + "x" if p.exists() else "x")
        sys.stderr.write('Error from server (Forbidden): pods is forbidden: no\\n')
        sys.exit(1)
        """,
    )
    with pytest.raises(errors.ForbiddenError) as caught:
        k.Kubectl(binary, context="ctx").run(["get", "pods"])
    assert counter.read_text() == "x"
    assert "--context=ctx" in caught.value.argv
    assert caught.value.returncode == 1


def test_interrupt_kills_the_kubectl_process_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    binary = fake_kubectl(
        tmp_path,
        f"""
        import os, pathlib, subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        pathlib.Path({str(pid_file)!r}).write_text(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(60)
        """,
    )

    def interrupt_soon() -> None:
        deadline = time.monotonic() + 10
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_soon, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        k.Kubectl(binary).run(["apply", "-f", "-"], stdin="x")
    pids = [int(p) for p in pid_file.read_text().split()]
    time.sleep(0.1)
    for pid in pids:
        state = subprocess.run(
            ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
        assert state in ("", "Z"), f"process {pid} still running ({state})"


def test_missing_kubectl_is_explained(tmp_path: Path) -> None:
    with pytest.raises(errors.KubectlMissingError) as caught:
        find_kubectl(None, {"PATH": str(tmp_path)})
    assert "not found on PATH" in caught.value.message
    assert "--kubectl" in caught.value.hint
    with pytest.raises(errors.KubectlMissingError):
        find_kubectl(str(tmp_path / "nope"), {})


def test_kubectl_env_variable_wins_over_path(tmp_path: Path) -> None:
    binary = fake_kubectl(tmp_path, "print('hi')\n")
    assert find_kubectl(None, {"KUBECTL": binary, "PATH": "/nonexistent"}) == binary


def test_a_kubectl_killed_by_a_signal_is_its_failure_not_the_users_input(tmp_path: Path) -> None:
    binary = fake_kubectl(
        tmp_path,
        """
        import os, signal
        os.kill(os.getpid(), signal.SIGSEGV)
        """,
    )
    kubectl = k.Kubectl(binary)
    kubectl.client_version = "v1.30.13"
    with pytest.raises(errors.KubectlFailedError) as caught:
        kubectl.run(["create", "-f", "-"], stdin="{}")
    error = caught.value
    assert error.exit_code == ExitCode.KUBECTL_FAILED
    assert "killed by SIGSEGV" in error.message
    assert f"kubectl v1.30.13 ({binary})" in error.message
    assert "defect of asky-scripts" in error.message
    assert "correct" not in error.message + error.hint


def test_a_kubectl_stopped_with_sigterm_stops_the_run_like_an_interrupt(tmp_path: Path) -> None:
    binary = fake_kubectl(
        tmp_path,
        """
        import os, signal
        os.kill(os.getpid(), signal.SIGTERM)
        """,
    )
    with pytest.raises(Interrupted) as caught:
        k.Kubectl(binary).run(["get", "ns"])
    assert caught.value.signal_number == signal.SIGTERM


@pytest.mark.e2e
def test_real_kubectl_that_cannot_parse_our_stdin_is_reported_as_our_defect(
    kubectl_bin: Path, sim: KubeSim
) -> None:
    """The breakage of issue 11 with a real kubectl: before 1.33 kubectl reads input that
    starts with ``{`` as JSON only, so ``---`` is a syntax error (1.33 and later read it, and
    stop at the broken object after it); an unknown flag fails every version."""
    kubectl = k.Kubectl(str(kubectl_bin), env=sim.env)
    joined = '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}\n---\n{"x"'
    with pytest.raises(errors.KubectlFailedError) as parse:
        kubectl.run(["create", "-f", "-", "-o", "name"], stdin=joined)
    with pytest.raises(errors.KubectlFailedError) as flag:
        kubectl.run(["get", "ns", "--no-such-flag"])
    for error in (parse.value, flag.value):
        assert error.exit_code == ExitCode.KUBECTL_FAILED
        assert "defect of asky-scripts or an incompatibility with this kubectl version" in (
            error.message
        )
        assert "correct the object" not in error.message + error.hint
    assert "error parsing STDIN" in parse.value.message
    assert "--no-such-flag" in flag.value.message
