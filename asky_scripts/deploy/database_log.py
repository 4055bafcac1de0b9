"""Reads postgres's log once it is Ready: its init lines, and whether it accepts connections."""

from __future__ import annotations

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.deploy.adoption import Adoption
from asky_scripts.deploy.progress import Progress
from asky_scripts.model.manifests import DATABASE

POSTGRES_READY_LINE = "database system is ready to accept connections"
# The entrypoint's lines worth showing: a first initialisation, or the reuse of existing data.
POSTGRES_INIT_MARKERS = ("docker-entrypoint", "initdb", "Skipping initialization")


def check_database_log(
    kubectl: Kubectl, namespace: str, progress: Progress, adoption: Adoption | None
) -> str:
    """The postgres init lines, and whether it said it accepts connections: the stage line's
    extra detail.  An adopted database must also say it skipped initialisation."""
    try:
        log = kubectl.run(["logs", f"deployment/{DATABASE}", "-n", namespace, "--tail=200"])
    except KubectlError as exc:
        progress.note("database", f"postgres log unavailable: {exc.message}", warning=True)
        return ""
    for line in log.splitlines():
        if any(marker.lower() in line.lower() for marker in POSTGRES_INIT_MARKERS):
            progress.note("database", f"init: {line.strip()}")
    if adoption is not None:
        adoption.check_database_log(log)
    if POSTGRES_READY_LINE in log:
        return "; accepting connections"
    progress.note(
        "database",
        "postgres is Ready but its log does not (yet) say it accepts connections",
        warning=True,
    )
    return ""
