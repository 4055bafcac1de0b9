"""Container states that will not heal, told from the ones the kubelet gets past by itself."""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.objects import Obj, field, spec
from asky_scripts.readiness.accessors import container_statuses
from asky_scripts.readiness.images import PULL_FAILURES, image_pull_failure, load_image_hint
from asky_scripts.readiness.verdict import Failed

# (CreateContainerError is left out: containerd's "failed to reserve container name" under load
# is one, and the kubelet's retry gets past it.)
_IMMEDIATE_CONTAINER_FAILURES = (
    "RunContainerError",
    "InvalidImageName",
    "ContainerCannotRun",
    "StartError",
)


def _memory_limit(pod: Obj, container: str) -> str:
    pod_spec = spec(pod)
    for c in list(pod_spec.get("initContainers") or []) + list(pod_spec.get("containers") or []):
        if c.get("name") == container:
            return str(field(field(c, "resources"), "limits").get("memory", ""))
    return ""


def container_failure(
    pod: Obj, cs: Obj, pod_events: Sequence[Obj], on_minikube: bool
) -> Failed | None:
    """Container states that will not heal.  A container that exited once is not one: the
    kubelet restarts it at once, and only a second exit within its back-off is CrashLoopBackOff
    (kuberuntime_manager.go doBackOff), which is where a loop is told from a hiccup."""
    name = cs.get("name", "")
    state = field(cs, "state")
    waiting = field(state, "waiting")
    reason = waiting.get("reason", "")
    message = waiting.get("message", "")
    terminated = field(state, "terminated")
    if reason == "CrashLoopBackOff":
        return _crash_loop(pod, cs)
    if reason in PULL_FAILURES:
        return image_pull_failure(cs, reason, message, pod_events, on_minikube)
    if reason == "ErrImageNeverPull":
        image = cs.get("image", "")
        return Failed(
            f'ErrImageNeverPull — image "{image}" is not on the node and imagePullPolicy is Never',
            hint=load_image_hint(image, on_minikube),
        )
    if reason == "CreateContainerConfigError":
        if "failed to sync" in message and "cache" in message:
            return None  # the kubelet's informer is still warming up; passes by itself
        return Failed(
            f"CreateContainerConfigError — {message}",
            hint="create the Secret or ConfigMap it names, or fix the reference in the Deployment",
        )
    for finished_reason, text in (
        (reason, message),
        (terminated.get("reason", ""), terminated.get("message", "")),
    ):
        if finished_reason in _IMMEDIATE_CONTAINER_FAILURES:
            return Failed(f"{finished_reason} — container {name}: {text}".rstrip(": "))
    return None


def _crash_loop(pod: Obj, cs: Obj) -> Failed:
    name = cs.get("name", "")
    last = field(field(cs, "lastState"), "terminated")
    code = last.get("exitCode", "?")
    restarts = cs.get("restartCount", 0)
    if last.get("reason") == "OOMKilled":
        limit = _memory_limit(pod, name)
        return Failed(
            f"OOMKilled — container {name} ran out of memory"
            + (f" (limit {limit})" if limit else "")
            + f" again after a restart; CrashLoopBackOff, {restarts} restart(s)",
            hint="raise resources.limits.memory of the container",
        )
    why = f" ({last['reason']})" if last.get("reason") else ""
    return Failed(
        f"CrashLoopBackOff — container {name} exited with code {code}{why} again after a "
        f"restart, {restarts} restart(s); the kubelet now waits longer before each restart",
        hint="read the crashed run's log (logs --previous) shown above",
    )


def exited_once(pod: Obj) -> str:
    """A container that exited and that the kubelet is about to restart: worth saying, not
    failing, since a service that starts a moment before its dependency answers does this."""
    for cs in container_statuses(pod):
        finished = field(cs, "state").get("terminated")
        if finished:
            return (
                f"container {cs.get('name')} exited with code {finished.get('exitCode', '?')} "
                f"({finished.get('reason', 'Error')}); the kubelet restarts it"
            )
    return ""


def waiting_reasons(pod: Obj) -> list[str]:
    """The containers' waiting reasons (ContainerCreating, PodInitializing...), sorted."""
    return sorted(
        {
            str(field(field(cs, "state"), "waiting").get("reason"))
            for cs in container_statuses(pod)
            if field(field(cs, "state"), "waiting").get("reason")
        }
    )
