"""Figure 5: how much longer terminate.py takes than the namespace's own finalization.

Each round deploys with run.py (not timed) on a fresh kubesim whose namespace takes
``namespaceFinalizeDelay`` to finalize, then times terminate.py, and in the same round the
original terminate steps on another fresh kubesim.  Each round ends with one more terminate.py
whose kubectl is the timed shim, to list its kubectl processes (never compared: the shim costs
a bash start per call).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.contenders import ORIGINAL_TERMINATE, REPO, RUN, TERMINATE, Contender, launch
from bench.kubectl_shim import Call, CountingKubectl
from bench.processes import TimedRun
from bench.scenarios import TEARDOWN, finalize_floor, scripted
from kubesim import KubeSim, Scenario

WAIT_TIMEOUT = 60.0
CAP_SECONDS = 90.0


class TeardownUnavailableError(RuntimeError):
    """terminate.py is not in this checkout, so there is nothing to time."""


@dataclass(frozen=True)
class Phases:
    """Where terminate.py's wall went, from its JSON line for the namespace being gone."""

    #: Start of the process until the delete was sent (interpreter, discovery, lock).
    before_delete: float
    #: Delete sent until terminate.py saw the namespace gone (finalization plus noticing it).
    waiting: float
    #: Namespace seen gone until exit (lock release, summary, interpreter exit).
    after_gone: float


@dataclass(frozen=True)
class TeardownSample:
    contender: str
    wall: float
    returncode: int
    phases: Phases | None = None
    # Traced runs only: every kubectl process, in seconds from the start of the run.
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class TeardownFigure:
    finalize_floor: float
    samples: tuple[TeardownSample, ...]
    traces: tuple[TeardownSample, ...] = ()

    def of(self, contender: str) -> list[TeardownSample]:
        return [s for s in self.samples if s.contender == contender and s.returncode == 0]

    def traced(self) -> list[TeardownSample]:
        return [s for s in self.traces if s.returncode == 0]


def _one(
    contender: Contender, scenario: Scenario, kubectl: Path, shim: CountingKubectl | None = None
) -> TeardownSample:
    with KubeSim(scenario) as sim:
        deployed = launch(RUN, sim, kubectl, wait_timeout=WAIT_TIMEOUT, cap=CAP_SECONDS)
        if deployed.returncode != 0:
            raise RuntimeError(f"deploy before the teardown failed:\n{deployed.output}")
        if shim is not None:
            shim.reset()
        binary = shim.path if shim is not None else kubectl
        run = launch(contender, sim, binary, wait_timeout=WAIT_TIMEOUT, cap=CAP_SECONDS)
    calls = tuple(shim.timed_calls(origin=run.started)) if shim is not None else ()
    return TeardownSample(contender.name, run.wall, run.returncode, _phases(run), calls)


def _phases(run: TimedRun) -> Phases | None:
    for at, line in run.lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("event") == "deleted" and record.get("kind") == "Namespace":
            gone = at - run.started
            waiting = float(record["elapsed"])
            return Phases(gone - waiting, waiting, run.wall - gone)
    return None


def measure(kubectl: Path, rounds: int, speed: float) -> TeardownFigure:
    if not (REPO / TERMINATE.program).exists():
        raise TeardownUnavailableError(f"{TERMINATE.program} does not exist yet")
    scenario = scripted(TEARDOWN, speed)
    samples: list[TeardownSample] = []
    traces: list[TeardownSample] = []
    with tempfile.TemporaryDirectory(prefix="bench-trace-") as scratch:
        shim = CountingKubectl(kubectl, Path(scratch))
        for _ in range(rounds):
            samples += [_one(c, scenario, kubectl) for c in (TERMINATE, ORIGINAL_TERMINATE)]
            traces.append(_one(TERMINATE, scenario, kubectl, shim))
    return TeardownFigure(finalize_floor(scenario), tuple(samples), tuple(traces))
