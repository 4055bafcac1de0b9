"""The README's "When things go wrong" section is the rendered catalogue, word for word."""

from __future__ import annotations

from tests.asky.reliability_catalogue import COVERED_ELSEWHERE
from tests.asky.reliability_readme import README, REPO, readme_section, render


def test_the_readme_carries_the_rendered_catalogue() -> None:
    section = readme_section(README.read_text(encoding="utf-8"))
    assert section == render(), "regenerate it: python tests/asky/reliability_readme.py"


def test_every_case_covered_elsewhere_names_a_test_that_exists() -> None:
    """The rows the catalogue does not provoke itself must point at a real test."""
    for elsewhere in COVERED_ELSEWHERE:
        file, _, name = elsewhere.test.partition("::")
        source = (REPO / "tests" / "asky" / file).read_text(encoding="utf-8")
        assert f"def {name}(" in source, elsewhere.test
