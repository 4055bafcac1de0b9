#!/usr/bin/env python3
"""``python bench/figure3.py [--render-only]``: figure 3 alone (time to diagnosis, the
transient deploys and the settle rule's price), written into RESULTS.md and results.json in
place of the last full run's figure 3: its section, its rows of the targets table and its
samples.  The other figures are left as the last ``bench/run.py`` measured them.
``--render-only`` writes the section again from results.json without measuring."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.diagnosis import (
    DiagnosisFigure,
    DiagnosisSample,
    SettleSample,
    TransientSample,
    measure,
)
from bench.markdown import figure_three, target_rows
from bench.run import BENCH, FULL, pinned_kubectl
from bench.verdicts import diagnosis_verdicts


def from_json(data: dict[str, Any]) -> DiagnosisFigure:
    """Figure 3 as results.json keeps it, to render it again without measuring."""
    return DiagnosisFigure(
        data["cap"],
        tuple(DiagnosisSample(**s) for s in data["samples"]),
        tuple(TransientSample(**s) for s in data.get("transients", ())),
        tuple(SettleSample(**s) for s in data.get("settle", ())),
    )


def main(argv: list[str] | None = None) -> int:
    rerender = "--render-only" in (sys.argv[1:] if argv is None else argv)
    data = json.loads((BENCH / "results.json").read_text())
    if rerender:
        figure = from_json(data["diagnosis"])
        when, (load_before, load_after) = data["figure3"]["measured"], data["figure3"]["load"]
    else:
        load_before = os.getloadavg()[0]
        figure = measure(pinned_kubectl(), FULL.diagnosis_runs, FULL.diagnosis_cap, FULL.speed)
        load_after = os.getloadavg()[0]
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = BENCH / "RESULTS.md"
    text = results.read_text()
    start, end = text.index("## 3. "), text.index("\n## 4. ")
    note = (
        f"Figure 3 re-measured alone by `python bench/figure3.py` on {when}, load average "
        f"{load_before:.1f} at its start and {load_after:.1f} at its end on this "
        f"{os.cpu_count()}-core machine (the other figures are from the run above)."
    )
    lines = figure_three(figure)
    text = text[:start] + "\n".join([lines[0], "", note, *lines[1:]]) + text[end:]
    lines = [line for line in text.splitlines() if not line.startswith("| 3 |")]
    at = next(i for i, line in enumerate(lines) if line.startswith("| 4 |"))
    rows = target_rows(diagnosis_verdicts(figure))
    results.write_text("\n".join(lines[:at] + rows + lines[at:]) + "\n")
    data["diagnosis"] = dataclasses.asdict(figure)
    data["figure3"] = {"measured": when, "load": [load_before, load_after]}
    (BENCH / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"bench: figure 3 written into {results} and results.json", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
