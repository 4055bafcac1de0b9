"""When is an object really serving, and when will it never be: the readiness spec as functions.

Pure functions over the JSON the apiserver returns, so every rule is unit-tested on recorded
objects.  Each answers a Verdict: Ready, Waiting (with what it waits for) or Failed (with a
one-line cause and the likely fix).  Failing fast matters as much as waiting: a crash loop or a
missing image is reported within a tick instead of after the timeout, which is the complaint
users have about ``helm --wait`` and ``kubectl rollout status``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from asky_scripts.cluster.kinds import reports_observed_generation
from asky_scripts.model.capacity import never_fits

Obj = dict[str, Any]

UNSCHEDULABLE_GRACE_SECONDS = 15.0
#: run.py applied every ConfigMap and Secret in earlier stages, so a mount still naming a
#: missing one after this long is a mistake in the manifests, not a kubelet cache catching up.
MISSING_MOUNT_GRACE_SECONDS = 1.0
NO_ENDPOINTS_GRACE_SECONDS = 10.0

# How containerd (core/remotes/docker/resolver.go) and dockerd word a pull that will never work.
# Docker Hub answers an unknown repository exactly like a private one, so these two are one case.
_NO_REPOSITORY = (
    "repository does not exist",
    "pull access denied",
    "insufficient_scope",
)
_NO_TAG = (": not found", "manifest unknown", "manifest for ")
_REFUSED_CREDENTIALS = (
    "401 unauthorized",
    "authentication required",
    "no basic auth credentials",
    "403 forbidden",
)
# (CreateContainerError is left out: containerd's "failed to reserve container name" under load
# is one, and the kubelet's retry gets past it.)
_IMMEDIATE_CONTAINER_FAILURES = (
    "RunContainerError",
    "InvalidImageName",
    "ContainerCannotRun",
    "StartError",
)
_MOUNT_FAILURE = re.compile(
    r'MountVolume\.SetUp failed for volume "(?P<volume>[^"]*)" : (?P<error>.*)'
)
_MISSING_OBJECT = re.compile(r'(?P<kind>configmap|secret) "(?P<name>[^"]*)" not found')
_MISSING_KEY = re.compile(r"references non-existent (?P<kind>config|secret) key: (?P<key>\S+)")
_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")


@dataclass(frozen=True)
class Ready:
    detail: str = ""


@dataclass(frozen=True)
class Waiting:
    reason: str
    warning: str = ""


@dataclass(frozen=True)
class Failed:
    cause: str
    hint: str = ""


Verdict = Ready | Waiting | Failed


class Stopwatch:
    """How long a condition has been seen, for rules like 'Unschedulable for more than 15 s'.

    Measured on our clock from the first tick that saw it, so a skewed cluster clock cannot make
    us fail early; a condition that goes away and comes back starts again.
    """

    def __init__(self) -> None:
        self._first_seen: dict[str, float] = {}
        self._seen_now: set[str] = set()

    def seen_for(self, key: str, now: float) -> float:
        self._seen_now.add(key)
        return now - self._first_seen.setdefault(key, now)

    def end_tick(self) -> None:
        """Forgets the conditions not seen during the tick that just ended."""
        for key in set(self._first_seen) - self._seen_now:
            del self._first_seen[key]
        self._seen_now.clear()


def _meta(obj: Obj) -> Obj:
    meta: Obj = obj.get("metadata") or {}
    return meta


def _status(obj: Obj) -> Obj:
    status: Obj = obj.get("status") or {}
    return status


def name_of(obj: Obj) -> str:
    return str(_meta(obj).get("name", ""))


def uid_of(obj: Obj) -> str:
    return str(_meta(obj).get("uid", ""))


def condition(obj: Obj, kind: str) -> Obj | None:
    for cond in _status(obj).get("conditions") or []:
        if cond.get("type") == kind:
            found: Obj = cond
            return found
    return None


def lifecycle_gate(obj: Obj) -> Verdict | None:
    """The checks every kind shares: being deleted, or a spec its controller has not seen yet."""
    meta = _meta(obj)
    if meta.get("deletionTimestamp"):
        return Waiting("Terminating")
    if reports_observed_generation(str(obj.get("kind", ""))):
        generation = int(meta.get("generation") or 0)
        observed = int(_status(obj).get("observedGeneration") or 0)
        if generation > observed:
            return Waiting("its controller has not observed the latest change yet")
    return None


def exists_verdict(obj: Obj) -> Verdict:
    """Objects with no status to wait for (ConfigMaps, Secrets, policies): present is ready."""
    return lifecycle_gate(obj) or Ready("present")


def namespace_verdict(namespace: Obj) -> Verdict:
    if (
        _meta(namespace).get("deletionTimestamp")
        or _status(namespace).get("phase") == "Terminating"
    ):
        return Failed(
            f"namespace {name_of(namespace)} is Terminating",
            hint="wait until it is gone (terminate.py waits and says what holds it), "
            "then run again",
        )
    phase = _status(namespace).get("phase")
    return Ready("Active") if phase == "Active" else Waiting(f"phase {phase or 'unknown'}")


def volume_verdict(volume: Obj, claim_namespace: str, claim_name: str) -> Verdict:
    gate = lifecycle_gate(volume)
    if gate:
        return gate
    name = name_of(volume)
    phase = _status(volume).get("phase")
    ref = (volume.get("spec") or {}).get("claimRef") or {}
    ours = ref.get("namespace") == claim_namespace and ref.get("name") == claim_name
    if phase == "Available":
        return Ready("Available")
    if phase == "Bound":
        if ours:
            return Ready(f"Bound to {claim_namespace}/{claim_name}")
        return Failed(
            f"volume {name} is bound to another claim, {ref.get('namespace')}/{ref.get('name')}",
            hint="it belongs to someone else; choose another --namespace or remove that claim",
        )
    if phase == "Released" and not ref.get("uid"):
        return Waiting("Released, becoming Available for its claim")
    if phase == "Released":
        return Failed(
            f"volume {name} was released by a deleted claim and keeps its old claimRef",
            hint="run.py re-binds only its own released volume; for this one, check "
            f"its data, then: kubectl patch pv {name} --type json "
            '-p \'[{"op":"remove","path":"/spec/claimRef/uid"}]\'',
        )
    if phase == "Failed":
        return Failed(f"volume {name} failed: {_status(volume).get('message', 'no message')}")
    return Waiting(f"phase {phase or 'unknown'}")


def claim_verdict(claim: Obj, storage_class: Obj | None, events: Sequence[Obj]) -> Verdict:
    gate = lifecycle_gate(claim)
    if gate:
        return gate
    name = name_of(claim)
    phase = _status(claim).get("phase")
    volume = (claim.get("spec") or {}).get("volumeName", "")
    if phase == "Bound":
        return Ready(f"Bound to {volume}")
    if phase == "Lost":
        return Failed(
            f"claim {name} lost its volume {volume}",
            hint="the PersistentVolume was deleted; the data on it is gone from the cluster",
        )
    if storage_class and storage_class.get("volumeBindingMode") == "WaitForFirstConsumer":
        return Ready(f"Pending until its first pod (class {name_of(storage_class)})")
    failed = latest_event(events, claim, reasons=("ProvisioningFailed",))
    if failed:
        return Failed(
            f"claim {name}: ProvisioningFailed — {failed.get('message', '')}",
            hint="check the StorageClass given with --storage-class and its provisioner",
        )
    return Waiting(f"phase {phase or 'unknown'}")


def events_about(events: Iterable[Obj], obj: Obj) -> list[Obj]:
    """The events whose involvedObject (core/v1) or regarding (events.k8s.io) is ``obj``."""
    uid, name = uid_of(obj), name_of(obj)
    found = []
    for event in events:
        ref = event.get("involvedObject") or event.get("regarding") or {}
        if (ref.get("uid") and ref.get("uid") == uid) or (
            not ref.get("uid") and ref.get("name") == name and ref.get("kind") == obj.get("kind")
        ):
            found.append(event)
    return found


def event_time(event: Obj) -> str:
    return str(
        event.get("lastTimestamp")
        or (event.get("series") or {}).get("lastObservedTime")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or _meta(event).get("creationTimestamp")
        or ""
    )


def event_count(event: Obj) -> int:
    return int((event.get("series") or {}).get("count") or event.get("count") or 1)


def event_message(event: Obj) -> str:
    return str(event.get("message") or event.get("note") or "")


def latest_event(events: Iterable[Obj], obj: Obj, reasons: Sequence[str]) -> Obj | None:
    matching = [e for e in events_about(events, obj) if e.get("reason") in reasons]
    return max(matching, key=event_time) if matching else None


def _all_container_statuses(pod: Obj) -> list[Obj]:
    status = _status(pod)
    return list(status.get("initContainerStatuses") or []) + list(
        status.get("containerStatuses") or []
    )


def _memory_limit(pod: Obj, container: str) -> str:
    spec = pod.get("spec") or {}
    for c in list(spec.get("initContainers") or []) + list(spec.get("containers") or []):
        if c.get("name") == container:
            return str(((c.get("resources") or {}).get("limits") or {}).get("memory", ""))
    return ""


def pod_verdict(
    pod: Obj,
    events: Sequence[Obj],
    stopwatch: Stopwatch,
    now: float,
    nodes: Sequence[Obj] = (),
) -> Verdict:
    """A pod of the newest ReplicaSet: ready, starting, or stuck in a way that will not heal.

    ``nodes`` (their allocatable) lets a pod too big for every node fail at once instead of
    after the Unschedulable grace; without them that rule is simply skipped.
    """
    status = _status(pod)
    if status.get("reason") == "Evicted":
        return Failed(
            f"Evicted — {status.get('message', '')}",
            hint="the node ran short of a resource; free it or lower the pod's requests",
        )
    scheduled = condition(pod, "PodScheduled")
    if (
        scheduled
        and scheduled.get("status") == "False"
        and scheduled.get("reason") == "Unschedulable"
    ):
        return _unschedulable_verdict(
            pod, str(scheduled.get("message", "")), events, nodes, now, stopwatch
        )
    pod_events = events_about(events, pod)
    minikube = on_minikube(nodes)
    for cs in _all_container_statuses(pod):
        failed = _container_failure(pod, cs, pod_events, minikube)
        if failed:
            return failed
    missing_mount = _missing_mount(pod, pod_events)
    if missing_mount:
        waited = stopwatch.seen_for(f"{uid_of(pod)}/FailedMount", now)
        if waited >= MISSING_MOUNT_GRACE_SECONDS:
            return Failed(
                explain_mount(pod, missing_mount),
                hint="add the missing key or object to the manifests under config-maps/ (or the "
                "generated Secrets), or fix the reference in the Deployment's volumes",
            )
        return Waiting(f"ContainerCreating: {missing_mount}")
    ready = condition(pod, "Ready")
    if ready and ready.get("status") == "True":
        return Ready("Ready")
    exited = _exited_once(pod)
    if exited:
        return Waiting(exited, warning=exited)
    cause = probe_failure(pod, pod_events) or pull_retry_reason(pod, pod_events)
    if cause:
        return Waiting(cause)
    waiting_reasons = sorted(
        {
            str((cs.get("state") or {}).get("waiting", {}).get("reason"))
            for cs in _all_container_statuses(pod)
            if (cs.get("state") or {}).get("waiting", {}).get("reason")
        }
    )
    return Waiting(", ".join(waiting_reasons) or str(status.get("phase") or "Pending"))


def _exited_once(pod: Obj) -> str:
    """A container that exited and that the kubelet is about to restart: worth saying, not
    failing, since a service that starts a moment before its dependency answers does this."""
    for cs in _all_container_statuses(pod):
        finished = (cs.get("state") or {}).get("terminated")
        if finished:
            return (
                f"container {cs.get('name')} exited with code {finished.get('exitCode', '?')} "
                f"({finished.get('reason', 'Error')}); the kubelet restarts it"
            )
    return ""


def _unschedulable_verdict(
    pod: Obj,
    message: str,
    events: Sequence[Obj],
    nodes: Sequence[Obj],
    now: float,
    stopwatch: Stopwatch,
) -> Verdict:
    """Busy nodes may free up (so wait the grace); a pod bigger than every node never fits,
    unless a cluster autoscaler is already adding a node for it."""
    too_big = never_fits(pod, nodes)
    scaling_up = latest_event(events, pod, reasons=("TriggeredScaleUp",))
    if too_big and f"Insufficient {too_big.resource}" in message and not scaling_up:
        return Failed(
            f"Unschedulable — {message.rstrip('. ')}; {too_big}",
            hint="lower the container's resources.requests (and limits) in the Deployment, "
            "or add a bigger node",
        )
    waited = stopwatch.seen_for(f"{uid_of(pod)}/Unschedulable", now)
    if waited > UNSCHEDULABLE_GRACE_SECONDS:
        return Failed(
            f"Unschedulable — {message}",
            hint="add capacity, or lower the Deployment's resources.requests or --replicas",
        )
    return Waiting(f"Unschedulable for {waited:.0f}s: {message}")


def _missing_mount(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """The kubelet's latest FailedMount naming a missing ConfigMap, Secret or key, while the
    pod has not started (an old event of a pod that since mounted says nothing)."""
    started = any(
        "running" in (cs.get("state") or {}) or "terminated" in (cs.get("state") or {})
        for cs in _all_container_statuses(pod)
    )
    if started:
        return ""
    failed = [
        e
        for e in pod_events
        if e.get("reason") == "FailedMount"
        and (_MISSING_OBJECT.search(event_message(e)) or _MISSING_KEY.search(event_message(e)))
    ]
    return event_message(max(failed, key=event_time)) if failed else ""


def explain_mount(pod: Obj, message: str) -> str:
    """A FailedMount message as the object to fix: which Secret or ConfigMap (or which of its
    keys) is missing, and the volume that mounts it.  The kubelet's key error does not name the
    object; the pod's volume spec does."""
    mount = _MOUNT_FAILURE.search(message)
    if not mount:
        return message
    volume_name, error = mount.group("volume"), mount.group("error")
    kind_name = {"configmap": "ConfigMap", "secret": "Secret", "config": "ConfigMap"}
    missing = [
        f"{kind_name[m.group('kind')]} {m.group('name')} does not exist"
        for m in _MISSING_OBJECT.finditer(error)
    ]
    for m in _MISSING_KEY.finditer(error):
        kind = kind_name[m.group("kind")]
        owners = _sources_with_key(pod, volume_name, kind, m.group("key"))
        where = f"{kind} {' or '.join(owners)}" if owners else f"the {kind}"
        missing.append(f"{where} has no key {m.group('key')}")
    if not missing:
        return message
    return f'{"; ".join(missing)}, needed by volume "{volume_name}" (FailedMount)'


def _sources_with_key(pod: Obj, volume_name: str, kind: str, key: str) -> list[str]:
    """The Secrets or ConfigMaps a volume (plain or projected) takes ``key`` from."""
    field = "secret" if kind == "Secret" else "configMap"
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        if volume.get("name") != volume_name:
            continue
        sources = [volume.get(field)] + [
            src.get(field) for src in (volume.get("projected") or {}).get("sources") or []
        ]
        return [
            str(src.get("secretName") or src.get("name"))
            for src in sources
            if src and any(item.get("key") == key for item in src.get("items") or [])
        ]
    return []


def _container_failure(
    pod: Obj, cs: Obj, pod_events: Sequence[Obj], on_minikube: bool
) -> Failed | None:
    """Container states that will not heal.  A container that exited once is not one: the
    kubelet restarts it at once, and only a second exit within its back-off is CrashLoopBackOff
    (kuberuntime_manager.go doBackOff), which is where a loop is told from a hiccup."""
    name = cs.get("name", "")
    state = cs.get("state") or {}
    waiting = state.get("waiting") or {}
    reason = waiting.get("reason", "")
    message = waiting.get("message", "")
    last = (cs.get("lastState") or {}).get("terminated") or {}
    terminated = state.get("terminated") or {}
    if reason == "CrashLoopBackOff":
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
    if reason in ("ErrImagePull", "ImagePullBackOff"):
        return _image_pull_failure(cs, reason, message, pod_events, on_minikube)
    if reason == "ErrImageNeverPull":
        image = cs.get("image", "")
        return Failed(
            f'ErrImageNeverPull — image "{image}" is not on the node and imagePullPolicy is Never',
            hint=_load_image_hint(image, on_minikube),
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


def on_minikube(nodes: Sequence[Obj]) -> bool:
    """minikube labels its nodes minikube.k8s.io/name (and names the first one minikube)."""
    return any("minikube.k8s.io/name" in (_meta(node).get("labels") or {}) for node in nodes)


def _load_image_hint(image: str, minikube: bool) -> str:
    if minikube:
        return (
            f"a locally built image must be put into minikube: minikube image load {image} "
            f"(or build it there: minikube image build -t {image} DIR); otherwise fix the "
            "name with --set-image SVC=IMAGE"
        )
    return (
        "push the image to a registry the nodes can pull from, or fix the name with "
        "--set-image SVC=IMAGE (on minikube: minikube image load IMAGE)"
    )


def _image_pull_failure(
    cs: Obj, reason: str, message: str, pod_events: Sequence[Obj], minikube: bool
) -> Failed | None:
    """A pull that will never work fails at once; anything else (a registry timeout, a 5xx,
    an unknown error) is left to the kubelet's retries (10 s, doubling to 5 min) until the
    stage timeout, whose report then names it."""
    image = cs.get("image", "")
    texts = [message.lower()] + [
        event_message(e).lower()
        for e in pod_events
        if e.get("reason") == "Failed" and event_message(e).startswith("Failed to pull image")
    ]

    def said(markers: tuple[str, ...]) -> bool:
        return any(marker in text for text in texts for marker in markers)

    if said(_NO_REPOSITORY):
        return Failed(
            f'{reason} — image "{image}" is in no registry the node can reach: the registry '
            "says the repository does not exist (or needs credentials)",
            hint=_load_image_hint(image, minikube) + "; for a private registry, add an "
            "imagePullSecret",
        )
    if said(_REFUSED_CREDENTIALS):
        return Failed(
            f'{reason} — the registry refused the credentials for image "{image}"',
            hint="add or fix the imagePullSecret for its registry",
        )
    if said(_NO_TAG):
        return Failed(
            f'{reason} — image "{image}" not found: the registry has no such tag',
            hint="check the tag (--set-image SVC=IMAGE)"
            + (f"; a local build goes in with: minikube image load {image}" if minikube else ""),
        )
    return None


def pull_retry_reason(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """What a pod whose image pull keeps failing for a passing reason is waiting on."""
    for cs in _all_container_statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
            failures = [
                e
                for e in pod_events
                if e.get("reason") == "Failed"
                and event_message(e).startswith("Failed to pull image")
            ]
            latest = event_message(max(failures, key=event_time)) if failures else ""
            count = sum(event_count(e) for e in failures)
            detail = latest or waiting.get("message", "")
            return f"{waiting['reason']}: {detail}" + (f" ({count} attempts)" if count else "")
    return ""


def probe_failure(pod: Obj, pod_events: Sequence[Obj]) -> str:
    """The latest Unhealthy event of a running pod that is not Ready: the probe and its output."""
    if (condition(pod, "Ready") or {}).get("status") == "True":
        return ""
    unhealthy = [e for e in pod_events if e.get("reason") == "Unhealthy"]
    if not unhealthy:
        return ""
    latest = max(unhealthy, key=event_time)
    same = sum(event_count(e) for e in unhealthy if event_message(e) == event_message(latest))
    return event_message(latest).rstrip(": ") + (f" (x{same})" if same > 1 else "")


def newest_replicaset(deployment: Obj, replicasets: Iterable[Obj]) -> Obj | None:
    """The ReplicaSet of the Deployment's current revision: only its pods say anything new."""
    uid = uid_of(deployment)
    owned = [
        rs
        for rs in replicasets
        if any(ref.get("uid") == uid for ref in _meta(rs).get("ownerReferences") or [])
    ]

    def revision(rs: Obj) -> int:
        annotations = _meta(rs).get("annotations") or {}
        return int(annotations.get("deployment.kubernetes.io/revision") or 0)

    return max(owned, key=revision) if owned else None


def pods_of(replicaset: Obj, pods: Iterable[Obj]) -> list[Obj]:
    uid = uid_of(replicaset)
    return [
        pod
        for pod in pods
        if any(ref.get("uid") == uid for ref in _meta(pod).get("ownerReferences") or [])
    ]


def deployment_verdict(
    deployment: Obj,
    replicasets: Sequence[Obj],
    pods: Sequence[Obj],
    events: Sequence[Obj],
    *,
    stopwatch: Stopwatch,
    now: float,
    nodes: Sequence[Obj] = (),
) -> Verdict:
    gate = lifecycle_gate(deployment)
    if gate:
        return gate
    spec = deployment.get("spec") or {}
    status = _status(deployment)
    wanted = int(spec.get("replicas", 1))
    rs = newest_replicaset(deployment, replicasets)
    current_pods = pods_of(rs, pods) if rs else []
    pod_waits: list[str] = []
    warnings: list[str] = []
    for pod in sorted(current_pods, key=name_of):
        verdict = pod_verdict(pod, events, stopwatch, now, nodes)
        if isinstance(verdict, Failed):
            return verdict  # the pod is named in the failure report, the cause stays one line
        if isinstance(verdict, Waiting):
            pod_waits.append(verdict.reason)
            if verdict.warning:
                warnings.append(f"pod {name_of(pod)}: {verdict.warning}")
    progressing = condition(deployment, "Progressing")
    if progressing and (
        progressing.get("reason") == "ProgressDeadlineExceeded"
        or progressing.get("status") == "False"
    ):
        return Failed(
            f"rollout stalled: {progressing.get('message', progressing.get('reason', ''))}",
            hint="see the pod states and events below",
        )
    replica_failure = condition(deployment, "ReplicaFailure")
    if replica_failure and replica_failure.get("status") == "True":
        return Failed(
            f"cannot create pods: {replica_failure.get('message', '')}",
            hint="a quota, LimitRange or admission policy refuses the pods",
        )
    if wanted == 0:
        return Ready("scaled to 0")
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    ready = int(status.get("readyReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available_cond = condition(deployment, "Available") or {}
    if (
        updated == wanted == total
        and available >= updated
        and ready >= wanted
        and available_cond.get("status") == "True"
        and (progressing or {}).get("reason") == "NewReplicaSetAvailable"
    ):
        return Ready(f"{ready}/{wanted} ready")
    reason = f"{ready}/{wanted} ready"
    if ready >= wanted and available < wanted:
        min_ready = int(spec.get("minReadySeconds") or 0)
        reason += f", {available} available" + (
            f" (a pod counts as available once Ready for {min_ready}s, minReadySeconds)"
            if min_ready
            else ""
        )
    # The first pod's cause, once: the pods of one template fail alike, at other addresses.
    causes: dict[str, str] = {}
    for cause in pod_waits:
        causes.setdefault(_ADDRESS.sub("ADDRESS", cause), cause)
    if causes:
        first = next(iter(causes.values()))
        reason += f": {first}" + (f" (+{len(causes) - 1} more)" if len(causes) > 1 else "")
    return Waiting(reason, "; ".join(dict.fromkeys(warnings)))


def service_verdict(
    service: Obj,
    endpoint_slices: Iterable[Obj],
    *,
    expect_endpoints: bool,
    workload_ready: bool,
    stopwatch: Stopwatch,
    now: float,
) -> Verdict:
    gate = lifecycle_gate(service)
    if gate:
        return gate
    spec = service.get("spec") or {}
    name = name_of(service)
    if not spec.get("clusterIP"):
        return Waiting("no cluster IP yet")
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        missing = [str(p.get("port")) for p in spec.get("ports") or [] if not p.get("nodePort")]
        if missing:
            return Waiting(f"no nodePort yet for port {', '.join(missing)}")
    detail = f"{spec.get('type', 'ClusterIP')} {spec['clusterIP']}"
    if spec.get("selector") and expect_endpoints:
        count = ready_endpoints(name, endpoint_slices)
        if count == 0:
            if not workload_ready:
                return Waiting("no ready endpoint yet")
            waited = stopwatch.seen_for(f"{uid_of(service)}/no-endpoints", now)
            if waited > NO_ENDPOINTS_GRACE_SECONDS:
                return Failed(
                    f"service {name} has no ready endpoint although its pods are ready",
                    hint=f"its selector {spec['selector']} matches none of them: compare it with "
                    "the pod template labels of the Deployment",
                )
            return Waiting("no ready endpoint yet")
        detail += f", {count} ready endpoint(s)"
    if spec.get("type") == "LoadBalancer":
        ingress = (_status(service).get("loadBalancer") or {}).get("ingress")
        if not ingress:
            detail += " (external address pending; on minikube run `minikube tunnel`)"
    return Ready(detail)


def ready_endpoints(service_name: str, endpoint_slices: Iterable[Obj]) -> int:
    """Ready endpoints of a Service; a missing ``ready`` condition means ready (API contract)."""
    count = 0
    for eps in endpoint_slices:
        if (_meta(eps).get("labels") or {}).get("kubernetes.io/service-name") != service_name:
            continue
        for endpoint in eps.get("endpoints") or []:
            if (endpoint.get("conditions") or {}).get("ready") is not False:
                count += 1
    return count
