"""kubesim's kubelet against the real kubelet's and containerd's source, behaviour by behaviour.

Each test names the file it follows; pods are created with the real kubectl and their status read
as the apiserver stores it.  Scenarios run faster (speed 4 or 10), so the kubelet's 10 s
back-off is 2.5 s or 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim

pytestmark = pytest.mark.e2e

JSON = dict[str, Any]

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: default}}
spec:
  containers:
  - name: web
    image: {image}
    ports: [{{name: http, containerPort: 8080}}]
{probes}{mounts}
{volumes}
"""

OBJECTS = """\
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
stringData: {username: asky}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: conf, namespace: default}
data: {nginx.conf: "events {}"}
"""


def pod_yaml(
    image: str = "web:1", probes: str = "", volumes: str = "", mounts: bool = False
) -> str:
    mount = "    volumeMounts: [{name: v, mountPath: /v}]\n" if mounts else ""
    return POD.format(image=image, probes=probes, mounts=mount, volumes=volumes)


def status_of(sim: KubeSim) -> JSON:
    pod = sim.get("pods", "web", "default") or {}
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    return dict(statuses[0])


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def shape(status: JSON) -> tuple[str, str, int]:
    """(state, reason, restartCount): what `kubectl get pods` shows in STATUS and RESTARTS."""
    state = status.get("state") or {}
    kind = next(iter(state), "")
    return kind, str((state.get(kind) or {}).get("reason", "")), int(status.get("restartCount", 0))


def record_shapes(sim: KubeSim, until: Callable[[JSON], bool], timeout: float = 15.0) -> list[Any]:
    """Every distinct container shape until ``until`` holds, as a watcher would see them."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while True:
        status = status_of(sim)
        current = shape(status)
        if status and (not seen or seen[-1] != current):
            seen.append(current)
        if status and until(status):
            return seen
        assert time.monotonic() < deadline, f"not reached; seen {seen}"
        time.sleep(0.01)


def in_order(seen: list[Any], expected: list[Any]) -> bool:
    """``expected`` appears in ``seen`` in this order (a busy machine may miss a brief state
    between them, never reorder them)."""
    rest = iter(seen)
    return all(any(shape == wanted for shape in rest) for wanted in expected)


def events(sim: KubeSim, reason: str) -> list[str]:
    return [e["message"] for e in sim.objects("events", "default") if e.get("reason") == reason]


# -- crash and restart: pkg/kubelet/kuberuntime/kuberuntime_manager.go (doBackOff) ----------------


def test_a_container_that_crashes_once_is_restarted_at_once_and_ends_ready(
    start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> None:
    """doBackOff finds no back-off entry at the first exit, so computePodActions restarts the
    container at once: terminated (Error, restartCount 0), then running with restartCount 1
    (kuberuntime_container.go startContainer: restartCount = previous + 1). No CrashLoopBackOff."""
    sim = start_sim(
        "speed: 4\nimages: [{match: 'web:*', crash: {exitCode: 2, after: 0.5, times: 1}}]"
    )
    kubectl_on(sim).ok("apply", "-f", "-", stdin=pod_yaml())
    seen = record_shapes(sim, lambda s: s.get("ready") is True and s.get("restartCount") == 1)
    assert in_order(seen, [("terminated", "Error", 0), ("running", "", 1)])
    assert all(s[1] != "CrashLoopBackOff" and s[2] <= 1 for s in seen)
    assert status_of(sim)["lastState"]["terminated"]["exitCode"] == 2
    assert events(sim, "BackOff") == []


def test_a_persistent_crash_backs_off_10s_then_20s_with_the_kubelets_message(
    start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> None:
    """The second exit falls within the 10 s back-off set at the first restart: CrashLoopBackOff
    "back-off 10s restarting failed container=web pod=web_default(UID)" and the BackOff event;
    after it, the third exit backs off 20 s (flowcontrol.Backoff doubles, 5 min cap)."""
    sim = start_sim(
        "speed: 4\nimages: [{match: 'web:*', logs: [booting, 'fatal: no config'],"
        " crash: {exitCode: 3, after: 0.5}}]"
    )
    kubectl = kubectl_on(sim)
    kubectl.ok("apply", "-f", "-", stdin=pod_yaml())
    seen = record_shapes(sim, lambda s: shape(s) == ("waiting", "CrashLoopBackOff", 1))
    assert in_order(
        seen,
        [
            ("terminated", "Error", 0),
            ("running", "", 1),
            ("terminated", "Error", 1),
            ("waiting", "CrashLoopBackOff", 1),
        ],
    )
    assert ("waiting", "CrashLoopBackOff", 0) not in seen
    backed_off_at = time.monotonic()
    status = status_of(sim)
    uid = sim.get("pods", "web", "default")["metadata"]["uid"]  # type: ignore[index]
    assert status["state"]["waiting"]["message"] == (
        f"back-off 10s restarting failed container=web pod=web_default({uid})"
    )
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert events(sim, "BackOff") == [
        f"Back-off restarting failed container web in pod web_default({uid})"
    ]
    assert kubectl.ok("logs", "web", "--previous", "--tail=1") == "fatal: no config\n"
    record_shapes(sim, lambda s: shape(s) == ("running", "", 2))
    # 10 s at speed 4, counted from the exit (finishedAt), which came a relist (0.25 s) earlier
    assert time.monotonic() - backed_off_at >= 2.0
    record_shapes(sim, lambda s: shape(s) == ("waiting", "CrashLoopBackOff", 2))
    assert status_of(sim)["state"]["waiting"]["message"].startswith("back-off 20s ")


# -- image pulls: pkg/kubelet/images/image_manager.go, containerd core/remotes/docker/resolver.go -


PULL_TEXTS = {
    "notFound": "docker.io/library/web:1: not found",
    "noRepository": "pull access denied, repository does not exist or may require authorization: "
    "server message: insufficient_scope: authorization failed",
    "unauthorized": "unexpected status from HEAD request to "
    "https://registry-1.docker.io/v2/library/web/manifests/1: 401 Unauthorized",
    "timeout": 'failed to do request: Head "https://registry-1.docker.io/v2/library/web/'
    'manifests/1": dial tcp 203.0.113.7:443: i/o timeout',
}


@pytest.mark.parametrize("cause", sorted(PULL_TEXTS))
def test_each_pull_failure_is_worded_as_containerd_words_it(
    cause: str, start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> None:
    """ErrImagePull carries containerd's error ("failed to pull and unpack image ...: failed to
    resolve reference ...: <cause>"), the Failed event says `Failed to pull image "web:1": ...`,
    then ImagePullBackOff's message wraps it: `Back-off pulling image "web:1": ErrImagePull: ...`
    (image_manager.go pullImage, prevPullErrMsg, since 1.32)."""
    sim = start_sim(f"speed: 10\nimages: [{{match: 'web:*', pull: {cause}}}]")
    kubectl_on(sim).ok("apply", "-f", "-", stdin=pod_yaml())
    record_shapes(sim, lambda s: shape(s)[1] == "ImagePullBackOff")
    error = (
        'failed to pull and unpack image "docker.io/library/web:1": failed to resolve reference '
        f'"docker.io/library/web:1": {PULL_TEXTS[cause]}'
    )
    assert f'Failed to pull image "web:1": {error}' in events(sim, "Failed")
    assert "Error: ErrImagePull" in events(sim, "Failed")
    assert status_of(sim)["state"]["waiting"]["message"] == (
        f'Back-off pulling image "web:1": ErrImagePull: {error}'
    )


def test_a_registry_timeout_that_clears_ends_in_a_running_container(
    start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> None:
    """The pull back-off (10 s, doubling) retries the pull; once the registry answers, the image
    is pulled and the container starts."""
    sim = start_sim("speed: 10\nimages: [{match: 'web:*', pull: timeout, pullFailures: 1}]")
    kubectl_on(sim).ok("apply", "-f", "-", stdin=pod_yaml())
    seen = record_shapes(sim, lambda s: s.get("ready") is True)
    assert ("waiting", "ImagePullBackOff", 0) in seen and seen[-1] == ("running", "", 0)


# -- volumes: pkg/volume/secret, configmap and projected; volumemanager/reconciler --------------


def pod_with_volume(
    volume: str, start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> KubeSim:
    """A fresh emulator running the pod that mounts ``volume``, beside OBJECTS (Secret db,
    ConfigMap conf) that the volume may refer to."""
    sim = start_sim("speed: 10")
    kubectl = kubectl_on(sim)
    kubectl.ok("apply", "-f", "-", stdin=OBJECTS)
    kubectl.ok("apply", "-f", "-", stdin=pod_yaml(volumes="  volumes:\n" + volume, mounts=True))
    return sim


@pytest.mark.parametrize(
    ("volume", "message"),
    [
        (
            "  - name: v\n    projected:\n      sources:\n      - secret: {name: absent}\n",
            'MountVolume.SetUp failed for volume "v" : secret "absent" not found',
        ),
        (
            "  - name: v\n    projected:\n      sources:\n      - secret:\n          name: db\n"
            "          items: [{key: password, path: p}]\n",
            'MountVolume.SetUp failed for volume "v" : references non-existent secret key: '
            "password",
        ),
        (
            "  - name: v\n    projected:\n      sources:\n      - secret: {name: absent}\n"
            "      - configMap: {name: gone}\n",
            'MountVolume.SetUp failed for volume "v" : [secret "absent" not found, '
            'configmap "gone" not found]',
        ),
        (
            "  - name: v\n    configMap:\n      name: conf\n      items: [{key: other, path: o}]\n",
            'MountVolume.SetUp failed for volume "v" : configmap references non-existent config '
            "key: other",
        ),
        (
            "  - name: v\n    secret: {secretName: absent}\n",
            'MountVolume.SetUp failed for volume "v" : secret "absent" not found',
        ),
    ],
    ids=["projected-secret", "projected-secret-key", "projected-two", "configmap-key", "secret"],
)
def test_a_volume_that_cannot_be_set_up_keeps_the_pod_creating_with_failed_mount(
    volume: str,
    message: str,
    start_sim: Callable[..., KubeSim],
    kubectl_on: Callable[..., Any],
) -> None:
    sim = pod_with_volume(volume, start_sim, kubectl_on)
    wait_for(lambda: bool(events(sim, "FailedMount")))
    assert events(sim, "FailedMount") == [message]
    time.sleep(0.3)
    assert shape(status_of(sim)) == ("waiting", "ContainerCreating", 0)


@pytest.mark.parametrize(
    "volume",
    [
        "  - name: v\n    projected:\n      sources:\n"
        "      - secret: {name: absent, optional: true}\n",
        "  - name: v\n    projected:\n      sources:\n      - secret:\n          name: db\n"
        "          optional: true\n          items: [{key: password, path: p}]\n",
        "  - name: v\n    configMap: {name: gone, optional: true}\n",
        "  - name: v\n    emptyDir: {sizeLimit: 64Mi}\n",
    ],
    ids=["projected-optional", "projected-optional-key", "configmap-optional", "emptydir"],
)
def test_optional_sources_and_empty_dirs_mount(
    volume: str, start_sim: Callable[..., KubeSim], kubectl_on: Callable[..., Any]
) -> None:
    sim = pod_with_volume(volume, start_sim, kubectl_on)
    wait_for(lambda: status_of(sim).get("ready") is True)
    assert events(sim, "FailedMount") == []


# -- probes: pkg/kubelet/prober/prober.go and worker.go; pkg/probe/tcp, http --------------------


@pytest.mark.parametrize(
    ("probes", "message"),
    [
        (
            "    startupProbe: {tcpSocket: {port: http}, periodSeconds: 2}\n"
            "    readinessProbe: {tcpSocket: {port: http}}\n",
            "Startup probe failed: dial tcp {ip}:8080: connect: connection refused",
        ),
        (
            "    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}\n",
            'Readiness probe failed: Get "http://{ip}:8080/healthz": dial tcp {ip}:8080: '
            "connect: connection refused",
        ),
    ],
    ids=["startup-tcp", "readiness-http"],
)
def test_a_probe_that_never_passes_records_unhealthy_with_the_probe_and_its_output(
    probes: str,
    message: str,
    start_sim: Callable[..., KubeSim],
    kubectl_on: Callable[..., Any],
) -> None:
    """Readiness is probed only after the startup probe passed (worker.go); each failed period
    records `<Kind> probe failed: <output>`, the output being the dial error (tcp.go, http.go)."""
    sim = start_sim("speed: 10\nimages: [{match: 'web:*', neverReady: true}]")
    kubectl_on(sim).ok("apply", "-f", "-", stdin=pod_yaml(probes=probes))
    wait_for(lambda: len(events(sim, "Unhealthy")) >= 1)
    pod = sim.get("pods", "web", "default") or {}
    assert events(sim, "Unhealthy")[0] == message.format(ip=pod["status"]["podIP"])
    status = status_of(sim)
    assert status["ready"] is False
    assert status["started"] is ("startupProbe" not in probes)
