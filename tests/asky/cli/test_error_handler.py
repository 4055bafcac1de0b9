"""How run.py and terminate.py end: each typed error is one paragraph on stderr and its own exit
code, an interruption one line and 130/143, a closed output nothing at all and 141; and only the
CLI prints."""

from __future__ import annotations

import ast
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from asky_scripts.cli import run, terminate
from asky_scripts.cli.error_handler import OUTPUT_CLOSED, run_reported
from asky_scripts.cli.output import JsonReport, TextReport
from asky_scripts.cluster.kubectl_errors import ForbiddenError, KubectlFailedError, UnreachableError
from asky_scripts.errors import (
    AskyError,
    ClusterRefusedError,
    ExitCode,
    Interrupted,
    ManifestError,
    StageTimeoutError,
    UsageError,
    WorkloadFailedError,
)

REPO = Path(__file__).resolve().parents[3]
FORBIDDEN = 'Error from server (Forbidden): namespaces is forbidden: User "x" cannot list'

TYPED_ERRORS: list[tuple[AskyError, ExitCode]] = [
    (WorkloadFailedError("auth: CrashLoopBackOff", hint="see its log"), ExitCode.WORKLOAD_FAILED),
    (UsageError("--timeout must be more than 0", hint="see --help"), ExitCode.BAD_INPUT),
    (ManifestError("services/auth.yaml:3: not YAML"), ExitCode.BAD_INPUT),
    (
        ClusterRefusedError("namespace asky is not ours", hint="--force"),
        ExitCode.CLUSTER_UNAVAILABLE,
    ),
    (ForbiddenError(("get", "namespaces"), 1, FORBIDDEN), ExitCode.CLUSTER_UNAVAILABLE),
    (
        UnreachableError(("get", "ns"), 1, "dial tcp: connection refused"),
        ExitCode.CLUSTER_UNAVAILABLE,
    ),
    (StageTimeoutError("services: still waiting after 300s"), ExitCode.TIMEOUT),
    (
        KubectlFailedError(("apply", "-f", "-"), 1, "error: unknown flag: --x"),
        ExitCode.KUBECTL_FAILED,
    ),
]


def ends(error: BaseException, *, json: bool = False) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    report = (
        JsonReport(out, verbosity=0)
        if json
        else TextReport(out, err, color=False, live=False, verbosity=0)
    )

    def task() -> int:
        raise error

    code = run_reported(task, report, lambda: "services", 0.0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("error", "expected"), TYPED_ERRORS, ids=lambda e: type(e).__name__)
def test_a_typed_error_is_one_paragraph_on_stderr_and_its_exit_code(
    error: AskyError, expected: ExitCode
) -> None:
    code, out, err = ends(error)
    assert code == expected
    assert out == ""  # stdout stays the progress log
    lines = err.splitlines()
    assert lines[0].split()[1] == "services"  # where it stopped
    assert lines[1] == f"error: {error.message}"
    assert "\n\n" not in err  # one paragraph
    if error.hint:
        assert f"hint: {error.hint}" in lines
    if isinstance(error, KubectlFailedError):  # a defect to report: with its command
        assert "  command: kubectl apply -f -" in lines


def test_the_exit_codes_are_distinct_per_kind_of_ending() -> None:
    kinds = {expected: type(error) for error, expected in TYPED_ERRORS}
    assert len(set(kinds)) == 5
    assert len({*kinds, ExitCode.INTERRUPTED, ExitCode.TERMINATED, OUTPUT_CLOSED}) == 8


@pytest.mark.parametrize(("error", "expected"), TYPED_ERRORS[:3], ids=lambda e: type(e).__name__)
def test_with_json_output_the_failure_is_a_json_line_with_the_exit_code(
    error: AskyError, expected: ExitCode
) -> None:
    code, out, err = ends(error, json=True)
    assert code == expected
    assert err == ""
    assert f'"exit_code": {int(expected)}' in out.splitlines()[-1]


@pytest.mark.parametrize(
    ("interruption", "expected"),
    [
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (Interrupted(signal.SIGINT), ExitCode.INTERRUPTED),
        (Interrupted(signal.SIGTERM), ExitCode.TERMINATED),
    ],
)
def test_an_interruption_is_one_line_and_130_or_143(
    interruption: BaseException, expected: ExitCode
) -> None:
    code, _, err = ends(interruption)
    assert code == expected
    assert err == "interrupted during stage services; run again to continue\n"


def test_a_defect_keeps_its_traceback() -> None:
    with pytest.raises(ZeroDivisionError):
        ends(ZeroDivisionError("a bug"))


class ClosedPipe(io.StringIO):
    """stdout of ``... | head -1`` once head has exited."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("command", [run.main, terminate.main])
def test_a_closed_output_ends_quietly_with_141(command: object) -> None:
    err = io.StringIO()
    code = command(  # type: ignore[operator]
        ["--output", "json"], stdout=ClosedPipe(), stderr=err, environ={"PATH": "/nonexistent"}
    )
    assert code == OUTPUT_CLOSED == 141
    assert err.getvalue() == ""


@pytest.mark.parametrize("script", ["run.py", "terminate.py"])
def test_piping_into_a_reader_that_went_away_prints_no_traceback(script: str) -> None:
    """``python run.py -o json | head -0``: Python would print a BrokenPipeError traceback (or
    "Exception ignored" at exit) and exit 1 or 120; the commands exit 141 like Unix tools."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, str(REPO / script), "-o", "json", "--kubectl", "/nonexistent/kubectl"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == OUTPUT_CLOSED


def _prints(path: Path) -> list[str]:
    """Where a module writes to the terminal itself: print(), sys.stdout, sys.stderr."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: print()")
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("stdout", "stderr")
            and getattr(node.value, "id", None) == "sys"
        ):
            found.append(f"{path.relative_to(REPO)}:{node.lineno}: sys.{node.attr}")
    return found


def test_only_the_cli_prints() -> None:
    package = REPO / "asky_scripts"
    outside = [p for p in package.rglob("*.py") if package / "cli" not in p.parents]
    assert [line for path in sorted(outside) for line in _prints(path)] == []
