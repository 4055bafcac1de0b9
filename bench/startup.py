"""run.py's fixed cost before it talks to any cluster: the interpreter's start and the imports.

``python run.py --help`` does both and nothing else, so its wall is the floor of every run's
start-up; ``python -X importtime run.py --help`` says which imports it is made of.  The modules
are reported as Python names them, so the summary follows any restructuring of the package.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

from bench.contenders import REPO, RUN

TOP_IMPORTS = 8


@dataclass(frozen=True)
class StartUp:
    #: Walls of ``python run.py --help``.
    help_walls: tuple[float, ...]
    #: Seconds of all imports of ``run.py --help``, the interpreter's own (site) included.
    import_seconds: float
    #: The slowest imports (module, cumulative seconds, its depth in the import tree: 0 is
    #: imported by run.py itself), slowest first.
    slowest: tuple[tuple[str, float, int], ...]


def _help_argv(*flags: str) -> list[str]:
    return [sys.executable, *flags, str(REPO / RUN.program), "--help"]


def _importtime() -> tuple[float, list[tuple[str, float, int]]]:
    done = subprocess.run(
        _help_argv("-X", "importtime"), capture_output=True, text=True, check=True, cwd=REPO
    )
    modules = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        modules.append((name.strip(), int(cumulative) / 1e6, depth))
    # The outermost entries (site's and run.py's imports) sum to the whole.
    shallowest = min((depth for _, _, depth in modules), default=0)
    total = sum(seconds for _, seconds, depth in modules if depth == shallowest)
    return total, [(n, s, d - shallowest) for n, s, d in modules]


def measure(runs: int) -> StartUp:
    walls = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run(_help_argv(), capture_output=True, check=True, cwd=REPO)
        walls.append(time.monotonic() - started)
    total, modules = _importtime()
    # Nested modules are listed too (with their depth): a slow import inside the package shows
    # under its own name, not only inside its importer's total.
    slowest = sorted(modules, key=lambda m: -m[1])[:TOP_IMPORTS]
    return StartUp(tuple(walls), total, tuple(slowest))
