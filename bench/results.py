"""Everything one bench run measured, and its JSON form (results.json keeps every sample so
other summaries can be computed later without re-running)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.deploy_overhead import DeployFigure
from bench.diagnosis import DiagnosisFigure
from bench.machine import Machine
from bench.rerun import RerunFigure
from bench.scale import ScaleFigure
from bench.teardown import TeardownFigure
from bench.verdicts import Verdict

ALL_FIGURES = (1, 2, 3, 4, 5, 6)


@dataclass(frozen=True)
class Settings:
    quick: bool
    # Rounds of figures 1-2, and of figures 4-6 (cheaper to keep short: less noisy or slower).
    rounds: int
    later_rounds: int
    diagnosis_runs: int
    diagnosis_cap: float
    speed: float
    replicas: tuple[int, ...]
    # The figures measured (``--only``); figure 1 and 2 come from the same runs.
    figures: tuple[int, ...] = ALL_FIGURES


@dataclass(frozen=True)
class BenchResults:
    machine: Machine
    settings: Settings
    seconds: float
    # None: not measured in this run (``--only``).
    deploy: DeployFigure | None
    diagnosis: DiagnosisFigure | None
    scale: ScaleFigure | None
    teardown: TeardownFigure | None
    teardown_note: str
    rerun: RerunFigure | None
    verdicts: tuple[Verdict, ...]
    # PNG file names written beside RESULTS.md, or why there are none.
    plots: tuple[str, ...]
    plots_note: str
    # The 1-minute load average at the start and at the end of the run (a shared machine).
    load: tuple[float, float] = (0.0, 0.0)


def write_json(results: BenchResults, path: Path) -> None:
    data: dict[str, Any] = dataclasses.asdict(results)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
