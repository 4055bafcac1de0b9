"""Renders the bad-input catalogue as the README's "When things go wrong" table.

Generated rather than written, so the README never promises a message, an exit code or a fix
that the end-to-end tests do not check.  ``python tests/asky/reliability_readme.py`` writes it
into README.md between the markers below, and test_asky_reliability_readme.py fails when the
README and the catalogue drift apart.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: make the repository importable
    sys.path.insert(0, str(REPO))

from asky_scripts.errors import ExitCode  # noqa: E402
from tests.asky.reliability_catalogue import CASES, COVERED_ELSEWHERE  # noqa: E402

START_MARKER = "<!-- when-things-go-wrong:start -->"
END_MARKER = "<!-- when-things-go-wrong:end -->"
README = REPO / "README.md"

_GENERATED = (
    "<!-- generated from tests/asky/reliability_catalogue.py by "
    "`python tests/asky/reliability_readme.py`: edit the catalogue, not this table -->"
)


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds, safe in a table cell."""
    fence, pad = ("``", " ") if "`" in text else ("`", "")
    return f"{fence}{pad}{text}{pad}{fence}".replace("|", "\\|")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _exit(codes: tuple[ExitCode, ...]) -> str:
    numbers = "/".join(str(int(code)) for code in codes)
    meanings = "/".join(code.name.lower().replace("_", " ") for code in codes)
    return f"{numbers} ({meanings})"


def _row(title: str, says: str, codes: tuple[ExitCode, ...], fix: str) -> str:
    return f"| {_cell(title)} | {_code(says)} | {_exit(codes)} | {_cell(fix)} |"


def render() -> str:
    """The table, as it goes between the README's markers; ends with a newline."""
    rows = []
    for case in CASES:
        fix = case.fix
        if case.resolved_by:
            fix += f" `{' '.join(case.resolved_by)}` resolves it."
        if case.known_gap:
            fix += f" **Known gap:** {case.known_gap}."
        rows.append(_row(case.title, case.says, (case.exit_code,), fix))
    rows += [_row(e.title, e.says, e.exit_codes, e.fix) for e in COVERED_ELSEWHERE]
    lines = [
        _GENERATED,
        "",
        "Cases are for `run.py` unless they name `terminate.py`.",
        "",
        "| Case | You see | Exit | What to do |",
        "| --- | --- | --- | --- |",
        *rows,
    ]
    return "\n".join(lines) + "\n"


def _bounds(readme: str) -> tuple[int, int]:
    start, end = readme.find(START_MARKER), readme.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {START_MARKER} … {END_MARKER}")
    return start + len(START_MARKER), end


def readme_section(readme: str) -> str:
    """The README's text between the markers."""
    start, end = _bounds(readme)
    return readme[start:end].strip("\n") + "\n"


def with_section(readme: str) -> str:
    """The README with the rendered catalogue between its markers."""
    start, end = _bounds(readme)
    return f"{readme[:start]}\n{render()}{readme[end:]}"


if __name__ == "__main__":
    README.write_text(with_section(README.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote the catalogue into {README.relative_to(REPO)}")
