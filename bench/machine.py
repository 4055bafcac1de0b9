"""What the numbers were measured on: a 2-core shared VM and a laptop differ by more than any
change we would make, so every result file says which machine it came from."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Machine:
    cores: int
    cpu_model: str
    python: str
    kubectl: str
    system: str


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _kubectl_version(kubectl: Path) -> str:
    result = subprocess.run(
        [str(kubectl), "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return str(json.loads(result.stdout)["clientVersion"]["gitVersion"])


def describe(kubectl: Path) -> Machine:
    return Machine(
        cores=os.cpu_count() or 0,
        cpu_model=_cpu_model(),
        python=platform.python_version(),
        kubectl=_kubectl_version(kubectl),
        system=f"{platform.system()} {platform.release()}",
    )
