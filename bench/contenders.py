"""The programs being compared, each started the same way against one kubesim.

run.py and terminate.py are started as a user starts them (``python run.py``), run.py with
``--output json`` so its stage lines can be stamped; the peers are the shell scripts in
``bench/peers/``.  Every contender gets
the same kubectl binary, which may be the counting shim of ``kubectl_shim.py``.
"""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass
from pathlib import Path

from asky_scripts.model.secrets import missing_secrets
from bench.processes import TimedRun, run_timed
from kubesim import KubeSim

REPO = Path(__file__).resolve().parent.parent
PEERS = Path(__file__).resolve().parent / "peers"
NAMESPACE = "asky"


@dataclass(frozen=True)
class Contender:
    """A Python command of this repository (``program``) or a peer shell ``script``."""

    name: str
    label: str
    program: str = ""
    args: tuple[str, ...] = ()
    script: Path | None = None


RUN = Contender("run.py", "run.py", program="run.py", args=("--output", "json"))
TERMINATE = Contender(
    "terminate.py",
    "terminate.py",
    program="terminate.py",
    args=("--yes", "--namespace", NAMESPACE, "--output", "json"),
)
ORIGINAL_STEPS = Contender(
    "peer-a", "peer (a): original steps + wait Available", script=PEERS / "original_steps.sh"
)
APPLY_ALL = Contender(
    "peer-b", "peer (b): apply -R + wait Available", script=PEERS / "apply_all.sh"
)
ORIGINAL_TERMINATE = Contender(
    "peer-terminate", "original terminate steps", script=PEERS / "original_terminate.sh"
)
ALL = (RUN, ORIGINAL_STEPS, APPLY_ALL)


def _secrets_file(sim: KubeSim) -> Path:
    """The generated Secrets as ``name key=value ...`` lines, for the peers' kubectl create."""
    path = sim.workdir / "secrets.txt"
    lines = []
    for secret in missing_secrets(set(), NAMESPACE):
        pairs = (f"{k}={base64.b64decode(v).decode()}" for k, v in secret["data"].items())
        lines.append(" ".join((secret["metadata"]["name"], *pairs)))
    path.write_text("\n".join(lines) + "\n")
    return path


def launch(
    contender: Contender,
    sim: KubeSim,
    kubectl: Path,
    *,
    wait_timeout: float,
    cap: float,
    manifests: Path | None = None,
    extra: tuple[str, ...] = (),
    sample_memory: bool = False,
) -> TimedRun:
    """One run to its end, or killed at ``cap`` seconds.

    ``wait_timeout`` is what each contender is told to wait at most (run.py's ``--timeout``,
    the peers' ``kubectl wait --timeout``).
    """
    env = {**sim.env, "NO_COLOR": "1"}
    if contender.script is None:
        argv = [
            sys.executable,
            str(REPO / contender.program),
            *contender.args,
            "--kubectl",
            str(kubectl),
            "--timeout",
            f"{wait_timeout:g}",
            *(("--manifests", str(manifests)) if manifests else ()),
            *extra,
        ]
    else:
        argv = ["/bin/sh", str(contender.script)]
        env.update(
            KUBECTL=str(kubectl),
            NAMESPACE=NAMESPACE,
            MANIFESTS=str(manifests or REPO / "manifests"),
            WAIT_TIMEOUT=f"{wait_timeout:g}s",
            SECRETS_FILE=str(_secrets_file(sim)),
        )
    return run_timed(argv, env, cwd=sim.workdir, timeout=cap, sample_memory=sample_memory)
