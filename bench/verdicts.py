"""The issue's targets checked against the measured medians, each with the number behind it and,
for a miss, where the time went as far as the measurements can tell."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bench.contenders import RUN, TERMINATE
from bench.deploy_overhead import DeployFigure
from bench.diagnosis import DiagnosisFigure
from bench.rerun import RerunFigure
from bench.scale import ScaleFigure
from bench.scenarios import FAILURES
from bench.stages import seconds_in
from bench.stats import spread
from bench.teardown import TeardownFigure

DEPLOY_RATIO = 1.05
DEPLOY_ABSOLUTE = 1.0
DETECTION = 0.3
DIAGNOSIS = 2.0
OWN_RSS_MB = 60.0
TEARDOWN_EXTRA = 0.5


@dataclass(frozen=True)
class Verdict:
    figure: str
    target: str
    measured: str
    # None: the figure has no target (it is reported for comparison only).
    met: bool | None
    why: str = ""


def stage_excess(figure: DeployFigure) -> dict[str, float]:
    """run.py's median time in each stage beyond that stage's share of the critical path, plus
    the time outside any stage (interpreter start, imports, exit)."""
    runs = figure.of(RUN.name)
    if not runs:
        return {}
    floors = {"preflight": 0.0, **figure.stage_floors}
    excess = {
        stage: spread([seconds_in(list(r.spans), stage) for r in runs]).median - floor
        for stage, floor in floors.items()
    }
    excess["outside stages"] = spread(
        [r.wall - sum(s.seconds for s in r.spans) for r in runs]
    ).median
    return excess


def _deploy(figure: DeployFigure) -> list[Verdict]:
    runs = figure.of(RUN.name)
    if not runs:
        return [Verdict("1", "run.py deploys", "no successful run", False)]
    path = figure.critical_path
    wall = spread([r.wall for r in runs])
    ratio, extra = wall.median / path, wall.median - path
    worst = sorted(stage_excess(figure).items(), key=lambda kv: -kv[1])[:3]
    why = "largest excess: " + ", ".join(f"{stage} +{sec:.2f} s" for stage, sec in worst)
    if extra <= DEPLOY_ABSOLUTE:
        allowed = (DEPLOY_RATIO - 1) * path
        why = f"the ratio leaves only {allowed:.2f} s over this path; " + why
    met = ratio <= DEPLOY_RATIO and extra <= DEPLOY_ABSOLUTE
    detection = spread([r.detection for r in runs if r.detection is not None])
    return [
        Verdict(
            "1",
            f"wall ÷ critical path ≤ {DEPLOY_RATIO} and ≤ {DEPLOY_ABSOLUTE:g} s over it",
            f"{ratio:.2f} x ({wall.median:.2f} s vs {path:.2f} s, +{extra:.2f} s)",
            met,
            "" if met else why,
        ),
        Verdict(
            "2",
            f"last pod Ready → exit, median ≤ {DETECTION} s",
            detection.text(),
            detection.median <= DETECTION,
        ),
    ]


def diagnosis_verdicts(figure: DiagnosisFigure) -> list[Verdict]:
    verdicts = []
    for failure in FAILURES:
        runs = figure.of(failure.name, RUN.name)
        times = [r.seconds for r in runs if r.seconds is not None]
        if not times:
            verdicts.append(
                Verdict("3", f"{failure.title} ≤ {DIAGNOSIS:g} s", "cause never named", False)
            )
            continue
        measured = spread(times)
        met = measured.median <= DIAGNOSIS
        why = ""
        if not met and any(r.capped for r in runs):
            why = "named only in the report printed when its --timeout ran out"
        elif not met and failure.preflight:
            why = "counted from run.py's launch: the whole preflight"
        elif not met and "ExitedAgain" in failure.pod_reasons:
            why = "the kubelet shows CrashLoopBackOff one relist (1 s) after the exit"
        elif not met and failure.event[0] == "FailedMount":
            why = "run.py gives a missing mount source 1 s (a kubelet cache catching up)"
        elif not met:
            why = "run.py waits for this cause to persist before it fails"
        verdicts.append(
            Verdict("3", f"{failure.title} ≤ {DIAGNOSIS:g} s", measured.text(), met, why)
        )
    if figure.transients:
        codes = sorted({t.returncode for t in figure.transients})
        verdicts.append(
            Verdict(
                "3",
                "a transient crash (once, at start or after Ready) ends in exit 0",
                f"exit codes {', '.join(map(str, codes))} over {len(figure.transients)} runs",
                codes == [0],
            )
        )
    return verdicts


def _overheads(figure: ScaleFigure) -> list[tuple[int, int, float]]:
    """(replicas, pods, median overhead) per size, smallest first."""
    points = []
    for size in sorted({s.replicas for s in figure.samples}):
        runs = figure.of(size)
        if runs:
            points.append((size, runs[0].pods, spread([r.overhead for r in runs]).median))
    return points


def slopes(figure: ScaleFigure) -> list[tuple[int, int, float]]:
    """Seconds of median overhead per extra pod between consecutive sizes."""
    return [
        (a[0], b[0], (b[2] - a[2]) / (b[1] - a[1]))
        for a, b in itertools.pairwise(_overheads(figure))
    ]


def _scale(figure: ScaleFigure) -> list[Verdict]:
    """Linear or better: overhead(n) ÷ overhead(smallest) never exceeds pods(n) ÷ pods(smallest)
    (a fixed cost plus a per-pod cost passes; a cost per pair of pods does not)."""
    points = _overheads(figure)
    growth = [(size, over / points[0][2], pods / points[0][1]) for size, pods, over in points[1:]]
    linear = bool(points) and points[0][2] > 0 and all(o <= p for _, o, p in growth)
    growth_text = ", ".join(
        f"{size} replicas: overhead x{o:.2f} for pods x{p:.1f}" for size, o, p in growth
    )
    rss = max((s.own_peak_rss_mb for s in figure.samples), default=0.0)
    return [
        Verdict(
            "4",
            "overhead grows no faster than linearly in pods",
            growth_text or "one size only",
            linear,
            "" if linear else "overhead grows faster than the number of pods",
        ),
        Verdict(
            "4", f"run.py's own peak RSS ≤ {OWN_RSS_MB:g} MB", f"{rss:.1f} MB", rss <= OWN_RSS_MB
        ),
    ]


def _teardown(figure: TeardownFigure | None, note: str) -> Verdict:
    target = f"terminate.py ≤ +{TEARDOWN_EXTRA} s over finalization"
    runs = figure.of(TERMINATE.name) if figure else []
    if figure is None or not runs:
        return Verdict("5", target, note or "no successful run", None if figure is None else False)
    extra = spread([r.wall for r in runs]).median - figure.finalize_floor
    met = extra <= TEARDOWN_EXTRA
    phases = [r.phases for r in runs if r.phases is not None]
    why = ""
    if not met and phases:
        before = spread([p.before_delete for p in phases]).median
        noticed = spread([p.waiting for p in phases]).median - figure.finalize_floor
        after = spread([p.after_gone for p in phases]).median
        why = (
            f"before the delete {before:.2f} s (interpreter start, discovery, lock), namespace "
            f"gone noticed +{noticed:.2f} s after finalization, after it {after:.2f} s "
            "(lock release, exit)"
        )
    return Verdict("5", target, f"+{extra:.2f} s", met, why)


def _rerun(figure: RerunFigure) -> Verdict:
    runs = figure.of(RUN.name)
    if not runs:
        return Verdict("6", "second run.py changes nothing", "no successful re-run", False)
    changed = max(r.objects_changed for r in runs)
    wall = spread([r.wall for r in runs])
    calls = spread([float(r.kubectl_calls) for r in runs])
    return Verdict(
        "6",
        "second run.py changes nothing (wall and kubectl calls reported)",
        f"{wall.text()}, {calls.median:.0f} kubectl calls, {changed} objects changed",
        changed == 0,
    )


def all_verdicts(
    deploy: DeployFigure,
    diagnosis: DiagnosisFigure,
    scale: ScaleFigure,
    teardown: TeardownFigure | None,
    teardown_note: str,
    rerun: RerunFigure,
) -> list[Verdict]:
    return [
        *_deploy(deploy),
        *diagnosis_verdicts(diagnosis),
        *_scale(scale),
        _teardown(teardown, teardown_note),
        _rerun(rerun),
    ]
