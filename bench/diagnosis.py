"""Figure 3: time to diagnosis, from the first pod status (or event) that shows a failure's
cause to the contender's exit having named it.

run.py runs each failure a few times in a row; a failure it only reports at its timeout is run
once, since repeating a fixed wait measures nothing new.  The peers cannot fail before their
``kubectl wait`` runs out (they never read pod statuses), so all eight peer runs go in parallel,
each on its own kubesim and capped at the same limit, and show as "≥ cap" unless one of them
exits earlier with the cause in its output.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.contenders import ALL, REPO, RUN, Contender, launch
from bench.recorder import StoreRecorder
from bench.scenarios import DEPLOY, FAILURES, TRANSIENTS, Failure, Transient, scripted
from kubesim import KubeSim

# Each contender is told to wait ``cap`` seconds and killed if it has not exited this much later
# (time to print its report, or for peer (a) to finish the wait it started after postgres).
REPORT_GRACE = 15.0
# Deploys that must finish (the transient cases, the settle cost) get at least this long, even
# in --quick mode where the failures' cap is a couple of seconds.
DEPLOY_CAP = 60.0


@dataclass(frozen=True)
class DiagnosisSample:
    failure: str
    contender: str
    # Cause first visible → exit; None when the cause never showed or was never named.
    seconds: float | None
    wall: float
    returncode: int
    named_cause: bool
    capped: bool


@dataclass(frozen=True)
class TransientSample:
    """run.py on a deploy a real cluster finishes: it must end in exit 0."""

    transient: str
    returncode: int
    wall: float


@dataclass(frozen=True)
class SettleSample:
    """run.py's wall on the deploy scenario with and without the manifests' minReadySeconds."""

    with_min_ready: float
    without_min_ready: float


@dataclass(frozen=True)
class DiagnosisFigure:
    cap: float
    samples: tuple[DiagnosisSample, ...]
    transients: tuple[TransientSample, ...] = ()
    settle: tuple[SettleSample, ...] = ()

    def of(self, failure: str, contender: str) -> list[DiagnosisSample]:
        return [s for s in self.samples if s.failure == failure and s.contender == contender]


def _manifests_without_key(failure: Failure, into: Path) -> Path:
    """A copy of the manifests where the ConfigMap no longer has the key the Deployment mounts."""
    tree = into / "manifests"
    shutil.copytree(REPO / "manifests", tree)
    relative, key = failure.drop_config_key
    path = tree / relative
    text, renamed = re.subn(
        rf"^(\s+){re.escape(key)}:", rf"\g<1>{key}-renamed:", path.read_text(), flags=re.M
    )
    if renamed != 1:
        raise RuntimeError(f"{relative}: expected one data key {key!r}, found {renamed}")
    path.write_text(text)
    return tree


def _cause_seen(failure: Failure, recorder: StoreRecorder) -> float | None:
    if failure.pod_reasons:
        return recorder.first_pod(lambda pod: bool(pod.reasons & failure.pod_reasons))
    reason, fragment = failure.event
    return recorder.first_event(lambda ev: ev.reason == reason and fragment in ev.message)


def _unwrapped(output: str) -> str:
    """The output with preflight's wrapped problem lines joined again (in text or JSON)."""
    return re.sub(r"(?:\\n|\n)\s+", " ", output)


def _one(
    failure: Failure, contender: Contender, kubectl: Path, cap: float, speed: float
) -> DiagnosisSample:
    with tempfile.TemporaryDirectory(prefix="bench-manifests-") as scratch:
        manifests = (
            _manifests_without_key(failure, Path(scratch)) if failure.drop_config_key[0] else None
        )
        with KubeSim(scripted(failure.scenario, speed)) as sim, StoreRecorder(sim) as recorder:
            run = launch(
                contender,
                sim,
                kubectl,
                wait_timeout=cap,
                cap=cap + REPORT_GRACE,
                manifests=manifests,
            )
    cause = _cause_seen(failure, recorder)
    named = failure.cause_text in _unwrapped(run.output) and run.returncode != 0
    if failure.preflight and contender is RUN:
        # Refused before any pod exists: nothing in the cluster shows the cause; from launch.
        seconds = run.wall if named else None
    else:
        seconds = run.ended - cause if cause is not None and named else None
    return DiagnosisSample(
        failure=failure.name,
        contender=contender.name,
        seconds=seconds,
        wall=run.wall,
        returncode=run.returncode,
        named_cause=named,
        capped=run.timed_out or run.wall >= cap,
    )


def _transient(transient: Transient, kubectl: Path, cap: float, speed: float) -> TransientSample:
    cap = max(cap, DEPLOY_CAP)
    with KubeSim(scripted(transient.scenario, speed)) as sim:
        run = launch(RUN, sim, kubectl, wait_timeout=cap, cap=cap + REPORT_GRACE)
    return TransientSample(transient.name, run.returncode, run.wall)


def _without_min_ready(into: Path) -> Path:
    tree = into / "manifests"
    shutil.copytree(REPO / "manifests", tree)
    for path in (tree / "deployments").glob("*.yaml"):
        path.write_text(re.sub(r"^  minReadySeconds: \d+\n", "", path.read_text(), flags=re.M))
    return tree


def _settle(kubectl: Path, cap: float, speed: float) -> SettleSample:
    """The settle rule's price: the same deploy with and without minReadySeconds."""
    walls = []
    cap = max(cap, DEPLOY_CAP)
    with tempfile.TemporaryDirectory(prefix="bench-manifests-") as scratch:
        for manifests in (None, _without_min_ready(Path(scratch))):
            with KubeSim(scripted(DEPLOY, speed)) as sim:
                run = launch(
                    RUN, sim, kubectl, wait_timeout=cap, cap=cap + REPORT_GRACE, manifests=manifests
                )
            if run.returncode != 0:
                raise RuntimeError(f"settle: the clean deploy ended with {run.returncode}")
            walls.append(run.wall)
    return SettleSample(walls[0], walls[1])


def measure_transients(
    kubectl: Path, runs: int, cap: float, speed: float
) -> tuple[tuple[TransientSample, ...], tuple[SettleSample, ...]]:
    transients = tuple(_transient(t, kubectl, cap, speed) for t in TRANSIENTS for _ in range(runs))
    return transients, tuple(_settle(kubectl, cap, speed) for _ in range(runs))


def measure(kubectl: Path, runs: int, cap: float, speed: float) -> DiagnosisFigure:
    samples: list[DiagnosisSample] = []
    for failure in FAILURES:
        for _ in range(runs):
            sample = _one(failure, RUN, kubectl, cap, speed)
            samples.append(sample)
            if sample.capped or sample.seconds is None or sample.seconds >= cap / 2:
                break
    peers = [(f, c) for f in FAILURES for c in ALL if c is not RUN]
    with ThreadPoolExecutor(max_workers=len(peers)) as pool:
        samples.extend(pool.map(lambda job: _one(job[0], job[1], kubectl, cap, speed), peers))
    transients, settle = measure_transients(kubectl, runs, cap, speed)
    return DiagnosisFigure(cap, tuple(samples), transients, settle)
