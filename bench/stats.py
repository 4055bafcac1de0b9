"""Medians and ranges: a handful of runs on a noisy shared machine is all a figure gets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """The median of some runs with their minimum and maximum, so noise stays visible."""

    median: float
    low: float
    high: float
    runs: int

    def text(self, unit: str = " s", digits: int = 2) -> str:
        """``1.23 s (1.10-1.40)``; a single run shows no range."""
        value = f"{self.median:.{digits}f}{unit}"
        if self.runs == 1:
            return value
        return f"{value} ({self.low:.{digits}f}-{self.high:.{digits}f})"


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("no runs to summarise")
    return Spread(statistics.median(values), min(values), max(values), len(values))
