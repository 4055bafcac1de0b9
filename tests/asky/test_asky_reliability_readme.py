"""The README's "When things go wrong" section is the rendered catalogue, word for word."""

from __future__ import annotations

from tests.asky.reliability_catalogue import COVERED_ELSEWHERE
from tests.asky.reliability_readme import (
    END_MARKER,
    REPO,
    SECTION_FILE,
    START_MARKER,
    readme_section,
    render,
)

REGENERATE = "regenerate it: python tests/asky/reliability_readme.py"


def test_the_section_file_is_the_rendered_catalogue() -> None:
    assert SECTION_FILE.read_text(encoding="utf-8") == render(), REGENERATE


def test_the_readme_carries_the_rendered_catalogue() -> None:
    """Between the README's markers once they exist; until then the section file stands in."""
    section = readme_section((REPO / "README.md").read_text(encoding="utf-8"))
    shown = section if section is not None else SECTION_FILE.read_text(encoding="utf-8")
    assert shown == render(), (
        f"{REGENERATE}, then paste {SECTION_FILE.name} between {START_MARKER} and {END_MARKER}"
    )


def test_every_case_covered_elsewhere_names_a_test_that_exists() -> None:
    """The rows the catalogue does not provoke itself must point at a real test."""
    for elsewhere in COVERED_ELSEWHERE:
        file, _, name = elsewhere.test.partition("::")
        source = (REPO / "tests" / "asky" / file).read_text(encoding="utf-8")
        assert f"def {name}(" in source, elsewhere.test
