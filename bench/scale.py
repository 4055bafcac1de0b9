"""Figure 4: what run.py costs as the stack grows from 1 to 50 replicas per service.

The scripted delays are short and the node is large, so the wall time beyond the critical path
is run.py's own work (and kubesim's) for that many pods.  CPU seconds and memory cover run.py
with every kubectl it started; kubectl calls are counted with the logging shim.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from asky_scripts.model.stages import WORKLOADS
from bench.contenders import RUN, launch
from bench.kubectl_shim import CountingKubectl
from bench.scenarios import SCALE, critical_path, scripted
from kubesim import KubeSim

WAIT_TIMEOUT = 300.0
CAP_SECONDS = 180.0


@dataclass(frozen=True)
class ScaleSample:
    replicas: int
    pods: int
    wall: float
    overhead: float
    cpu_seconds: float
    own_peak_rss_mb: float
    tree_peak_rss_mb: float
    kubectl_calls: int
    returncode: int


@dataclass(frozen=True)
class ScaleFigure:
    critical_path: float
    samples: tuple[ScaleSample, ...]

    def of(self, replicas: int) -> list[ScaleSample]:
        return [s for s in self.samples if s.replicas == replicas and s.returncode == 0]


def _one(replicas: int, speed: float, kubectl: Path) -> ScaleSample:
    scenario = scripted(SCALE, speed)
    flags = tuple(arg for name in WORKLOADS for arg in ("--replicas", f"{name}={replicas}"))
    with tempfile.TemporaryDirectory(prefix="bench-shim-") as shim_dir:
        shim = CountingKubectl(kubectl, Path(shim_dir))
        with KubeSim(scenario) as sim:
            run = launch(
                RUN,
                sim,
                shim.path,
                wait_timeout=WAIT_TIMEOUT,
                cap=CAP_SECONDS,
                extra=flags,
                sample_memory=True,
            )
        calls = len(shim.calls())
    return ScaleSample(
        replicas=replicas,
        pods=1 + replicas * len(WORKLOADS),
        wall=run.wall,
        overhead=run.wall - critical_path(scenario),
        cpu_seconds=run.cpu_seconds,
        own_peak_rss_mb=run.own_peak_rss_mb or 0.0,
        tree_peak_rss_mb=run.tree_peak_rss_mb or 0.0,
        kubectl_calls=calls,
        returncode=run.returncode,
    )


def measure(kubectl: Path, sizes: tuple[int, ...], rounds: int, speed: float) -> ScaleFigure:
    """Sizes alternate inside each round, so drift in machine load spreads over all of them."""
    samples = [_one(size, speed, kubectl) for _ in range(rounds) for size in sizes]
    return ScaleFigure(critical_path(scripted(SCALE, speed)), tuple(samples))
