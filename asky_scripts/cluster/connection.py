"""Whether this kubectl, kubeconfig and context can be used at all, asked before anything else.

A missing kubeconfig makes kubectl silently try localhost:8080 and a program that is not kubectl
answers in ways nothing else expects, so both are said plainly first; an unsupported kubectl is
refused before any change.  Shared by run.py and terminate.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError, KubectlMissingError
from asky_scripts.cluster.versions import (
    OLDEST_KUBECTL_MINOR,
    SUPPORTED_RANGE,
    SUPPORTED_SKEW,
    minor_of,
)
from asky_scripts.errors import ClusterRefusedError, UsageError

_KUBECONFIG_HINT = (
    "point --kubeconfig or KUBECONFIG at your cluster's kubeconfig (on minikube: "
    "minikube update-context writes ~/.kube/config)"
)


def _unreadable(path: str) -> str | None:
    """Why kubectl could not read ``path`` as a kubeconfig, or None when it can."""
    if os.path.isdir(path):
        return "a directory, not a file"
    if not os.path.isfile(path):
        return "no such file"
    if not os.access(path, os.R_OK):
        return "not readable (check its permissions)"
    return None


def check_kubeconfig(explicit: str | None, environ: Mapping[str, str]) -> None:
    """A missing kubeconfig makes kubectl silently try localhost:8080; say what is wrong."""
    if explicit:
        problem = _unreadable(explicit)
        if problem:
            raise UsageError(f"--kubeconfig {explicit}: {problem}", hint=_KUBECONFIG_HINT)
        return
    paths = [p for p in environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    problems = [problem for problem in map(_unreadable, paths) if problem]
    if paths and len(problems) == len(paths):
        why = "; ".join(dict.fromkeys(problems))
        raise UsageError(f"KUBECONFIG={environ['KUBECONFIG']}: {why}", hint=_KUBECONFIG_HINT)


def current_context(kubectl: Kubectl, explicit: str | None) -> str:
    return explicit or kubectl.run(["config", "current-context"]).strip()


class UnsupportedKubectlError(ClusterRefusedError):
    """The kubectl is older than the range asky-scripts is tested with.  Refused before any
    change because an untested kubectl fails half way through a deploy, not at its start (as
    1.29-1.32 did on the Secrets' stream until that was fixed)."""


def versions(kubectl: Kubectl) -> tuple[str, str, str | None]:
    """Client and server versions, and a skew warning when they are too far apart.

    Also tells ``kubectl`` its own version, so its failures can name it.
    """
    not_kubectl = f"{kubectl.binary} does not answer `version -o json` like kubectl"
    hint = "point --kubectl or KUBECTL at a real kubectl binary"
    try:
        out = kubectl.run(["version", "-o", "json"])
    except KubectlError as exc:
        if type(exc) is not KubectlError:
            raise  # a kubectl that explained itself (unreachable, kubeconfig...)
        said = exc.message.splitlines()[0][:120]
        raise KubectlMissingError(
            (kubectl.binary, "version"), exc.returncode, f"{not_kubectl} (it said: {said})", hint
        ) from None
    try:
        parsed = json.loads(out)
        client, server = parsed["clientVersion"], parsed["serverVersion"]
    except (ValueError, KeyError, TypeError):
        raise KubectlMissingError((kubectl.binary, "version"), 0, not_kubectl, hint) from None
    warning = None
    client_minor, server_minor = minor_of(client), minor_of(server)
    client_version = str(client.get("gitVersion", "?"))
    if client_minor is not None and client_minor < OLDEST_KUBECTL_MINOR:
        raise UnsupportedKubectlError(
            f"{kubectl.binary} is kubectl {client_version}, older than the kubectl versions "
            f"asky-scripts supports and tests ({SUPPORTED_RANGE}); nothing was changed",
            hint="use a kubectl in that range, ideally your cluster's minor version: on "
            "minikube `minikube kubectl --` downloads the matching one; or install one from "
            "https://kubernetes.io/docs/tasks/tools/ and pass it with --kubectl",
        )
    kubectl.client_version = client_version
    # Within the range, kubectl's own skew policy still applies: one minor version either
    # side of the server is what kubectl itself promises to work with.
    if client_minor and server_minor and abs(client_minor - server_minor) > SUPPORTED_SKEW:
        warning = (
            f"kubectl {client_version} and server {server.get('gitVersion')} are more "
            f"than {SUPPORTED_SKEW} minor version apart; install a matching kubectl"
        )
    return client_version, str(server.get("gitVersion", "?")), warning
