"""The scheduler and the kubelet of the single node: pods go Pending → Running → Ready.

Each pod follows the scenario's script for its images (pull delay or failure, start and
readiness delays, crashes, logs) and shows every step the way a real node reports it: the
container ``waiting`` reasons and messages, ``lastState.terminated`` after a crash, back-offs
that double, the conditions, and the events `kubectl describe` lists.  Clients that diagnose
failures (run.py does) can therefore be tested on the exact texts they will meet.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any

from kubesim.controllers.base import Context, set_condition, sooner
from kubesim.quantity import parse_quantity
from kubesim.resources import by_plural
from kubesim.scenario import POSTGRES_LOG, POSTGRES_RESTART_LOG, ImageBehaviour
from kubesim.store import editable, timestamp

JSON = dict[str, Any]

PODS = by_plural("pods")
PVCS = by_plural("persistentvolumeclaims")
PVS = by_plural("persistentvolumes")
CONFIGMAPS = by_plural("configmaps")
SECRETS = by_plural("secrets")
NODES = by_plural("nodes")

# pkg/kubelet/kubelet.go: backOffPeriod = 10 s and MaxContainerBackOff = 300 s, for both the
# crash back-off (kuberuntime_manager.go doBackOff) and the image pull back-off
# (images/image_manager.go), through client-go's flowcontrol.Backoff.
BACKOFF_START = 10.0
BACKOFF_CAP = 300.0
# pkg/kubelet/kubelet.go genericPlegRelistPeriod: the kubelet notices an exited container on its
# next relist, up to a second later, and only then syncs the pod (restart or back-off).
PLEG_RELIST = 1.0
# How often a repeating warning (FailedMount, FailedScheduling) is recorded again.
WARNING_PERIOD = 10.0
PREEMPTION_NOT_HELPFUL = (
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)


def _backoff(count: int) -> float:
    return float(min(BACKOFF_START * 2 ** max(count - 1, 0), BACKOFF_CAP))


@dataclass
class Backoff:
    """client-go's flowcontrol.Backoff for one key: ``next`` and ``in_backoff_since``.

    Next: a missing or expired entry (its last update more than 2 x the cap before the event)
    starts at 10 s, otherwise doubles up to the cap.  IsInBackOffSince: true while less than
    the current back-off has passed since the event (the container's finishedAt).
    """

    delay: float = 0.0
    updated: float | None = None

    def _expired(self, event: float, cap: float) -> bool:
        return self.updated is None or event - self.updated > 2 * cap

    def next(self, event: float, now: float, start: float, cap: float) -> None:
        self.delay = start if self._expired(event, cap) else min(2 * self.delay, cap)
        self.updated = now

    def in_backoff_since(self, event: float, now: float, cap: float) -> bool:
        return not self._expired(now, cap) and now - event < self.delay


def _registry_name(image: str) -> str:
    """``asky-auth:1.0`` → ``docker.io/library/asky-auth:1.0``, as containerd names it."""
    first = image.split("/", maxsplit=1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ContainerRun:
    """Where one container is in its script."""

    name: str
    image: str
    behaviour: ImageBehaviour
    # pull, pulling, pull-error, pull-backoff, create, starting, running, exited, crash-backoff
    stage: str = "pull"
    due: float = 0.0
    pull_failures: int = 0
    # Exits so far (what the scenario's crash.times counts) and the restartCount the kubelet
    # reports: the number of the current container instance, which moves on restart.
    crashes: int = 0
    restarts: int = 0
    crash_backoff: Backoff = field(default_factory=Backoff)
    exited_at: float = 0.0
    started_at: str = ""
    running_since: float = 0.0
    # When the startup probe (or, without one, the readiness probe) first passed.
    started_probe_at: float | None = None
    waiting: tuple[str, str] = ("ContainerCreating", "")
    # The exited instance while the kubelet has not yet restarted it or backed off.
    terminated: JSON | None = None
    last_terminated: JSON | None = None
    ready: bool = False
    container_id: str = ""
    logs: list[str] = field(default_factory=list)
    previous_logs: list[str] | None = None


@dataclass
class PodRun:
    containers: dict[str, ContainerRun]
    scheduled: bool = False
    volumes_ready: bool = False
    pod_ip: str = ""
    start_time: str = ""
    stopping_since: float | None = None
    warned: dict[str, float] = field(default_factory=dict)


POSTGRES_DEFAULT_PGDATA = "/var/lib/postgresql/data"


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


class Kubelet:
    """Schedules pods onto the node and runs their containers by the scenario's script."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.runs: dict[str, PodRun] = {}
        self._node_images: set[str] = {b.match for b in ctx.scenario.images if b.present}
        self._volume_data: set[str] = set()
        self._ips = (str(ipaddress.IPv4Address("10.244.0.0") + n) for n in range(2, 65000))

    # logs, for the API -----------------------------------------------------------------------

    def container_logs(self, pod: JSON, container: str, previous: bool) -> list[str] | None:
        run = self.runs.get(pod["metadata"]["uid"])
        if run is None or container not in run.containers:
            return None
        state = run.containers[container]
        if previous:
            return state.previous_logs
        # A container waiting to restart still answers with the log of its last run.
        return state.previous_logs if state.stage == "crash-backoff" else state.logs

    def container_state(self, pod: JSON, container: str) -> ContainerRun | None:
        run = self.runs.get(pod["metadata"]["uid"])
        return None if run is None else run.containers.get(container)

    def forget_volume(self, path: str) -> None:
        """A deleted dynamically provisioned volume takes its data with it."""
        self._volume_data = {d for d in self._volume_data if not _within(d, path)}

    def has_data(self, path: str) -> bool:
        """Whether a database lives at ``path`` or in a directory below it."""
        return any(_within(d, path) for d in self._volume_data)

    # reconcile ---------------------------------------------------------------------------------

    def reconcile(self) -> float | None:
        now = time.monotonic()
        next_due: float | None = None
        live: set[str] = set()
        for pod in self.ctx.store.all(PODS):
            uid = pod["metadata"]["uid"]
            live.add(uid)
            run = self.runs.get(uid)
            if run is None:
                run = self.runs[uid] = PodRun(
                    {
                        c["name"]: ContainerRun(
                            c["name"],
                            c.get("image", ""),
                            self.ctx.scenario.image(c.get("image", "")),
                        )
                        for c in pod.get("spec", {}).get("containers", [])
                    }
                )
            next_due = sooner(next_due, self._step(pod, run, now))
        for uid in set(self.runs) - live:
            del self.runs[uid]
        return None if next_due is None else max(next_due - time.monotonic(), 0.0)

    def _warn(
        self,
        run: PodRun,
        pod: JSON,
        reason: str,
        message: str,
        component: str,
        now: float,
        field_path: str = "",
        period: float | None = None,
    ) -> None:
        key = f"{reason}:{field_path}:{message}"
        last = run.warned.get(key)
        every = self.ctx.scenario.seconds(WARNING_PERIOD) if period is None else period
        if last is None or now - last >= every:
            run.warned[key] = now
            self.ctx.events.record(pod, "Warning", reason, message, component, field_path)

    def _step(self, pod: JSON, run: PodRun, now: float) -> float | None:
        meta = pod["metadata"]
        if meta.get("deletionTimestamp"):
            return self._stop(pod, run, now)
        if not run.scheduled:
            problem = self._unschedulable(pod)
            if problem:
                self._set_status(pod, run, problem)
                self._warn(run, pod, "FailedScheduling", problem, "default-scheduler", now)
                return now + self.ctx.scenario.seconds(1.0)
            self._bind(pod, run)
            pod = self.ctx.store.get(PODS, meta["namespace"], meta["name"]) or pod
        if not run.volumes_ready:
            missing = self._missing_volume(pod)
            if missing:
                self._warn(run, pod, "FailedMount", missing, "kubelet", now)
                self._set_status(pod, run, None)
                return now + self.ctx.scenario.seconds(1.0)
            run.volumes_ready = True
            run.pod_ip = next(self._ips)
        due: float | None = None
        for container in pod["spec"].get("containers", []):
            state = run.containers.get(container["name"])
            if state is None:
                continue
            due = sooner(due, self._advance(pod, container, state, now))
        self._set_status(pod, run, None)
        return due

    # scheduling --------------------------------------------------------------------------------

    def _unschedulable(self, pod: JSON) -> str:
        namespace = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes", []) or []:
            claim = volume.get("persistentVolumeClaim", {}).get("claimName")
            if not claim:
                continue
            pvc = self.ctx.store.get(PVCS, namespace, claim)
            if pvc is None:
                return (
                    f'0/1 nodes are available: persistentvolumeclaim "{claim}" not found. '
                    + PREEMPTION_NOT_HELPFUL
                )
            if pvc["metadata"].get("deletionTimestamp"):
                return (
                    f'0/1 nodes are available: persistentvolumeclaim "{claim}" is being '
                    "deleted. " + PREEMPTION_NOT_HELPFUL
                )
            if pvc.get("status", {}).get("phase") != "Bound":
                return (
                    "0/1 nodes are available: pod has unbound immediate "
                    "PersistentVolumeClaims. " + PREEMPTION_NOT_HELPFUL
                )
        short = self._insufficient(pod)
        if short:
            return (
                f"0/1 nodes are available: 1 Insufficient {short}. preemption: 0/1 nodes "
                "are available: 1 No preemption victims found for incoming pod."
            )
        return ""

    def _insufficient(self, pod: JSON) -> str:
        node = self.ctx.scenario.node
        capacity = {"cpu": parse_quantity(node.cpu), "memory": parse_quantity(node.memory)}
        used = {"cpu": 0.0, "memory": 0.0}
        for other in self.ctx.store.all(PODS):
            run = self.runs.get(other["metadata"]["uid"])
            if run is not None and run.scheduled and other is not pod:
                for resource, amount in _requests(other).items():
                    used[resource] += amount
        for resource, amount in _requests(pod).items():
            if used[resource] + amount > capacity[resource]:
                return resource
        return ""

    def _bind(self, pod: JSON, run: PodRun) -> None:
        run.scheduled = True
        bound = editable(pod)
        bound["spec"]["nodeName"] = self.ctx.scenario.node.name
        self.ctx.store.replace(PODS, bound)
        meta = pod["metadata"]
        self.ctx.events.record(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to "
            f"{self.ctx.scenario.node.name}",
            "default-scheduler",
        )
        run.start_time = timestamp()

    def _missing_volume(self, pod: JSON) -> str:
        """The kubelet's FailedMount message for the first volume it cannot set up, or "".

        pkg/kubelet/volumemanager/reconciler: "MountVolume.SetUp failed for volume "V" : <err>".
        pkg/volume/secret and configmap: a missing object is the API's NotFound text (secret "x"
        not found), skipped when the volume is ``optional``; a missing item key is "references
        non-existent secret key: K" / "configmap references non-existent config key: K"
        (MakePayload), skipped when optional.  pkg/volume/projected collectData applies the
        same rules per source and joins several errors as utilerrors.NewAggregate does.
        """
        for volume in pod["spec"].get("volumes", []) or []:
            errors: list[str] = []
            if "projected" in volume:
                for source in volume["projected"].get("sources", []) or []:
                    for kind in ("secret", "configMap"):
                        if kind in source:
                            errors += self._volume_source_errors(pod, kind, source[kind])
            for kind in ("secret", "configMap"):
                if kind in volume:
                    errors += self._volume_source_errors(pod, kind, volume[kind])
            if errors:
                joined = errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"
                return f'MountVolume.SetUp failed for volume "{volume["name"]}" : {joined}'
        return ""

    def _volume_source_errors(self, pod: JSON, kind: str, spec: JSON) -> list[str]:
        optional = bool(spec.get("optional"))
        name = str(
            spec.get("secretName" if kind == "secret" and "secretName" in spec else "name", "")
        )
        resource, noun = (SECRETS, "secret") if kind == "secret" else (CONFIGMAPS, "configmap")
        found = self.ctx.store.get(resource, pod["metadata"]["namespace"], name)
        if found is None:
            return [] if optional else [f'{noun} "{name}" not found']
        data = {**found.get("data", {}), **found.get("binaryData", {})}
        for item in spec.get("items", []) or []:
            key = item.get("key")
            if key not in data and not optional:
                if kind == "secret":
                    return [f"references non-existent secret key: {key}"]
                return [f"configmap references non-existent config key: {key}"]
        return []

    # containers --------------------------------------------------------------------------------

    def _config_error(self, pod: JSON, container: JSON) -> str:
        namespace = pod["metadata"]["namespace"]
        for env in container.get("env", []) or []:
            source = env.get("valueFrom") or {}
            for ref_field, resource, kind in (
                ("configMapKeyRef", CONFIGMAPS, "ConfigMap"),
                ("secretKeyRef", SECRETS, "Secret"),
            ):
                ref = source.get(ref_field)
                if ref is None or ref.get("optional"):
                    continue
                found = self.ctx.store.get(resource, namespace, ref.get("name", ""))
                if found is None:
                    return f'{kind.lower()} "{ref.get("name", "")}" not found'
                if ref.get("key") not in {**found.get("data", {}), **found.get("stringData", {})}:
                    return (
                        f"couldn't find key {ref.get('key')} in {kind} "
                        f"{namespace}/{ref.get('name')}"
                    )
        for env_from in container.get("envFrom", []) or []:
            for ref_field, resource, noun in (
                ("configMapRef", CONFIGMAPS, "configmap"),
                ("secretRef", SECRETS, "secret"),
            ):
                ref = env_from.get(ref_field)
                if (
                    ref
                    and not ref.get("optional")
                    and self.ctx.store.get(resource, namespace, ref.get("name", "")) is None
                ):
                    return f'{noun} "{ref.get("name", "")}" not found'
        return ""

    def _advance(self, pod: JSON, container: JSON, state: ContainerRun, now: float) -> float | None:
        """Move one container along its script; returns when it next needs attention."""
        scenario = self.ctx.scenario
        behaviour = state.behaviour
        path = f"spec.containers{{{state.name}}}"
        image = state.image
        for _ in range(8):  # several steps may fall due in one pass
            if state.stage == "pull":
                policy = container.get("imagePullPolicy", "IfNotPresent")
                if policy != "Always" and (image in self._node_images or behaviour.present):
                    self.ctx.events.record(
                        pod,
                        "Normal",
                        "Pulled",
                        f'Container image "{image}" already present on machine',
                        "kubelet",
                        path,
                    )
                    state.stage = "create"
                    continue
                if policy == "Never":
                    state.waiting = (
                        "ErrImageNeverPull",
                        f'Container image "{image}" is not present with pull policy of Never',
                    )
                    return None
                self.ctx.events.record(
                    pod, "Normal", "Pulling", f'Pulling image "{image}"', "kubelet", path
                )
                state.stage, state.due = "pulling", now + scenario.seconds(behaviour.pull_delay)
            if state.stage == "pulling":
                if now < state.due:
                    return state.due
                failing = behaviour.pull != "ok" and (
                    behaviour.pull_failures is None or state.pull_failures < behaviour.pull_failures
                )
                if not failing:
                    self._node_images.add(image)
                    seconds = behaviour.pull_delay
                    self.ctx.events.record(
                        pod,
                        "Normal",
                        "Pulled",
                        f'Successfully pulled image "{image}" in {seconds:.3f}s '
                        f"({seconds:.3f}s including waiting). Image size: 52428800 bytes.",
                        "kubelet",
                        path,
                    )
                    state.stage = "create"
                    continue
                state.pull_failures += 1
                message = _pull_error(image, behaviour.pull)
                state.waiting = ("ErrImagePull", message)
                self.ctx.events.record(
                    pod,
                    "Warning",
                    "Failed",
                    f'Failed to pull image "{image}": {message}',
                    "kubelet",
                    path,
                )
                self.ctx.events.record(
                    pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet", path
                )
                state.stage, state.due = "pull-error", now + scenario.seconds(1.0)
                return state.due
            if state.stage == "pull-error":
                if now < state.due:
                    return state.due
                state.waiting = (
                    "ImagePullBackOff",
                    f'Back-off pulling image "{image}": '
                    f"ErrImagePull: {_pull_error(image, behaviour.pull)}",
                )
                self.ctx.events.record(
                    pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', "kubelet", path
                )
                self.ctx.events.record(
                    pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet", path
                )
                state.stage = "pull-backoff"
                state.due = now + scenario.seconds(_backoff(state.pull_failures))
                return state.due
            if state.stage == "pull-backoff":
                if now < state.due:
                    return state.due
                state.stage = "pull"
                continue
            if state.stage == "create":
                error = self._config_error(pod, container)
                if error:
                    state.waiting = ("CreateContainerConfigError", error)
                    run = self.runs[pod["metadata"]["uid"]]
                    self._warn(run, pod, "Failed", f"Error: {error}", "kubelet", now, path)
                    return now + scenario.seconds(1.0)
                state.container_id = "containerd://" + _digest(
                    f"{pod['metadata']['uid']}/{state.name}/{state.restarts}"
                )
                self.ctx.events.record(
                    pod, "Normal", "Created", f"Created container: {state.name}", "kubelet", path
                )
                state.stage, state.due = "starting", now + scenario.seconds(behaviour.start_delay)
            if state.stage == "starting":
                if now < state.due:
                    return state.due
                self.ctx.events.record(
                    pod, "Normal", "Started", f"Started container {state.name}", "kubelet", path
                )
                state.stage, state.running_since, state.started_at = "running", now, timestamp()
                state.waiting = ("", "")
                state.logs = self._logs_for(pod, state)
            if state.stage == "running":
                return self._run(pod, container, state, now, path)
            if state.stage == "exited":
                if now < state.due:
                    return state.due
                self._sync_exited(pod, state, now, path)
                if state.stage == "crash-backoff":
                    return state.due
                continue
            if state.stage == "crash-backoff":
                if now < state.due:
                    return state.due
                self._restart(state, now)
                continue
        return now

    def _sync_exited(self, pod: JSON, state: ContainerRun, now: float, path: str) -> None:
        """The pod sync after an exit: restart at once, or back off (doBackOff).

        pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff: the first exit finds no
        back-off entry, so the container is restarted at once (and the entry set to 10 s); an
        exit within the back-off since the previous one gives CrashLoopBackOff, "back-off 10s
        restarting failed container=NAME pod=NAME_NAMESPACE(UID)", then 20 s, 40 s ... 5 min.
        """
        scenario = self.ctx.scenario
        cap = scenario.seconds(BACKOFF_CAP)
        backoff = state.crash_backoff
        if not backoff.in_backoff_since(state.exited_at, now, cap):
            self._restart(state, now)
            return
        meta = pod["metadata"]
        who = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        state.last_terminated, state.terminated = state.terminated, None
        state.previous_logs, state.logs = state.logs, []
        state.waiting = (
            "CrashLoopBackOff",
            f"back-off {_go_duration(backoff.delay * scenario.speed)} restarting failed "
            f"container={state.name} pod={who}",
        )
        self.ctx.events.record(
            pod,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {state.name} in pod {who}",
            "kubelet",
            path,
        )
        state.stage, state.due = "crash-backoff", state.exited_at + backoff.delay

    def _restart(self, state: ContainerRun, now: float) -> None:
        """backOff.Next, then a new container instance whose restartCount is one more
        (kuberuntime_container.go startContainer: restartCount = previous + 1)."""
        cap = self.ctx.scenario.seconds(BACKOFF_CAP)
        start = self.ctx.scenario.seconds(BACKOFF_START)
        state.crash_backoff.next(state.exited_at, now, start, cap)
        if state.terminated is not None:
            state.last_terminated, state.terminated = state.terminated, None
            state.previous_logs, state.logs = state.logs, []
        state.restarts += 1
        state.ready = False
        state.started_probe_at = None
        state.stage = "pull"

    def _run(
        self, pod: JSON, container: JSON, state: ContainerRun, now: float, path: str
    ) -> float | None:
        scenario = self.ctx.scenario
        behaviour = state.behaviour
        crash = behaviour.crash
        if crash is not None and (crash.times is None or state.crashes < crash.times):
            crash_at = state.running_since + scenario.seconds(crash.after)
            if now >= crash_at:
                state.crashes += 1
                exit_code = 137 if crash.reason == "OOMKilled" else crash.exit_code
                # The exited instance shows as terminated until the next relist syncs the pod.
                state.terminated = {
                    "exitCode": exit_code,
                    "reason": crash.reason,
                    "startedAt": state.started_at,
                    "finishedAt": timestamp(),
                    "containerID": state.container_id,
                }
                state.exited_at = now
                state.ready = False
                state.waiting = ("", "")
                state.stage, state.due = "exited", now + scenario.seconds(PLEG_RELIST)
                return state.due
        else:
            crash_at = None
        run = self.runs[pod["metadata"]["uid"]]
        # pkg/kubelet/prober/worker.go: readiness is only probed once the startup probe has
        # passed; a container without a startup probe counts as started when it runs.
        startup = container.get("startupProbe")
        readiness = container.get("readinessProbe")
        gate_kind, gate = ("Startup", startup) if startup else ("Readiness", readiness)
        if startup is None and state.started_probe_at is None:
            state.started_probe_at = now
        if behaviour.never_ready and gate is not None:
            # prober.go: a failed probe is the Warning "Unhealthy" event "<Kind> probe failed:
            # <output>", recorded on every failed period (the apiserver counts repeats).
            output = _probe_failure(gate, container, run.pod_ip)
            period = scenario.seconds(float(gate.get("periodSeconds", 10)))
            self._warn(
                run,
                pod,
                "Unhealthy",
                f"{gate_kind} probe failed: {output}",
                "kubelet",
                now,
                path,
                period=period,
            )
            state.ready = False
            due: float | None = now + period
        else:
            if state.started_probe_at is None:
                state.started_probe_at = now
            ready_at = state.running_since + scenario.seconds(behaviour.ready_delay)
            state.ready = now >= ready_at or readiness is None
            due = None if state.ready else ready_at
        return sooner(due, crash_at)

    def _logs_for(self, pod: JSON, state: ContainerRun) -> list[str]:
        if state.behaviour.logs:
            return list(state.behaviour.logs)
        if "postgres" in state.image.split("/")[-1]:
            path = self._data_path(pod, state.name)
            if path and path in self._volume_data:
                return list(POSTGRES_RESTART_LOG)
            if path:
                self._volume_data.add(path)
            return list(POSTGRES_LOG)
        return [f"{state.name}: starting", f"{state.name}: listening"]

    def _data_path(self, pod: JSON, container: str) -> str:
        """The node directory the postgres container keeps its database in.

        As the official image's entrypoint does (docker-entrypoint.sh looks for
        ``$PGDATA/PG_VERSION``): PGDATA (default /var/lib/postgresql/data), taken relative to
        the mount of the claimed volume that holds it, on the PV's hostPath (or its name).  So
        an image pointed at another subdirectory of the same volume finds no database there.
        """
        spec: JSON = next(
            (c for c in pod["spec"].get("containers", []) if c.get("name") == container), {}
        )
        pgdata = next(
            (
                str(e.get("value"))
                for e in spec.get("env", []) or []
                if e.get("name") == "PGDATA" and e.get("value")
            ),
            POSTGRES_DEFAULT_PGDATA,
        )
        claims = {
            v["name"]: v["persistentVolumeClaim"].get("claimName")
            for v in pod["spec"].get("volumes", []) or []
            if v.get("persistentVolumeClaim")
        }
        for mount in spec.get("volumeMounts", []) or []:
            claim = claims.get(mount.get("name"))
            where = str(mount.get("mountPath", "")).rstrip("/")
            if not claim or not _within(pgdata, where):
                continue
            pvc = self.ctx.store.get(PVCS, pod["metadata"]["namespace"], claim)
            volume_name = (pvc or {}).get("spec", {}).get("volumeName", "")
            pv = self.ctx.store.get(PVS, "", volume_name) if volume_name else None
            if pv is not None:
                root = str(pv["spec"].get("hostPath", {}).get("path") or volume_name)
                return root.rstrip("/") + pgdata[len(where) :]
        return ""

    # status ----------------------------------------------------------------------------------

    def _stop(self, pod: JSON, run: PodRun, now: float) -> float | None:
        if not run.scheduled:
            self._remove(pod)
            return None
        if run.stopping_since is None:
            run.stopping_since = now
            for state in run.containers.values():
                if state.stage == "running":
                    self.ctx.events.record(
                        pod,
                        "Normal",
                        "Killing",
                        f"Stopping container {state.name}",
                        "kubelet",
                        f"spec.containers{{{state.name}}}",
                    )
        grace = float(pod["metadata"].get("deletionGracePeriodSeconds", 30))
        done_at = run.stopping_since + min(
            self.ctx.scenario.seconds(self.ctx.scenario.pod_stop_delay), grace
        )
        if now < done_at:
            return done_at
        self._remove(pod)
        return None

    def _remove(self, pod: JSON) -> None:
        meta = pod["metadata"]
        if meta.get("finalizers"):
            return
        self.ctx.store.remove(PODS, meta["namespace"], meta["name"])

    def _container_status(self, container: JSON, state: ContainerRun) -> JSON:
        status: JSON = {
            "name": state.name,
            "image": state.image,
            "imageID": "",
            "ready": state.ready,
            "restartCount": state.restarts,
            "started": state.stage == "running" and state.started_probe_at is not None,
            "lastState": {"terminated": state.last_terminated} if state.last_terminated else {},
        }
        if state.container_id:
            status["containerID"] = state.container_id
        if state.image in self._node_images or state.stage in ("create", "starting", "running"):
            status["imageID"] = f"{_registry_name(state.image)}@sha256:{_digest(state.image)}"
        if state.stage == "running":
            status["state"] = {"running": {"startedAt": state.started_at}}
        elif state.stage == "exited" and state.terminated is not None:
            status["state"] = {"terminated": state.terminated}
        else:
            reason, message = state.waiting
            waiting: JSON = {"reason": reason or "ContainerCreating"}
            if message:
                waiting["message"] = message
            status["state"] = {"waiting": waiting}
        return status

    def _set_status(self, pod: JSON, run: PodRun, unschedulable: str | None) -> None:
        old = pod.get("status", {})
        status: JSON = {
            "phase": old.get("phase", "Pending"),
            "conditions": editable(old.get("conditions", [])),
        }
        now = timestamp()
        if "qosClass" in old:
            status["qosClass"] = old["qosClass"]
        if unschedulable:
            set_condition(
                status,
                "PodScheduled",
                "False",
                "Unschedulable",
                unschedulable,
                now,
                probe_times=True,
            )
        else:
            set_condition(status, "PodScheduled", "True", now=now, probe_times=True)
            node = self.ctx.scenario.node
            status["hostIP"] = node.address
            status["hostIPs"] = [{"ip": node.address}]
            status["startTime"] = run.start_time
            containers = pod["spec"].get("containers", [])
            statuses = [
                self._container_status(c, run.containers[c["name"]])
                for c in containers
                if c["name"] in run.containers
            ]
            status["containerStatuses"] = statuses
            sandbox = "True" if run.volumes_ready else "False"
            set_condition(status, "PodReadyToStartContainers", sandbox, now=now, probe_times=True)
            set_condition(status, "Initialized", "True", now=now, probe_times=True)
            all_ready = bool(statuses) and all(s["ready"] for s in statuses)
            reason = "" if all_ready else "ContainersNotReady"
            not_ready = [s["name"] for s in statuses if not s["ready"]]
            message = (
                "" if all_ready else f"containers with unready status: [{' '.join(not_ready)}]"
            )
            set_condition(
                status,
                "ContainersReady",
                "True" if all_ready else "False",
                reason,
                message,
                now,
                probe_times=True,
            )
            set_condition(
                status,
                "Ready",
                "True" if all_ready else "False",
                reason,
                message,
                now,
                probe_times=True,
            )
            if run.pod_ip:
                status["podIP"] = run.pod_ip
                status["podIPs"] = [{"ip": run.pod_ip}]
            if any(s["state"].get("running") for s in statuses) or any(
                s["lastState"] for s in statuses
            ):
                status["phase"] = "Running"
        order = [
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        ]
        status["conditions"].sort(
            key=lambda c: order.index(c["type"]) if c["type"] in order else 99
        )
        status["observedGeneration"] = pod["metadata"].get("generation", 1)
        if status != old:
            updated = editable(pod)
            updated["status"] = status
            self.ctx.store.replace(PODS, updated)


def _probe_failure(probe: JSON, container: JSON, pod_ip: str) -> str:
    """What a probe of a server that does not listen reports (pkg/probe/tcp/tcp.go and
    pkg/probe/http/http.go pass the dial error on; pkg/probe/exec/exec.go the command's output,
    empty for ``pg_isready --quiet``)."""

    def port(value: object) -> str:
        for declared in container.get("ports", []) or []:
            if declared.get("name") == value:
                return str(declared.get("containerPort"))
        return str(value)

    if "tcpSocket" in probe:
        address = f"{pod_ip}:{port(probe['tcpSocket'].get('port'))}"
        return f"dial tcp {address}: connect: connection refused"
    if "httpGet" in probe:
        http = probe["httpGet"]
        address = f"{pod_ip}:{port(http.get('port'))}"
        scheme = str(http.get("scheme", "HTTP")).lower()
        return (
            f'Get "{scheme}://{address}{http.get("path", "/")}": dial tcp {address}: '
            "connect: connection refused"
        )
    return ""


def _go_duration(seconds: float) -> str:
    """Go's time.Duration.String for whole seconds, as backOff.Get prints: 10s, 1m20s, 5m0s."""
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def _requests(pod: JSON) -> dict[str, float]:
    totals = {"cpu": 0.0, "memory": 0.0}
    for container in pod.get("spec", {}).get("containers", []):
        requests = container.get("resources", {}).get("requests", {})
        for resource in totals:
            if resource in requests:
                totals[resource] += parse_quantity(requests[resource])
    return totals


def _pull_error(image: str, failure: str) -> str:
    """containerd's error for a failed pull, as the kubelet passes it on (ErrImagePull).

    containerd core/remotes/docker/resolver.go: a registry answering 404 for the manifest gives
    "<ref>: not found"; Docker Hub answers an unknown (or private) repository with 401
    insufficient_scope, which containerd words "pull access denied, repository does not exist
    or may require authorization"; other 4xx are "unexpected status from HEAD request"; a
    registry that cannot be reached is Go's dial error, wrapped in "failed to do request".
    The kubelet prefixes "failed to pull and unpack image" (containerd's CRI image_pull.go).
    """
    full = _registry_name(image)
    host, _, path = full.partition("/")
    name, _, tag = path.rpartition(":")
    head = f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": '
    registry = "registry-1.docker.io" if host == "docker.io" else host
    manifest = f"https://{registry}/v2/{name}/manifests/{tag}"
    if failure == "noRepository":
        return (
            head + "pull access denied, repository does not exist or may require authorization: "
            "server message: insufficient_scope: authorization failed"
        )
    if failure == "unauthorized":
        return head + f"unexpected status from HEAD request to {manifest}: 401 Unauthorized"
    if failure == "timeout":
        return (
            head + f'failed to do request: Head "{manifest}": dial tcp 203.0.113.7:443: i/o timeout'
        )
    return head + f"{full}: not found"
