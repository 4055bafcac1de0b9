"""Figure 6: a second deploy with nothing changed: how long it takes, how many kubectl
processes it starts, and whether it changed any object.

Every contender redeploys onto the cluster it deployed itself (a client-side apply over run.py's
server-side apply would make run.py report a field conflict, which is correct but not what this
figure is about).  The re-runs alternate between the contenders inside each round.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench.contenders import ALL, Contender, launch
from bench.kubectl_shim import CountingKubectl
from kubesim import KubeSim

WAIT_TIMEOUT = 300.0
CAP_SECONDS = 120.0


@dataclass(frozen=True)
class RerunSample:
    contender: str
    wall: float
    kubectl_calls: int
    # Objects whose resourceVersion moved (events excluded).
    objects_changed: int
    returncode: int


@dataclass(frozen=True)
class RerunFigure:
    samples: tuple[RerunSample, ...]

    def of(self, contender: str) -> list[RerunSample]:
        return [s for s in self.samples if s.contender == contender and s.returncode == 0]


def _rerun(contender: Contender, sim: KubeSim, shim: CountingKubectl) -> RerunSample:
    before = sim.snapshot()
    shim.reset()
    run = launch(contender, sim, shim.path, wait_timeout=WAIT_TIMEOUT, cap=CAP_SECONDS)
    after = sim.snapshot()
    changed = sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    return RerunSample(contender.name, run.wall, len(shim.calls()), changed, run.returncode)


def measure(kubectl: Path, rounds: int) -> RerunFigure:
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-shim-")))
        shim = CountingKubectl(kubectl, scratch)
        sims = {c.name: stack.enter_context(KubeSim()) for c in ALL}
        for contender in ALL:
            first = launch(contender, sims[contender.name], kubectl, wait_timeout=60, cap=90)
            if first.returncode != 0:
                raise RuntimeError(f"first deploy by {contender.name} failed:\n{first.output}")
        samples = [
            _rerun(contender, sims[contender.name], shim)
            for _ in range(rounds)
            for contender in ALL
        ]
    return RerunFigure(tuple(samples))
