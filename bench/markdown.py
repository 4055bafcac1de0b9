"""RESULTS.md: the targets first, then one table per figure, then how it was measured."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from bench.breakdown import Step, median_parts, steps
from bench.contenders import ALL, ORIGINAL_TERMINATE, RUN, TERMINATE
from bench.deploy_overhead import DeployFigure, DeploySample, trace_parts
from bench.diagnosis import DiagnosisFigure, DiagnosisSample
from bench.rerun import RerunFigure
from bench.results import ALL_FIGURES, BenchResults
from bench.scale import ScaleFigure
from bench.scenarios import FAILURES, TRANSIENTS
from bench.stages import seconds_in
from bench.startup import StartUp
from bench.stats import spread
from bench.teardown import TeardownFigure, TeardownSample
from bench.verdicts import Verdict, slopes, stage_excess

Run = TypeVar("Run", DeploySample, TeardownSample)
LABELS = {c.name: c.label for c in (*ALL, TERMINATE, ORIGINAL_TERMINATE)}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _met(met: bool | None) -> str:
    return {True: "met", False: "**not met**", None: "n/a"}[met]


def _stage_median(samples: list[DeploySample], stage: str) -> str:
    if not samples:
        return ""
    return f"{spread([seconds_in(list(s.spans), stage) for s in samples]).median:.2f} s"


def _deploy(figure: DeployFigure) -> list[str]:
    path = figure.critical_path
    run_walls = [s.settled_wall for s in figure.of(RUN.name)]
    rows = []
    for contender in ALL:
        samples = figure.of(contender.name)
        if not samples:
            rows.append([contender.label, "0", "failed", "", "", "", "", "", ""])
            continue
        raw = spread([s.wall for s in samples])
        wall = spread([s.settled_wall for s in samples])
        shifts = [s.settle_shift for s in samples if s.settle_shift is not None]
        versus = (
            f"{spread(run_walls).median / wall.median:.2f}"
            if run_walls and contender is not RUN
            else ""
        )
        untimed = spread([s.untimed_seconds for s in samples]).median
        rows.append(
            [
                contender.label,
                str(wall.runs),
                raw.text(),
                f"{figure.settle - spread(shifts).median:.2f} s" if shifts else "",
                wall.text(),
                f"{wall.median - path:+.2f} s",
                f"{wall.median / path:.2f}",
                versus,
                f"{untimed:.2f} s" if untimed else "",
            ]
        )
    floors = {"preflight": 0.0, **figure.stage_floors}
    excess = stage_excess(figure)
    peer_a = figure.of("peer-a")
    stage_rows = [
        [
            stage,
            f"{floor:.2f} s",
            f"{floor + excess.get(stage, 0.0):.2f} s",
            _stage_median(peer_a, stage) if stage != "preflight" else "",
        ]
        for stage, floor in floors.items()
    ]
    stage_rows.append(["outside stages", "0.00 s", f"{excess.get('outside stages', 0):.2f} s", ""])
    scripted = path - figure.settle
    return [
        "## 1. Deploy overhead",
        "",
        f"Critical path of the scenario: **{path:.2f} s** "
        f"({', '.join(f'{k} {v:.2f} s' for k, v in figure.stage_floors.items() if v)}): "
        f"{scripted:.2f} s of scripted pulls, starts and probes plus {figure.settle:.2f} s of "
        "`minReadySeconds` (a Deployment is Available that long after its pod is Ready; every "
        "contender waits for Available).",
        "",
        "The controller counts `minReadySeconds` from the Ready condition's whole-second "
        "timestamp and kubesim's controller loop notices it at its next pass, so each run draws "
        "a settle of 4-5.5 s at random (a real controller: about 5 s).  *Settled wall* puts the "
        f"written {figure.settle:g} s back in its place (wall + written settle - drawn settle, "
        "from kubesim's stamps of each pod Ready and Deployment Available), so runs compare "
        "without that lottery; the targets use it.",
        "",
        *_table(
            [
                "contender",
                "runs",
                "wall",
                "settle drawn",
                "settled wall, median (min-max)",
                "minus critical path",
                "÷ critical path",
                "run.py ÷ this",
                "untimed Secrets",
            ],
            rows,
        ),
        "Where run.py's time goes (settled medians; the floor is the stage's share of the "
        "critical path):",
        "",
        *_table(["stage", "floor", "run.py", "peer (a)"], stage_rows),
        *_traced(figure),
    ]


def _representative(traces: Sequence[Run]) -> Run:
    """The traced run with the median wall (the lower one of an even count)."""
    ranked = sorted(traces, key=lambda s: s.wall)
    return ranked[(len(ranked) - 1) // 2]


def _traced(figure: DeployFigure) -> list[str]:
    """run.py's time per stage and per kubectl process, from the traced runs."""
    traces = figure.traced()
    if not traces:
        return []
    rows = [
        [
            part.name,
            f"{part.seconds:.3f} s",
            str(part.processes),
            f"{part.kubectl_seconds:.3f} s",
            f"{part.python_seconds:.3f} s",
            f"{part.longest:.3f} s" if part.processes else "",
        ]
        for part in median_parts([trace_parts(t) for t in traces])
    ]
    lines = [
        f"run.py traced ({len(traces)} more runs, each at the end of a round, with the timed "
        "kubectl shim: a bash start per process, so these walls are a little longer; medians "
        "per row).  *kubectl running*: at least one kubectl process alive (concurrent ones "
        "count once); *Python only*: the rest, run.py's own work between processes.",
        "",
        *_table(
            [
                "part",
                "seconds",
                "kubectl processes",
                "kubectl running",
                "Python only",
                "longest process",
            ],
            rows,
        ),
    ]
    first = [t.calls[0].start for t in traces if t.calls]
    if first:
        lines += [f"Launch → first kubectl process: {spread(first).text()}.", ""]
    if figure.startup:
        lines += _startup(figure.startup)
    sample = _representative(traces)
    return [
        *lines,
        f"Every kubectl process of the traced run with the median wall ({sample.wall:.2f} s, "
        f"round {sample.round + 1}), in start order; consecutive identical calls of a stage are "
        "one row.  *Python before*: from the end of the previous process (negative: it ran "
        "alongside it).",
        "",
        *_processes(steps(sample.spans, sample.calls)),
    ]


def _processes(rows: Sequence[Step]) -> list[str]:
    """The per-process table; without a stage column when the run has no stages."""
    staged = any(row.stage for row in rows)
    header = ["starts at (s)", "kubectl", "processes", "each (median, min-max)", "Python before"]
    body = [
        [
            *([row.stage] if staged else []),
            f"{row.start:.3f}",
            f"`{row.command}`",
            str(len(row.walls)),
            spread(list(row.walls)).text(digits=3),
            spread(list(row.gaps)).text(digits=3),
        ]
        for row in rows
    ]
    return _table(["stage", *header] if staged else header, body)


def _startup(found: StartUp) -> list[str]:
    slowest = ", ".join(
        f"{'·' * depth}{name} {seconds * 1000:.0f} ms" for name, seconds, depth in found.slowest
    )
    return [
        f"`python run.py --help` (interpreter start and every import, nothing else): "
        f"{spread(list(found.help_walls)).text()}; `-X importtime`: all imports "
        f"{found.import_seconds * 1000:.0f} ms, the slowest (cumulative, · per level of "
        f"nesting): {slowest}.",
        "",
    ]


def _detection(figure: DeployFigure) -> list[str]:
    rows = []
    for contender in ALL:
        values = [s.detection for s in figure.of(contender.name) if s.detection is not None]
        rows.append([contender.label, spread(values).text() if values else "n/a"])
    return [
        "## 2. Detection latency (kubesim's last pod Ready, Deployment Available or Service "
        "endpoint ready → exit)",
        "",
        *_table(["contender", "median (min-max)"], rows),
    ]


def _diagnosis_cell(samples: list[DiagnosisSample], cap: float) -> str:
    times = [s.seconds for s in samples if s.seconds is not None]
    if not times:
        return f"≥ {cap:g} s (cause not named)"
    text = spread(times).text()
    return text + (" (at its timeout)" if any(s.capped for s in samples) else "")


def figure_three(figure: DiagnosisFigure) -> list[str]:
    rows = [
        [
            failure.title,
            *(_diagnosis_cell(figure.of(failure.name, c.name), figure.cap) for c in ALL),
        ]
        for failure in FAILURES
    ]
    lines = [
        "## 3. Time to diagnosis (cause first visible in the cluster → exit naming it)",
        "",
        f"Every contender is told to wait at most {figure.cap:g} s.  For a crash, the first "
        "sign that it *persists* is its second exit (the first is restarted at once, as by a "
        "real kubelet).",
        "",
        *_table(["failure", *(c.label for c in ALL)], rows),
    ]
    if figure.transients:
        finished = [
            [
                t.title,
                ", ".join(str(s.returncode) for s in figure.transients if s.transient == t.name),
                spread([s.wall for s in figure.transients if s.transient == t.name]).text(),
            ]
            for t in TRANSIENTS
        ]
        lines += [
            "",
            "Deploys a real cluster finishes although something fails on the way (run.py must "
            "end in exit 0):",
            "",
            *_table(["case", "run.py exit codes", "wall"], finished),
        ]
    if figure.settle:
        with_it = [s.with_min_ready for s in figure.settle]
        without = [s.without_min_ready for s in figure.settle]
        extra = [s.with_min_ready - s.without_min_ready for s in figure.settle]
        lines += [
            "",
            "The settle rule's price: the figure 1 deploy with the manifests' `minReadySeconds: 5` "
            "and with it removed:",
            "",
            *_table(
                ["with minReadySeconds", "without", "cost"],
                [[spread(with_it).text(), spread(without).text(), spread(extra).text()]],
            ),
        ]
    return lines


def _scale(figure: ScaleFigure) -> list[str]:
    rows = []
    for size in sorted({s.replicas for s in figure.samples}):
        runs = figure.of(size)
        if not runs:
            rows.append([str(size), "", "failed", "", "", "", "", ""])
            continue
        rows.append(
            [
                str(size),
                str(runs[0].pods),
                spread([r.wall for r in runs]).text(),
                spread([r.overhead for r in runs]).text(),
                spread([r.cpu_seconds for r in runs]).text(),
                spread([r.own_peak_rss_mb for r in runs]).text(" MB", 1),
                spread([r.tree_peak_rss_mb for r in runs]).text(" MB", 1),
                spread([float(r.kubectl_calls) for r in runs]).text("", 0),
            ]
        )
    slope_text = "; ".join(
        f"{a}→{b} replicas: {s * 1000:+.1f} ms per pod" for a, b, s in slopes(figure)
    )
    return [
        "## 4. Scale (run.py only)",
        "",
        f"Critical path {figure.critical_path:.2f} s; overhead = wall minus critical path.",
        "",
        *_table(
            [
                "replicas/service",
                "pods",
                "wall",
                "overhead",
                "CPU s (run.py + kubectl)",
                "run.py peak RSS",
                "tree peak RSS",
                "kubectl processes",
            ],
            rows,
        ),
        f"Marginal overhead: {slope_text or 'one size only'}.",
        "",
    ]


def _teardown(figure: TeardownFigure | None, note: str) -> list[str]:
    head = ["## 5. Teardown", ""]
    if figure is None:
        return [*head, f"Skipped: {note}.", ""]
    rows = []
    for name in (TERMINATE.name, ORIGINAL_TERMINATE.name):
        runs = figure.of(name)
        if not runs:
            rows.append([LABELS[name], "failed", "", ""])
            continue
        wall = spread([r.wall for r in runs])
        rows.append(
            [
                LABELS[name],
                wall.text(),
                f"{wall.median - figure.finalize_floor:+.2f} s",
                f"{wall.median / figure.finalize_floor:.2f}",
            ]
        )
    lines = [
        *head,
        f"Namespace finalization floor: {figure.finalize_floor:.2f} s.",
        "",
        *_table(["contender", "wall", "minus floor", "÷ floor"], rows),
    ]
    traces = figure.traced()
    if traces:
        sample = _representative(traces)
        lines += [
            f"Every kubectl process of terminate.py, traced ({len(traces)} more runs with the "
            f"timed kubectl shim; the one with the median wall, {sample.wall:.2f} s), in start "
            "order.  *Python before*: from the end of the previous process (negative: it ran "
            "alongside it).",
            "",
            *_processes(steps((), sample.calls)),
        ]
    return lines


def _rerun(figure: RerunFigure) -> list[str]:
    rows = []
    for contender in ALL:
        runs = figure.of(contender.name)
        if not runs:
            rows.append([contender.label, "failed", "", ""])
            continue
        rows.append(
            [
                contender.label,
                spread([r.wall for r in runs]).text(),
                spread([float(r.kubectl_calls) for r in runs]).text("", 0),
                str(max(r.objects_changed for r in runs)),
            ]
        )
    return [
        "## 6. Idempotent re-run (nothing changed)",
        "",
        *_table(["contender", "wall", "kubectl processes", "objects changed"], rows),
    ]


METHOD = """## How this was measured

- Every figure runs the real kubectl ({kubectl}) against kubesim started in the bench process,
  a fresh kubesim per run unless said otherwise; contenders alternate inside each round
  (figure 1 rotates who goes first).
- **Critical path** = Σ over stages of (max over the stage's images of
  (pullDelay + startDelay + readyDelay) / speed + the stage's largest `minReadySeconds`), read
  from the scenario and the same stage plan run.py follows; stages without pods add 0.  Peer (b)
  applies everything at once, so it is not bound by the staged critical path and can finish
  below it.
- **Settled wall** = wall + (latest of each Deployment's last pod Ready + its
  `minReadySeconds`) - (last Deployment Available): the run with the written settle instead of
  the 4-5.5 s it drew from whole-second Ready stamps and kubesim's controller passes (a real
  ReplicaSet controller re-checks about `minReadySeconds` after it saw Ready).  Targets, stage
  table and ratios of figure 1 use it.
- **Traced runs** (figure 1's breakdown): run.py once more per round with the timed kubectl
  shim (bash, `$EPOCHREALTIME` before and after the real kubectl); not part of the walls
  compared.
- The peers create the Secrets run.py generates with `kubectl create secret`; that step is
  timed separately ("untimed Secrets") and **left out** of their wall time.  run.py's wall
  includes generating its Secrets.
- Last pod Ready, each Deployment Available and the first sign of a failure's cause are
  stamped by a thread woken by kubesim's store on every change (no kubesim change was needed).
  For the missing ConfigMap key no pod status carries the cause (the pod stays
  ContainerCreating); the first FailedMount event naming the key is used instead.
- Time to diagnosis: each failure runs run.py {diag_runs} times in a row (once if it only
  names the cause at its timeout); the peer runs go in parallel, one kubesim each, since
  they can only end at their `kubectl wait --timeout`.  A crash's first sign is the first pod
  status showing a restarted container exited again (or CrashLoopBackOff).  A stack too big
  for the node is refused by run.py's preflight before any pod exists, so its time runs from
  run.py's launch.  The transient cases and the settle cost run run.py alone, {diag_runs}
  times each.
- CPU seconds come from `os.wait4` on run.py (which includes every kubectl it reaped); peak RSS
  is sampled every 50 ms from /proc (run.py's own VmHWM, and the summed VmRSS of run.py with
  its kubectl children).  kubectl processes are counted by the same shim, in figures 4 and 6
  and the traced runs only.
"""


def target_rows(verdicts: Sequence[Verdict]) -> list[str]:
    """The rows of the targets table (without its header), one per verdict."""
    table = _table(
        ["fig.", "target", "measured", "verdict", "where the time goes"],
        [[v.figure, v.target, v.measured, _met(v.met), v.why] for v in verdicts],
    )
    return [row for row in table[2:] if row]


Figure = TypeVar("Figure")


def _measured(
    heading: str, figure: Figure | None, section: Callable[[Figure], list[str]]
) -> list[str]:
    """The figure's section, or its heading and a line saying it was not measured."""
    if figure is None:
        return [heading, "", "Not measured in this run (`--only`).", ""]
    return section(figure)


def render(results: BenchResults) -> str:
    machine, settings = results.machine, results.settings
    only = (
        "" if settings.figures == ALL_FIGURES else " --only " + ",".join(map(str, settings.figures))
    )
    verdict_rows = [[v.figure, v.target, v.measured, _met(v.met), v.why] for v in results.verdicts]
    pictures = [f"![{name}]({name})" for name in results.plots]
    if results.plots_note:
        pictures.append(f"No pictures: {results.plots_note}.")
    lines = [
        "# bench results",
        "",
        f"Written by `python bench/run.py{' --quick' if settings.quick else ''}{only}` in "
        f"{results.seconds:.0f} s, load average {results.load[0]:.1f} at its start and "
        f"{results.load[1]:.1f} at its end on this {machine.cores}-core machine.",
        "",
        f"- Machine: {machine.cores} cores, {machine.cpu_model}, {machine.system}",
        f"- Python {machine.python}, kubectl {machine.kubectl}",
        f"- Runs: {settings.rounds} rounds for figures 1-2, {settings.later_rounds} for figures "
        "4-6; up to "
        f"{settings.diagnosis_runs} per failure for figure 3 (cap {settings.diagnosis_cap:g} s); "
        f"scenario speed {settings.speed:g}",
        "- Values are medians with (min-max) over the runs.",
        "",
        "## Targets",
        "",
        *_table(["fig.", "target", "measured", "verdict", "where the time goes"], verdict_rows),
        *pictures,
        "",
        *_measured("## 1. Deploy overhead", results.deploy, _deploy),
        *_measured("## 2. Detection latency", results.deploy, _detection),
        *_measured("## 3. Time to diagnosis", results.diagnosis, figure_three),
        *_measured("## 4. Scale", results.scale, _scale),
        *_teardown(results.teardown, results.teardown_note),
        *_measured("## 6. Idempotent re-run", results.rerun, _rerun),
        METHOD.format(kubectl=machine.kubectl, diag_runs=settings.diagnosis_runs),
    ]
    return "\n".join(lines)
