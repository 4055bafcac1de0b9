"""Every case of the bad-input catalogue, end to end: the real kubectl against kubesim.

For each case: the exit code, the message and the fix on stderr, one paragraph (no traceback,
no blank line inside the error, no doubled "error: error:", no client-go log lines), and the
cluster left as it was.
One emulator per test worker is shared by the cases; a case that changes it works in a
namespace of its own, and a deployed stack is deployed once and shared.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asky_scripts.errors import ExitCode
from kubesim import KubeSim, Scenario
from kubesim.scenario import Faults
from tests.asky.reliability_catalogue import (
    CASES,
    Case,
    Concurrent,
    KubeconfigGiven,
    KubectlGiven,
)

REPO = Path(__file__).resolve().parents[2]
KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

#: Images matching this stay unready for a while: a run.py deploying them holds its lock.
SLOW_IMAGE = "slow/pyxis:1"
SCENARIO = "images: [{match: 'slow/*', readyDelay: 6}]"
KLOG_LINE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ")
ERROR_STARTS = ("error: ", "run.py: error: ", "terminate.py: error: ")
Snapshot = dict[tuple[str, str, str], str]


@dataclass
class Stack:
    """The emulator shared by one worker's cases, and the namespaces deployed on it."""

    sim: KubeSim
    deployed: set[str] = field(default_factory=set)

    def deploy(self, namespace: str) -> None:
        if namespace in self.deployed:
            return
        result = run_script(self.sim, "run.py", "--kubectl", str(KUBECTL), "-q", "-n", namespace)
        assert result.returncode == 0, result.stdout + result.stderr
        self.deployed.add(namespace)

    def kubectl(self, *args: str, stdin: str | None = None) -> None:
        result = subprocess.run(
            [str(KUBECTL), *args],
            input=stdin,
            env=self.sim.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with KubeSim(SCENARIO) as sim:
        yield Stack(sim)


def run_script(
    sim: KubeSim, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / script), *args],
        env=env or {**sim.env, "NO_COLOR": "1"},
        cwd=sim.workdir,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def settled(sim: KubeSim) -> Snapshot:
    """The snapshot once the controllers are done reacting to what was just arranged."""
    previous = sim.snapshot()
    for _ in range(25):
        time.sleep(0.2)
        current = sim.snapshot()
        if current == previous:
            return current
        previous = current
    raise AssertionError("the emulator never settled")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fake_program(path: Path, body: str, mode: int = 0o755) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(mode)
    return path


def kubectl_args(given: KubectlGiven, tmp: Path, env: dict[str, str]) -> list[str]:
    if given is KubectlGiven.ABSENT:
        empty = tmp / "empty-path"
        empty.mkdir()
        env["PATH"] = str(empty)
        env.pop("KUBECTL", None)
        return []
    if given is KubectlGiven.GARBAGE:
        return ["--kubectl", str(fake_program(tmp / "frobnicate", "echo 'hello, world'"))]
    if given is KubectlGiven.FAILING:
        body = "echo 'usage: frobnicate [options] FILE' >&2\nexit 1"
        return ["--kubectl", str(fake_program(tmp / "frobnicate", body))]
    if given is KubectlGiven.NOT_EXECUTABLE:
        return ["--kubectl", str(fake_program(tmp / "kubectl", "exit 0", mode=0o644))]
    return ["--kubectl", str(KUBECTL)]


def kubeconfig_args(given: KubeconfigGiven, tmp: Path, env: dict[str, str]) -> list[str]:
    missing = str(tmp / "no-such-kubeconfig")
    if given is KubeconfigGiven.MISSING:
        return ["--kubeconfig", missing]
    if given is KubeconfigGiven.MISSING_ENV:
        env["KUBECONFIG"] = missing
    elif given is KubeconfigGiven.DIRECTORY:
        return ["--kubeconfig", str(tmp)]
    elif given is KubeconfigGiven.MALFORMED:
        broken = tmp / "broken-kubeconfig"
        broken.write_text("apiVersion: v1\nclusters: [\n  - {name: x\n")
        return ["--kubeconfig", str(broken)]
    elif given is KubeconfigGiven.UNREACHABLE:
        dead = tmp / "dead-kubeconfig"
        dead.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
            f"clusters: [{{name: dead, cluster: {{server: 'http://127.0.0.1:{closed_port()}'}}}}]\n"
            "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
            "users: [{name: u, user: {token: t}}]\n"
        )
        env["KUBECONFIG"] = str(dead)
    return []


def manifests_args(case: Case, tmp: Path) -> list[str]:
    if case.provoke.edit is None:
        return []
    relative, text, replacement = case.provoke.edit
    root = tmp / "manifests"
    shutil.copytree(REPO / "manifests", root)
    path = root / relative
    original = path.read_text()
    assert original.count(text) == 1, f"{case.id}: the edit must match once in {relative}"
    path.write_text(original.replace(text, replacement))
    return ["--manifests", str(root)]


def arrange(stack: Stack, case: Case) -> None:
    provoke = case.provoke
    if provoke.deployed:
        stack.deploy(provoke.deployed)
    if provoke.objects:
        stack.kubectl("create", "-f", "-", stdin=provoke.objects)
    for command in provoke.commands:
        stack.kubectl(*command)


def assert_explained(case: Case, result: subprocess.CompletedProcess[str]) -> None:
    """The exit code, the message and the fix, as one paragraph a person can act on."""
    output = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == case.exit_code, output
    stderr = result.stderr
    assert "Traceback" not in stderr, output
    says = ".*?".join(re.escape(part) for part in case.says.split("…"))
    assert re.search(says, stderr), output
    assert case.hint in stderr, output
    lines = stderr.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(ERROR_STARTS)), None)
    assert start is not None, output
    block = lines[start:]
    assert all(line.strip() for line in block), f"a blank line splits the error:\n{output}"
    assert "error: error:" not in stderr, output
    assert not any(KLOG_LINE.match(line) for line in block), f"client-go's log leaked:\n{output}"
    assert not block[0].removeprefix("error: ").startswith("Error from server"), output


def assert_concurrent_run_unharmed(
    stack: Stack, case: Case, first: subprocess.Popen[str], second: str
) -> None:
    """What matters while another run.py deploys: it finishes, and nothing was interleaved."""
    out, err = first.communicate(timeout=90)
    assert first.returncode == 0, out + err
    namespace = case.args[case.args.index("--namespace") + 1]
    assert stack.sim.get("configmaps", "asky-scripts-lock", namespace) is None
    ns = stack.sim.get("namespaces", namespace)
    assert ns is not None and "deletionTimestamp" not in ns["metadata"]
    deployments = stack.sim.objects("deployments", namespace, "apps")
    assert len(deployments) == 5
    assert all(d["status"].get("readyReplicas") for d in deployments if d["spec"]["replicas"])
    # The refused command never went past the lock: no stage of its own after it.
    assert " storage " not in second and "deleted " not in second


def start_slow_run(stack: Stack, case: Case) -> subprocess.Popen[str]:
    """A run.py deploying the case's namespace, returned once it holds the deploy lock."""
    namespace = case.args[case.args.index("--namespace") + 1]
    first = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "run.py"),
            "--kubectl",
            str(KUBECTL),
            "-n",
            namespace,
            "--set-image",
            f"pyxis={SLOW_IMAGE}",
        ],
        env={**stack.sim.env, "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.stdout is not None
    for line in first.stdout:
        if "deploy lock taken" in line:
            return first
    first.wait(timeout=10)
    raise AssertionError(
        f"run.py never took the lock: {first.stderr.read() if first.stderr else ''}"
    )


def test_the_catalogue_has_the_cases_the_issue_asks_for() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 25
    assert {case.exit_code for case in CASES} <= set(ExitCode)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case.id,
            marks=[pytest.mark.xfail(reason=case.known_gap, strict=True)] if case.known_gap else [],
        )
        for case in CASES
    ],
)
def test_bad_input_is_explained_and_changes_nothing(
    stack: Stack, case: Case, tmp_path: Path
) -> None:
    sim = stack.sim
    arrange(stack, case)
    env = {**sim.env, "NO_COLOR": "1"}
    args = [
        *kubectl_args(case.provoke.kubectl, tmp_path, env),
        *kubeconfig_args(case.provoke.kubeconfig, tmp_path, env),
        *case.args,
    ]
    if case.script == "run.py":
        args += manifests_args(case, tmp_path)
    first = start_slow_run(stack, case) if case.provoke.concurrent is Concurrent.RUN_PY else None
    before = settled(sim) if first is None else {}
    faults = Scenario.from_yaml(f"faults: {case.provoke.faults}").faults
    sim.set_faults(faults)
    try:
        result = run_script(sim, case.script, *args, env=env)
    finally:
        sim.set_faults(Faults())
    try:
        assert_explained(case, result)
    finally:
        if first is not None:
            assert_concurrent_run_unharmed(stack, case, first, result.stdout)
    if first is None:
        assert sim.snapshot() == before, "the refused command changed the cluster"
    if case.resolved_by:
        sim.set_faults(faults)
        try:
            resolved = run_script(sim, case.script, *args, *case.resolved_by, env=env)
        finally:
            sim.set_faults(Faults())
        assert resolved.returncode == 0, resolved.stdout + resolved.stderr
