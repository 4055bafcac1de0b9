"""The database's directory on the node: it must be owned by the postgres uid before first start.

The hostPath volume (see manifests/persistent-volumes/postgres.yaml) cannot be prepared from a
pod: ``DirectoryOrCreate`` makes it root-owned, ``fsGroup`` does not apply to hostPath, and a
root init container is refused by the namespace's "restricted" Pod Security level.  So it is
prepared from outside: on minikube run.py does it with ``minikube ssh`` (idempotent, so on every
deploy; a directory holding data keeps its data), elsewhere the preflight says what an
administrator must do.  With ``--storage-class`` there is no hostPath and nothing to prepare.

"Is this minikube" is answered from the kubeconfig only, honestly and cheaply: minikube names
its context after its profile (``minikube`` unless ``-p`` was used) and marks the context with
its ``cluster_info`` extension (provider ``minikube.sigs.k8s.io``).  Anything else is not
treated as minikube, even when it happens to be one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_stderr import summarize_stderr
from asky_scripts.cluster.objects import Obj, field
from asky_scripts.cluster.programs import find_program, run_program

POSTGRES_UID = 999  # the postgres user of the official Debian-based image
MINIKUBE_PROVIDER = "minikube.sigs.k8s.io"
DEFAULT_PROFILE = "minikube"
SSH_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class HostDirectory:
    """Where the data lives on the node, and how (or whether) run.py can prepare it."""

    path: str
    #: The minikube profile of the current context; None when it is not a minikube context.
    minikube_profile: str | None
    #: The minikube binary found on PATH; None when there is none.
    minikube: str | None

    def command(self) -> list[str]:
        """The command that prepares the directory, as a person would type it."""
        profile = self.minikube_profile
        flags = ["-p", profile] if profile and profile != DEFAULT_PROFILE else []
        return [
            "minikube",
            *flags,
            "ssh",
            "--",
            *("sudo", "install", "-d", "-o", str(POSTGRES_UID), "-g", str(POSTGRES_UID)),
            *("-m", "0700", self.path),
        ]

    def requirement(self) -> str:
        """The one line said on clusters run.py cannot prepare the directory on."""
        return (
            f"the database volume is the node directory {self.path} (hostPath): it must exist "
            f"on the node, owned by uid/gid {POSTGRES_UID} with mode 0700, before postgres "
            "starts (or deploy with --storage-class)"
        )


def minikube_profile(config_view: Obj) -> str | None:
    """The minikube profile behind the (minified) kubeconfig's context, or None."""
    contexts = config_view.get("contexts") or []
    if not contexts:
        return None
    context = contexts[0]
    name = str(context.get("name", ""))
    entries = [context.get("context") or {}]
    entries += [field(c, "cluster") for c in config_view.get("clusters") or []]
    marked = any(
        field(ext, "extension").get("provider") == MINIKUBE_PROVIDER
        for entry in entries
        for ext in entry.get("extensions") or []
    )
    return name if name == DEFAULT_PROFILE or marked else None


def locate(kubectl: Kubectl, path: str, environ: Mapping[str, str]) -> HostDirectory:
    """Reads the current context's kubeconfig entry (no request to the cluster)."""
    view = kubectl.get_json(["config", "view", "--minify"])
    profile = minikube_profile(view)
    binary = find_program("minikube", environ) if profile else None
    return HostDirectory(path, profile, binary)


def prepare(directory: HostDirectory, environ: Mapping[str, str]) -> str | None:
    """Runs the preparing command with the minikube binary found; None when it worked, else why."""
    if directory.minikube is None:
        return "no minikube binary on PATH"
    argv = [directory.minikube, *directory.command()[1:]]
    try:
        done = run_program(argv, env=environ, timeout=SSH_TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as exc:
        return str(exc)
    if done.returncode != 0:
        return summarize_stderr(done.stderr) or f"minikube exited with {done.returncode}"
    return None
