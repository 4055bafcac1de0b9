"""The two pictures: run.py's and peer (a)'s stages on one time axis, and time to diagnosis.

matplotlib is a dev dependency only; without it the bench still writes its tables and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.contenders import ORIGINAL_STEPS, RUN
from bench.deploy_overhead import UNTIMED_STAGE, DeployFigure, DeploySample
from bench.diagnosis import DiagnosisFigure
from bench.scenarios import FAILURES
from bench.stats import spread

TIMELINE = "timeline.png"
DIAGNOSIS = "diagnosis.png"


class PlotsUnavailableError(RuntimeError):
    """matplotlib is not installed; the message says how to get it."""


def _pyplot() -> Any:
    try:
        import matplotlib  # noqa: PLC0415 - optional dev dependency

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError as error:
        raise PlotsUnavailableError(
            "matplotlib is not installed (pip install matplotlib); tables only"
        ) from error
    return plt


def _median_run(samples: list[DeploySample]) -> DeploySample:
    middle = spread([s.wall for s in samples]).median
    return min(samples, key=lambda s: abs(s.wall - middle))


def _timeline(plt: Any, figure: DeployFigure, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 3.6))
    rows = [
        (label, _median_run(figure.of(c.name)))
        for label, c in (("run.py", RUN), ("peer (a)", ORIGINAL_STEPS))
        if figure.of(c.name)
    ]
    colours = plt.get_cmap("tab10")
    stages: list[str] = []
    for y, (_, sample) in enumerate(rows):
        for span in sample.spans:
            if span.stage not in stages:
                stages.append(span.stage)
            untimed = span.stage == UNTIMED_STAGE
            colour = "lightgrey" if untimed else colours(stages.index(span.stage) % 10)
            ax.barh(y, span.seconds, left=span.start, color=colour, edgecolor="white")
            if span.seconds > 0.25:
                ax.text(
                    span.start + span.seconds / 2,
                    y,
                    f"{span.stage} (untimed)" if untimed else span.stage,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if untimed else "white",
                )
        if sample.last_ready is not None:
            ax.plot([sample.last_ready] * 2, [y - 0.45, y + 0.45], color="black", lw=1.5)
    ax.axvline(figure.critical_path, color="grey", ls="--", lw=1)
    ax.text(figure.critical_path, -0.6, " critical path", fontsize=8, color="grey")
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.set_xlabel(
        "seconds from start (black tick: all pods Ready, Deployments Available, endpoints ready; "
        "median run)"
    )
    ax.set_title("Deploy stages on the same scripted cluster")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _diagnosis(plt: Any, figure: DiagnosisFigure, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(10, 3.8))
    contenders = [("run.py", "run.py"), ("peer-a", "peer (a)"), ("peer-b", "peer (b)")]
    width = 0.27
    for i, (name, label) in enumerate(contenders):
        heights, hatched = [], []
        for failure in FAILURES:
            times = [s.seconds for s in figure.of(failure.name, name) if s.seconds is not None]
            heights.append(spread(times).median if times else figure.cap)
            hatched.append(not times)
        xs = [x + (i - 1) * width for x in range(len(FAILURES))]
        bars = ax.bar(xs, heights, width, label=label)
        for bar, unknown in zip(bars, hatched, strict=True):
            if unknown:
                bar.set_hatch("//")
                bar.set_alpha(0.5)
                ax.text(
                    bar.get_x() + width / 2,
                    bar.get_height(),
                    f"≥{figure.cap:g}",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.axhline(2.0, color="grey", ls="--", lw=1)
    ax.set_xticks(range(len(FAILURES)), [f.title for f in FAILURES])
    ax.set_ylabel("cause visible → exit naming it (s)")
    ax.set_title("Time to diagnosis (hatched: gave up at the cap without naming the cause)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw(
    deploy: DeployFigure | None, diagnosis: DiagnosisFigure | None, out: Path
) -> tuple[str, ...]:
    """Writes the PNGs of the figures measured into ``out``; raises PlotsUnavailableError
    without matplotlib."""
    if deploy is None and diagnosis is None:
        return ()
    plt = _pyplot()
    written = []
    if deploy is not None:
        _timeline(plt, deploy, out / TIMELINE)
        written.append(TIMELINE)
    if diagnosis is not None:
        _diagnosis(plt, diagnosis, out / DIAGNOSIS)
        written.append(DIAGNOSIS)
    return tuple(written)
