"""The project's own gates: ruff (lint and format) and mypy --strict, as part of the suite, so
the README's one test command checks everything CI checks."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("args", [("ruff", "check", "."), ("ruff", "format", "--check", ".")])
def test_ruff_is_clean(args: tuple[str, ...]) -> None:
    result = _run(*args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_contract_is_kept() -> None:
    """asky_scripts' packages import only downwards (pyproject.toml, [tool.importlinter])."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


LONGEST_MODULE_LINES = 300
LONG_MODULE_REASON = "Longer than 300 lines because"


def test_no_module_is_long_without_a_reason() -> None:
    """A module of asky_scripts/ over 300 lines says why in its docstring, on a line starting
    "Longer than 300 lines because": a long module is then a decision, not an accident."""
    unexplained = []
    for path in sorted((REPO / "asky_scripts").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        docstring = ast.get_docstring(ast.parse(text)) or ""
        explained = any(
            line.strip().startswith(LONG_MODULE_REASON) for line in docstring.splitlines()
        )
        if lines > LONGEST_MODULE_LINES and not explained:
            unexplained.append(f"{path.relative_to(REPO)}: {lines} lines")
    assert not unexplained, "split these, or say why in the docstring:\n" + "\n".join(unexplained)
