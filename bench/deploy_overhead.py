"""Figures 1 and 2: how long a clean deploy takes beyond the cluster's own work, and how soon
after the last pod turns Ready each contender notices and exits.

Each round starts a fresh kubesim per contender and runs run.py, peer (a) and peer (b) one after
the other, rotating who goes first, so a slow patch of the shared machine hits all of them.
The peers' Secret creation (run.py does it inside its configuration stage) is timed separately
and left out of their wall time, which favours the peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.contenders import ALL, NAMESPACE, RUN, Contender, launch
from bench.recorder import StoreRecorder
from bench.scenarios import critical_path, stage_floors
from bench.stages import Span, peer_spans, run_py_spans, seconds_in
from kubesim import KubeSim, Scenario

WAIT_TIMEOUT = 300.0
CAP_SECONDS = 120.0
UNTIMED_STAGE = "secrets"


@dataclass(frozen=True)
class DeploySample:
    contender: str
    round: int
    # Process wall time minus the peers' untimed Secret creation.
    wall: float
    untimed_seconds: float
    returncode: int
    # Seconds from the start of the run until kubesim marked the last pod Ready.
    last_ready: float | None
    # Seconds from that instant to the contender's exit (figure 2).
    detection: float | None
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class DeployFigure:
    critical_path: float
    stage_floors: dict[str, float]
    samples: tuple[DeploySample, ...]

    def of(self, contender: str) -> list[DeploySample]:
        return [s for s in self.samples if s.contender == contender and s.returncode == 0]


def _one(contender: Contender, scenario: Scenario, kubectl: Path, round_no: int) -> DeploySample:
    with KubeSim(scenario) as sim, StoreRecorder(sim) as recorder:
        run = launch(contender, sim, kubectl, wait_timeout=WAIT_TIMEOUT, cap=CAP_SECONDS)
    spans = run_py_spans(run) if contender is RUN else peer_spans(run)
    untimed = seconds_in(spans, UNTIMED_STAGE)
    ready = recorder.last_pod_ready(NAMESPACE)
    return DeploySample(
        contender=contender.name,
        round=round_no,
        wall=run.wall - untimed,
        untimed_seconds=untimed,
        returncode=run.returncode,
        last_ready=None if ready is None else ready - run.started,
        detection=None if ready is None else run.ended - ready,
        spans=tuple(spans),
    )


def measure(scenario: Scenario, kubectl: Path, rounds: int) -> DeployFigure:
    samples: list[DeploySample] = []
    for round_no in range(rounds):
        order = ALL[round_no % len(ALL) :] + ALL[: round_no % len(ALL)]
        samples.extend(_one(contender, scenario, kubectl, round_no) for contender in order)
    return DeployFigure(critical_path(scenario), stage_floors(scenario), tuple(samples))
