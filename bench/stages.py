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
    spans: list[Span] = []
    open_stage: tuple[str, float] | None = None
    for at, line in run.lines:
        record = _json(line)
        if record is None:
            continue
        if record.get("event") == "stage" and record.get("status") == "started":
            open_stage = (str(record["stage"]), at - run.started)
        elif open_stage and record.get("event") in ("stage", "failure"):
            spans.append(Span(open_stage[0], open_stage[1], at - run.started))
            open_stage = None
    if open_stage:
        spans.append(Span(open_stage[0], open_stage[1], run.wall))
    return spans


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
