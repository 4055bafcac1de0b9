"""Where run.py's deploy time goes, per stage and per kubectl process, from a traced run: its
stamped stage lines (``stages.py``) and the timed kubectl shim's log (``kubectl_shim.py``).

A stage's seconds split into time with at least one kubectl process running (the union of their
intervals, so concurrent calls count once) and the rest, which is run.py's own Python between
processes (parsing, judging, printing, thread hand-offs).  The time before the first stage line
is the interpreter's start, the imports and the parsing of the manifests; the time after the
last stage ends is the lock release and the interpreter's exit.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from bench.kubectl_shim import Call
from bench.stages import Span

START_UP = "start-up (before the first stage)"
AFTER = "after the last stage (to exit)"
BETWEEN = "between stages"
# Flags that say nothing about what a call does, left out of the per-process table.
_NOISE = ("--request-timeout=", "--field-manager=")


@dataclass(frozen=True)
class Part:
    """One stretch of a run: a stage, the start-up, or what follows the last stage."""

    name: str
    seconds: float
    processes: int
    kubectl_seconds: float
    longest: float

    @property
    def python_seconds(self) -> float:
        return self.seconds - self.kubectl_seconds


@dataclass(frozen=True)
class Step:
    """Consecutive kubectl processes of one stage with the same arguments (a poll loop is one
    step), with each one's wall and the Python time before each."""

    stage: str
    command: str
    start: float
    walls: tuple[float, ...]
    gaps: tuple[float, ...]


def _union(intervals: Sequence[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def _clip(calls: Sequence[Call], start: float, end: float) -> list[tuple[float, float]]:
    return [
        (max(c.start, start), min(c.end, end)) for c in calls if c.end > start and c.start < end
    ]


def parts(spans: Sequence[Span], calls: Sequence[Call], wall: float) -> list[Part]:
    """The run cut into start-up, each stage, the gaps between stages and the end.

    ``calls`` are on the same clock as the spans: seconds from the process start."""
    if not spans:
        return []
    stretches = [(START_UP, 0.0, spans[0].start)]
    for span, following in itertools.pairwise(spans):
        stretches += [(span.stage, span.start, span.end), (BETWEEN, span.end, following.start)]
    stretches += [(spans[-1].stage, spans[-1].start, spans[-1].end), (AFTER, spans[-1].end, wall)]
    merged: dict[str, Part] = {}
    for name, start, end in stretches:
        started = [c for c in calls if start <= c.start < end]
        part = Part(
            name,
            end - start,
            len(started),
            _union(_clip(calls, start, end)),
            max((c.seconds for c in started), default=0.0),
        )
        if name in merged:
            old = merged[name]
            part = Part(
                name,
                old.seconds + part.seconds,
                old.processes + part.processes,
                old.kubectl_seconds + part.kubectl_seconds,
                max(old.longest, part.longest),
            )
        merged[name] = part
    # The between-stages stretch goes last, and only when it is worth a row.
    between = merged.pop(BETWEEN, None)
    result = list(merged.values())
    if between is not None and (between.seconds > 0.0005 or between.processes):
        result.append(between)
    return result


def command_text(args: Sequence[str]) -> str:
    """The call as a reader wants it: without the flags every call carries."""
    return " ".join(a for a in args if not a.startswith(_NOISE))


def stage_of(spans: Sequence[Span], at: float) -> str:
    """The stage running at ``at`` ("" for a run without stages)."""
    if not spans:
        return ""
    if at < spans[0].start:
        return START_UP
    for span in spans:
        if span.start <= at < span.end:
            return span.stage
    return AFTER if at >= spans[-1].end else BETWEEN


def steps(spans: Sequence[Span], calls: Sequence[Call]) -> list[Step]:
    """The calls in start order, consecutive identical ones of a stage merged.  A call's gap is
    the time since the previous call ended (negative: it ran alongside it)."""
    result: list[Step] = []
    reach: float | None = None
    for call in sorted(calls, key=lambda c: c.start):
        stage, command = stage_of(spans, call.start), command_text(call.args)
        gap = call.start - (reach if reach is not None else 0.0)
        reach = call.end if reach is None else max(reach, call.end)
        last = result[-1] if result else None
        if last and last.stage == stage and last.command == command:
            result[-1] = Step(
                stage, command, last.start, (*last.walls, call.seconds), (*last.gaps, gap)
            )
        else:
            result.append(Step(stage, command, call.start, (call.seconds,), (gap,)))
    return result


def median_parts(runs: Sequence[Sequence[Part]]) -> list[Part]:
    """Per part name, the median of each field over the runs (names in the first run's order)."""
    names = list(dict.fromkeys(p.name for run in runs for p in run))
    medians = []
    for name in names:
        same = [p for run in runs for p in run if p.name == name]
        medians.append(
            Part(
                name,
                statistics.median(p.seconds for p in same),
                round(statistics.median(p.processes for p in same)),
                statistics.median(p.kubectl_seconds for p in same),
                statistics.median(p.longest for p in same),
            )
        )
    return medians
