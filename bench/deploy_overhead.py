"""Figures 1 and 2: how long a clean deploy takes beyond the cluster's own work, and how soon
after everything is serving (pods Ready, Deployments Available, Services with a ready endpoint)
each contender notices and exits.

Each round starts a fresh kubesim per contender and runs run.py, peer (a) and peer (b) one after
the other, rotating who goes first, so a slow patch of the shared machine hits all of them.
The peers' Secret creation (run.py does it inside its configuration stage) is timed separately
and left out of their wall time, which favours the peers.

Each round ends with one more run.py, traced: its kubectl is the timed shim, so its stages can be
split into kubectl processes and the Python between them (``breakdown.py``).  The shim costs a
bash start per call, so traced runs explain the time but are never compared.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench import startup
from bench.breakdown import Part, parts
from bench.contenders import ALL, NAMESPACE, RUN, Contender, launch
from bench.kubectl_shim import Call, CountingKubectl
from bench.recorder import StoreRecorder
from bench.scenarios import critical_path, min_ready_seconds, settle_seconds, stage_floors
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
    # Seconds from the start of the run until kubesim had every pod Ready, every Deployment
    # Available (minReadySeconds after Ready) and every Service a ready endpoint.
    last_ready: float | None
    # Seconds from that instant to the contender's exit (figure 2).
    detection: float | None
    spans: tuple[Span, ...]
    # Seconds that replace the settle this run drew (whole-second Ready stamps and kubesim's
    # controller passes make it 4-5.5 s)
    # by the manifests' minReadySeconds; None when a Deployment never became Available.
    settle_shift: float | None = None
    # Traced runs only: every kubectl process, in seconds from the start of the run.
    calls: tuple[Call, ...] = ()

    @property
    def settled_wall(self) -> float:
        """The wall with the manifests' settle time instead of the one this run drew."""
        return self.wall + (self.settle_shift or 0.0)


@dataclass(frozen=True)
class DeployFigure:
    critical_path: float
    stage_floors: dict[str, float]
    # The part of the critical path that is minReadySeconds (real seconds, never scaled).
    settle: float
    samples: tuple[DeploySample, ...]
    traces: tuple[DeploySample, ...] = ()
    startup: startup.StartUp | None = None

    def of(self, contender: str) -> list[DeploySample]:
        return [s for s in self.samples if s.contender == contender and s.returncode == 0]

    def traced(self) -> list[DeploySample]:
        return [s for s in self.traces if s.returncode == 0]


def trace_parts(sample: DeploySample) -> list[Part]:
    """A traced run cut into start-up, stages and end, each split into kubectl and Python."""
    return parts(sample.spans, sample.calls, sample.wall + sample.untimed_seconds)


def _one(
    contender: Contender,
    scenario: Scenario,
    kubectl: Path,
    round_no: int,
    shim: CountingKubectl | None = None,
) -> DeploySample:
    with KubeSim(scenario) as sim, StoreRecorder(sim) as recorder:
        if shim is not None:
            shim.reset()
        binary = shim.path if shim is not None else kubectl
        run = launch(contender, sim, binary, wait_timeout=WAIT_TIMEOUT, cap=CAP_SECONDS)
    spans = run_py_spans(run) if contender is RUN else peer_spans(run)
    untimed = seconds_in(spans, UNTIMED_STAGE)
    # The finish line: every pod Ready, every Deployment Available (minReadySeconds later) and
    # every Service with a ready endpoint.  A run that exits before it shows a negative detection.
    marks = (
        recorder.last_pod_ready(NAMESPACE),
        recorder.last_available(NAMESPACE),
        recorder.last_endpoint_ready(NAMESPACE),
    )
    ready = None if None in marks else max(m for m in marks if m is not None)
    calls = tuple(shim.timed_calls(origin=run.started)) if shim is not None else ()
    return DeploySample(
        contender=contender.name,
        round=round_no,
        wall=run.wall - untimed,
        untimed_seconds=untimed,
        returncode=run.returncode,
        last_ready=None if ready is None else ready - run.started,
        detection=None if ready is None else run.ended - ready,
        spans=tuple(spans),
        settle_shift=recorder.settle_shift(NAMESPACE, min_ready_seconds()),
        calls=calls,
    )


def measure(scenario: Scenario, kubectl: Path, rounds: int) -> DeployFigure:
    samples: list[DeploySample] = []
    traces: list[DeploySample] = []
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as scratch:
        shim = CountingKubectl(kubectl, Path(scratch))
        for round_no in range(rounds):
            order = ALL[round_no % len(ALL) :] + ALL[: round_no % len(ALL)]
            samples.extend(_one(contender, scenario, kubectl, round_no) for contender in order)
            traces.append(_one(RUN, scenario, kubectl, round_no, shim))
    return DeployFigure(
        critical_path(scenario),
        stage_floors(scenario),
        settle_seconds(),
        tuple(samples),
        tuple(traces),
        startup.measure(rounds),
    )
