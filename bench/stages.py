"""Stage spans of one run, read from its stamped output: run.py's JSON lines or the peers'
``@stage NAME`` markers.  Times are seconds from the start of the process."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.processes import TimedRun

PEER_MARKER = "@stage "
PEER_DONE = "done"


@dataclass(frozen=True)
class Span:
    stage: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


def _json(line: str) -> dict[str, object] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def run_py_spans(run: TimedRun) -> list[Span]:
    """Each stage from its "started" line to its own "done" line, paired by name: stages of
    the dependency graph overlap (storage beside configuration, services beside the database's
    log), so the next line is not the end of the last start.  A failure ends every open one."""
    spans: list[Span] = []
    open_stages: dict[str, float] = {}
    for at, line in run.lines:
        record = _json(line)
        if record is None:
            continue
        stage, status = str(record.get("stage", "")), record.get("status")
        if record.get("event") == "stage" and status == "started":
            open_stages[stage] = at - run.started
        elif record.get("event") == "stage" and stage in open_stages:
            spans.append(Span(stage, open_stages.pop(stage), at - run.started))
        elif record.get("event") == "failure":
            spans += [Span(name, start, at - run.started) for name, start in open_stages.items()]
            open_stages.clear()
    spans += [Span(name, start, run.wall) for name, start in open_stages.items()]
    return spans


def covered_seconds(spans: list[Span]) -> float:
    """The time inside at least one stage: overlapping stages count once."""
    total, reach = 0.0, float("-inf")
    for span in sorted(spans, key=lambda s: s.start):
        if span.end > reach:
            total += span.end - max(span.start, reach)
            reach = span.end
    return total


def peer_spans(run: TimedRun) -> list[Span]:
    marks = [
        (line[len(PEER_MARKER) :].strip(), at - run.started)
        for at, line in run.lines
        if line.startswith(PEER_MARKER)
    ]
    ends = [at for _, at in marks[1:]] + [run.wall]
    return [
        Span(stage, start, end)
        for (stage, start), end in zip(marks, ends, strict=True)
        if stage != PEER_DONE
    ]


def seconds_in(spans: list[Span], stage: str) -> float:
    return sum(span.seconds for span in spans if span.stage == stage)
