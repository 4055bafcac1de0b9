"""The issue's targets checked against the measured medians, each with the number behind it and,
for a miss, where the time went as far as the measurements can tell."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from bench.breakdown import median_parts
from bench.contenders import RUN, TERMINATE
from bench.deploy_overhead import DeployFigure, trace_parts
from bench.diagnosis import DiagnosisFigure
from bench.rerun import RerunFigure
from bench.scale import ScaleFigure
from bench.scenarios import FAILURES, Failure
from bench.stages import covered_seconds, seconds_in
from bench.stats import spread
from bench.teardown import TeardownFigure

# Issue 14: run.py no slower than the original steps (peer (a)), measured in the same run, and
# at most this far over the critical path.
PEER_RATIO = 1.00
DEPLOY_ABSOLUTE = 0.5
DETECTION = 0.3
DIAGNOSIS = 2.0
OWN_RSS_MB = 60.0
TEARDOWN_EXTRA = 0.5
PEER = "peer-a"
# Figures 2 and 3 as bench/RESULTS.md had them when issue 14 was filed: (median, worst run).
# Figure 2 from the full run of commit f076d47 (before minReadySeconds, when Ready was the
# finish line); figure 3 from bench/figure3.py, 2026-11-30 02:53 UTC, load average 17.
# "No worse than today" is met while the median stays within today's range, or within
# DIAGNOSIS_NOISE of today's median where that range is narrower (one run on a shared machine
# moves more than some of those ranges).
TODAY_DETECTION = (0.16, 0.21)
DIAGNOSIS_NOISE = 0.10
TODAY_DIAGNOSIS = {
    "image-never-loaded": (1.70, 2.99),
    "image-not-found": (1.71, 1.72),
    "crash-loop": (3.14, 5.20),
    "ready-then-crash": (3.47, 4.02),
    "missing-config-key": (3.30, 5.33),
    "too-big": (4.04, 4.63),
}


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
    the time outside any stage (interpreter start, imports, exit).  The services stage is
    counted with the settle time as written (``settle_shift``), as its floor is."""
    runs = figure.of(RUN.name)
    if not runs:
        return {}
    floors = {"preflight": 0.0, **figure.stage_floors}
    last = list(figure.stage_floors)[-1]
    excess = {
        stage: spread(
            [
                seconds_in(list(r.spans), stage) + (r.settle_shift or 0.0) * (stage == last)
                for r in runs
            ]
        ).median
        - floor
        for stage, floor in floors.items()
    }
    excess["outside stages"] = spread(
        [r.wall - covered_seconds(list(r.spans)) for r in runs]
    ).median
    return excess


def where_time_goes(figure: DeployFigure) -> str:
    """The largest excesses over the floor, and the traced runs' split of run.py's time."""
    worst = sorted(stage_excess(figure).items(), key=lambda kv: -kv[1])[:3]
    text = "largest excess: " + ", ".join(f"{stage} +{sec:.2f} s" for stage, sec in worst)
    traces = figure.traced()
    if traces:
        parts = median_parts([trace_parts(t) for t in traces])
        processes = sum(p.processes for p in parts)
        python = sum(p.python_seconds for p in parts)
        first = spread([t.calls[0].start for t in traces if t.calls]).median
        text += (
            f"; traced runs: {processes} kubectl processes, the first {first:.2f} s after "
            f"launch, {python:.2f} s with no kubectl running (tables of figure 1)"
        )
    return text


def _deploy(figure: DeployFigure) -> list[Verdict]:
    runs, peers = figure.of(RUN.name), figure.of(PEER)
    if not runs:
        return [Verdict("1", "run.py deploys", "no successful run", False)]
    path = figure.critical_path
    wall = spread([r.settled_wall for r in runs])
    extra = wall.median - path
    why = where_time_goes(figure)
    # A wall only counts if run.py exited after everything was serving (pods Ready, Deployments
    # Available, Services with a ready endpoint); finishing earlier is not faster, it is wrong.
    early = sum(1 for r in runs if r.detection is None or r.detection < 0)
    if early:
        why = f"run.py exited before everything was serving in {early} of {len(runs)} runs"
    verdicts = []
    if peers:
        peer = spread([r.settled_wall for r in peers])
        ratio = wall.median / peer.median
        verdicts.append(
            Verdict(
                "1",
                f"run.py's wall ÷ peer (a)'s (original steps + wait for every Deployment and "
                f"endpoint), same run ≤ {PEER_RATIO:.2f}",
                f"{ratio:.2f} ({wall.median:.2f} s vs {peer.median:.2f} s)",
                ratio <= PEER_RATIO and not early,
                "" if ratio <= PEER_RATIO and not early else why,
            )
        )
    met = extra <= DEPLOY_ABSOLUTE and not early
    verdicts.append(
        Verdict(
            "1",
            f"run.py's wall ≤ critical path + {DEPLOY_ABSOLUTE:g} s",
            f"+{extra:.2f} s ({wall.median:.2f} s vs {path:.2f} s)",
            met,
            "" if met else why,
        )
    )
    detection = spread([r.detection for r in runs if r.detection is not None])
    verdicts.append(
        Verdict(
            "2",
            f"all Ready, Available and with endpoints → exit, median ≤ {DETECTION} s and no "
            "worse than today "
            f"({TODAY_DETECTION[0]:.2f} s, worst run {TODAY_DETECTION[1]:.2f} s)",
            detection.text(),
            detection.median <= min(DETECTION, TODAY_DETECTION[1]),
        )
    )
    return verdicts


def _slow_diagnosis(failure: Failure, capped: bool) -> str:
    """Why a diagnosis takes longer than DIAGNOSIS, as far as the measurements can tell."""
    if capped:
        return "named only in the report printed when its --timeout ran out"
    if failure.preflight:
        return "counted from run.py's launch: the whole preflight"
    if "ExitedAgain" in failure.pod_reasons:
        return "the kubelet shows CrashLoopBackOff one relist (1 s) after the exit"
    if failure.event[0] == "FailedMount":
        return "run.py gives a missing mount source 1 s (a kubelet cache catching up)"
    return "run.py waits for this cause to persist before it fails"


def diagnosis_verdicts(figure: DiagnosisFigure) -> list[Verdict]:
    """Issue 14: no worse than today (the median within today's range); the older goal of
    DIAGNOSIS seconds is reported beside it."""
    verdicts = []
    for failure in FAILURES:
        runs = figure.of(failure.name, RUN.name)
        times = [r.seconds for r in runs if r.seconds is not None]
        today, worst = TODAY_DIAGNOSIS.get(failure.name, (DIAGNOSIS, DIAGNOSIS))
        allowed = max(worst, today * (1 + DIAGNOSIS_NOISE))
        target = (
            f"{failure.title}: no worse than today ({today:.2f} s; met up to {allowed:.2f} s, "
            f"its worst run or +{DIAGNOSIS_NOISE:.0%})"
        )
        if not times:
            verdicts.append(Verdict("3", target, "cause never named", False))
            continue
        measured = spread(times)
        goal = f"goal ≤ {DIAGNOSIS:g} s: " + (
            "met"
            if measured.median <= DIAGNOSIS
            else _slow_diagnosis(failure, any(r.capped for r in runs))
        )
        verdicts.append(Verdict("3", target, measured.text(), measured.median <= allowed, goal))
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
    deploy: DeployFigure | None,
    diagnosis: DiagnosisFigure | None,
    scale: ScaleFigure | None,
    teardown: TeardownFigure | None,
    teardown_note: str,
    rerun: RerunFigure | None,
) -> list[Verdict]:
    """The verdicts of the figures measured (``--only`` leaves the others out)."""
    return [
        *(_deploy(deploy) if deploy else []),
        *(diagnosis_verdicts(diagnosis) if diagnosis else []),
        *(_scale(scale) if scale else []),
        _teardown(teardown, teardown_note),
        *([_rerun(rerun)] if rerun else []),
    ]
