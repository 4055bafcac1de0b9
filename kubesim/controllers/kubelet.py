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

from kubesim.controllers.base import Context, set_condition
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

BACKOFF_START = 10.0
BACKOFF_CAP = 300.0
# How often a repeating warning (FailedMount, Unhealthy, FailedScheduling) is recorded again.
WARNING_PERIOD = 10.0
PREEMPTION_NOT_HELPFUL = (
    "preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
)


def _backoff(count: int) -> float:
    return float(min(BACKOFF_START * 2 ** max(count - 1, 0), BACKOFF_CAP))


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
    # pull, pulling, pull-error, pull-backoff, create, starting, running, crash-backoff
    stage: str = "pull"
    due: float = 0.0
    pull_failures: int = 0
    crashes: int = 0
    started_at: str = ""
    running_since: float = 0.0
    waiting: tuple[str, str] = ("ContainerCreating", "")
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
            due = self._step(pod, run, now)
            if due is not None:
                next_due = due if next_due is None else min(next_due, due)
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
    ) -> None:
        key = f"{reason}:{field_path}:{message}"
        last = run.warned.get(key)
        if last is None or now - last >= self.ctx.scenario.seconds(WARNING_PERIOD):
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
            container_due = self._advance(pod, container, state, now)
            if container_due is not None:
                due = container_due if due is None else min(due, container_due)
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
        namespace = pod["metadata"]["namespace"]
        for volume in pod["spec"].get("volumes", []) or []:
            for source, resource, noun, ref in (
                ("configMap", CONFIGMAPS, "configmap", "name"),
                ("secret", SECRETS, "secret", "secretName"),
            ):
                spec = volume.get(source)
                if spec is None or spec.get("optional"):
                    continue
                found = self.ctx.store.get(resource, namespace, spec.get(ref, ""))
                if found is None:
                    return (
                        f'MountVolume.SetUp failed for volume "{volume["name"]}" : '
                        f'{noun} "{spec.get(ref, "")}" not found'
                    )
                data = {**found.get("data", {}), **found.get("binaryData", {})}
                for item in spec.get("items", []) or []:
                    if item.get("key") not in data:
                        return (
                            f'MountVolume.SetUp failed for volume "{volume["name"]}" : '
                            f"configmap references non-existent config key: {item.get('key')}"
                        )
        return ""

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
                if behaviour.pull == "ok":
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
                    f"{pod['metadata']['uid']}/{state.name}/{state.crashes}"
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
            if state.stage == "crash-backoff":
                if now < state.due:
                    return state.due
                state.stage = "create"
                continue
        return now

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
                state.last_terminated = {
                    "exitCode": exit_code,
                    "reason": crash.reason,
                    "startedAt": state.started_at,
                    "finishedAt": timestamp(),
                    "containerID": state.container_id,
                }
                state.previous_logs = state.logs
                state.logs = []
                state.ready = False
                delay = _backoff(state.crashes)
                uid = pod["metadata"]["uid"]
                state.waiting = (
                    "CrashLoopBackOff",
                    f"back-off {int(delay)}s restarting failed container={state.name} "
                    f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({uid})",
                )
                self.ctx.events.record(
                    pod,
                    "Warning",
                    "BackOff",
                    f"Back-off restarting failed container {state.name} in pod "
                    f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({uid})",
                    "kubelet",
                    path,
                )
                state.stage, state.due = "crash-backoff", now + scenario.seconds(delay)
                return state.due
        else:
            crash_at = None
        has_probe = "readinessProbe" in container
        if behaviour.never_ready and has_probe:
            run = self.runs[pod["metadata"]["uid"]]
            self._warn(
                run,
                pod,
                "Unhealthy",
                "Readiness probe failed: connection refused",
                "kubelet",
                now,
                path,
            )
            state.ready = False
            due: float | None = now + scenario.seconds(WARNING_PERIOD)
        else:
            ready_at = state.running_since + scenario.seconds(behaviour.ready_delay)
            state.ready = now >= ready_at or not has_probe
            due = None if state.ready else ready_at
        if crash_at is not None:
            due = crash_at if due is None else min(due, crash_at)
        return due

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
            "restartCount": state.crashes,
            "started": state.stage == "running",
            "lastState": {"terminated": state.last_terminated} if state.last_terminated else {},
        }
        if state.container_id:
            status["containerID"] = state.container_id
        if state.image in self._node_images or state.stage in ("create", "starting", "running"):
            status["imageID"] = f"{_registry_name(state.image)}@sha256:{_digest(state.image)}"
        if state.stage == "running":
            status["state"] = {"running": {"startedAt": state.started_at}}
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


def _requests(pod: JSON) -> dict[str, float]:
    totals = {"cpu": 0.0, "memory": 0.0}
    for container in pod.get("spec", {}).get("containers", []):
        requests = container.get("resources", {}).get("requests", {})
        for resource in totals:
            if resource in requests:
                totals[resource] += parse_quantity(requests[resource])
    return totals


def _pull_error(image: str, failure: str) -> str:
    full = _registry_name(image)
    if failure == "unauthorized":
        return (
            f'failed to pull and unpack image "{full}": failed to resolve reference "{full}": '
            "pull access denied, repository does not exist or may require authorization: "
            "server message: insufficient_scope: authorization failed"
        )
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
        f'failed to resolve reference "{full}": {full}: not found'
    )
