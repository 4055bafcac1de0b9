"""Fault injection: seeded, replayable API failures that look, on the wire and to the real
kubectl, like the failures of a real control plane (throttling, internal errors, resets,
latency, cut watches, expired credentials, RBAC denials)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from kubesim import KubeSim, Scenario
from kubesim.errors import ApiError
from kubesim.faults import FaultInjector, ResetConnection
from kubesim.resources import by_plural
from kubesim.routing import Target
from kubesim.scenario import Faults

NAMESPACES = "/api/v1/namespaces"
POD = (
    "objects:\n- {apiVersion: v1, kind: Pod, metadata: {name: web, namespace: default},"
    " spec: {containers: [{name: app, image: 'app:1'}]}}\n"
)


def outcome(sim: KubeSim, path: str = NAMESPACES) -> int | str:
    """The status of one GET on a fresh connection, or "reset"."""
    try:
        with urllib.request.urlopen(sim.url + path, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (ConnectionResetError, urllib.error.URLError):
        return "reset"


def drawn(faults: Faults, count: int) -> list[str]:
    """What the injector decides for ``count`` requests, in order."""
    injector = FaultInjector(faults)
    decisions = []
    for _ in range(count):
        try:
            injector.before(NAMESPACES)
            decisions.append("ok")
        except ResetConnection:
            decisions.append("reset")
        except ApiError as error:
            decisions.append(str(error.code))
    return decisions


def seed_for(pattern: list[str], **fields: Any) -> int:
    """The first seed whose first decisions are ``pattern`` (so a test scripts its faults)."""
    return next(
        seed for seed in range(1000) if drawn(Faults(seed=seed, **fields), len(pattern)) == pattern
    )


def scenario(**fields: Any) -> Scenario:
    return Scenario(faults=Faults(**fields))


def statuses(sim: KubeSim, path: str, count: int) -> list[int]:
    """Statuses of the first ``count`` requests on ``path`` in arrival order (0: reset); the
    server logs a request after answering it, so the client may be done before the log is."""
    deadline = time.monotonic() + 3
    while True:
        arrived = sorted(sim.requests, key=lambda r: r.started)
        found = [r.status for r in arrived if r.path == path]
        if len(found) >= count or time.monotonic() > deadline:
            return found


def test_a_seed_fails_the_same_requests_in_the_same_order(
    start_sim: Callable[..., KubeSim],
) -> None:
    faults = {"error_rate": 0.4, "reset_rate": 0.15, "error_codes": (500, 503, 429)}
    runs = []
    for seed in (7, 7, 8):
        sim = start_sim(scenario(seed=seed, **faults))
        runs.append([outcome(sim) for _ in range(30)])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert {200, 500, 503, 429, "reset"} <= set(runs[0])


def test_discovery_and_version_are_never_failed(start_sim: Callable[..., KubeSim]) -> None:
    sim = start_sim(scenario(error_rate=1.0, reset_rate=0.5))
    assert {outcome(sim, path) for path in ("/version", "/api", "/apis", "/openapi/v3")} == {200}


def test_throttling_is_the_apiservers_plain_429_with_retry_after(
    start_sim: Callable[..., KubeSim],
) -> None:
    sim = start_sim(scenario(error_rate=1.0, error_codes=(429,), retry_after=2))
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(sim.url + NAMESPACES, timeout=5)
    assert raised.value.code == 429
    assert raised.value.headers["Retry-After"] == "2"
    assert raised.value.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert raised.value.read() == b"Too many requests, please try again later.\n"


def test_unavailable_is_a_status_with_retry_after(start_sim: Callable[..., KubeSim]) -> None:
    sim = start_sim(scenario(error_rate=1.0, error_codes=(503,), retry_after=3))
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(sim.url + NAMESPACES, timeout=5)
    assert raised.value.code == 503
    assert raised.value.headers["Retry-After"] == "3"
    status = json.loads(raised.value.read())
    assert (status["reason"], status["details"]["retryAfterSeconds"]) == ("ServiceUnavailable", 3)


def test_kubectl_retries_a_throttled_get_by_itself(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    fields: dict[str, Any] = {"error_rate": 0.5, "error_codes": (429,), "retry_after": 1}
    seed = seed_for(["429", "ok"], **fields)
    sim = start_sim(scenario(seed=seed, **fields))
    started = time.monotonic()
    out = kubectl_on(sim).ok("get", "ns", "default", "-o", "name")
    assert out.strip() == "namespace/default"
    assert statuses(sim, f"{NAMESPACES}/default", 2) == [429, 200]
    assert time.monotonic() - started >= 1.0, "client-go waits Retry-After seconds"


def test_kubectl_gives_up_on_an_internal_error_at_once(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    sim = start_sim(scenario(error_rate=1.0, error_codes=(500,)))
    result = kubectl_on(sim)("get", "ns", "default")
    assert result.returncode == 1
    assert result.stderr == (
        "Error from server (InternalError): Internal error occurred: injected fault\n"
    )
    assert statuses(sim, f"{NAMESPACES}/default", 1) == [500]


def test_a_reset_is_a_tcp_reset(start_sim: Callable[..., KubeSim]) -> None:
    sim = start_sim(scenario(reset_rate=1.0))
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5) as raw:
        raw.sendall(b"GET /api/v1/namespaces HTTP/1.1\r\nHost: kubesim\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            raw.recv(1024)


def test_kubectl_retries_a_reset_get_but_not_a_create(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    seed = seed_for(["reset", "ok"], reset_rate=0.5)
    sim = start_sim(scenario(seed=seed, reset_rate=0.5))
    kubectl = kubectl_on(sim)
    assert kubectl.ok("get", "ns", "default", "-o", "name").strip() == "namespace/default"
    assert statuses(sim, f"{NAMESPACES}/default", 2) == [0, 200]
    sim.set_faults(Faults(reset_rate=1.0))
    created = kubectl("create", "configmap", "x", "--from-literal=a=b")
    assert created.returncode == 1
    assert created.stderr.startswith("error: failed to create configmap: Post ")
    assert created.stderr.endswith("read: connection reset by peer\n")
    assert statuses(sim, "/api/v1/namespaces/default/configmaps", 1) == [0]


def test_latency_delays_resource_requests_only(start_sim: Callable[..., KubeSim]) -> None:
    sim = start_sim(scenario(latency=0.3))
    started = time.monotonic()
    assert outcome(sim) == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert outcome(sim, "/version") == 200
    assert time.monotonic() - started < 0.2


def test_watch_streams_are_cut_and_kubectl_wait_rewatches(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    sim = start_sim(scenario(watch_cut_after=0.4))
    started = time.monotonic()
    with urllib.request.urlopen(
        f"{sim.url}{NAMESPACES}?watch=true&resourceVersion=0", timeout=5
    ) as stream:
        stream.read()
    assert 0.3 < time.monotonic() - started < 2

    configmaps = by_plural("configmaps")
    sim.cluster.api.create(
        Target(configmaps, "default"), {"metadata": {"name": "c"}, "data": {"a": "1"}}, {}, "t"
    )
    waiting = subprocess.Popen(
        [
            str(kubectl_on(sim).binary),
            "wait",
            "cm/c",
            "--for=jsonpath={.data.a}=2",
            "--timeout=20s",
        ],
        env=sim.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The change is made only once kubectl has watched, been cut and watched again: a fixed
    # sleep raced a busy machine where kubectl's first watch came late.
    deadline = time.monotonic() + 15
    while len(_configmap_watches(sim)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    body = json.dumps({"data": {"a": "2"}}).encode()
    target = Target(configmaps, "default", "c")
    sim.cluster.api.patch(target, body, "application/merge-patch+json", {}, "t")
    out, err = waiting.communicate(timeout=25)
    assert waiting.returncode == 0, err
    assert out.strip() == "configmap/c condition met"
    deadline = time.monotonic() + 3
    while sim.open_watches and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(_configmap_watches(sim)) >= 2


def _configmap_watches(sim: KubeSim) -> list[Any]:
    return [r for r in sim.requests if "watch=true" in r.query and "configmaps" in r.path]


def test_expired_credentials_on_a_cold_cache(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    sim = start_sim(scenario(unauthorized=True))
    result = kubectl_on(sim)("get", "ns")
    assert result.returncode == 1
    # discovery fails first; client-go words a 401 there itself, as against any real cluster
    assert result.stderr.endswith(
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)\n"
    )
    assert {r.status for r in sim.requests} == {401}


def test_expired_credentials_with_cached_discovery(
    kubectl_on: Callable[[KubeSim], Any], sim: KubeSim
) -> None:
    kubectl = kubectl_on(sim)
    kubectl.ok("get", "ns")
    sim.set_faults(Faults(unauthorized=True))
    result = kubectl("get", "ns")
    assert result.returncode == 1
    assert result.stderr == "error: You must be logged in to the server (Unauthorized)\n"


@pytest.mark.parametrize(
    ("rule", "args", "message"),
    [
        (
            "{verb: list, resource: pods, namespace: default}",
            ("get", "pods"),
            'pods is forbidden: User "minikube-user" cannot list resource "pods" in API group ""'
            ' in the namespace "default"',
        ),
        (
            "{verb: delete, resource: namespaces}",
            ("delete", "namespace", "default"),
            'namespaces "default" is forbidden: User "minikube-user" cannot delete resource '
            '"namespaces" in API group "" in the namespace "default"',
        ),
        (
            "{verb: list, resource: storageclasses}",
            ("get", "storageclasses"),
            'storageclasses.storage.k8s.io is forbidden: User "minikube-user" cannot list '
            'resource "storageclasses" in API group "storage.k8s.io" at the cluster scope',
        ),
        (
            "{verb: get, resource: pods/log}",
            ("logs", "web"),
            'pods "web" is forbidden: User "minikube-user" cannot get resource "pods/log" '
            'in API group "" in the namespace "default"',
        ),
    ],
)
def test_forbidden_rules_answer_with_rbacs_message(
    kubectl_on: Callable[[KubeSim], Any],
    start_sim: Callable[..., KubeSim],
    rule: str,
    args: tuple[str, ...],
    message: str,
) -> None:
    sim = start_sim(f"faults:\n  forbidden:\n  - {rule}\n{POD}")
    result = kubectl_on(sim)(*args)
    assert result.returncode == 1
    assert result.stderr == f"Error from server (Forbidden): {message}\n"


def test_an_apply_that_creates_needs_create_too(
    kubectl_on: Callable[[KubeSim], Any], start_sim: Callable[..., KubeSim]
) -> None:
    """The apiserver authorizes ``create`` when an apply patch creates the object, so a denial
    of create (RBAC, or an admission chain refusing new objects) stops a server-side apply of
    a new object, dry run included, while applying to an existing one needs only patch."""
    sim = start_sim(
        "faults: {forbidden: [{verb: create, resource: configmaps}]}\n"
        "objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: old, namespace: default}}]"
    )
    kubectl = kubectl_on(sim)
    config = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {a: b}\n"
    for dry_run in ((), ("--dry-run=server",)):
        result = kubectl("apply", "--server-side", *dry_run, "-f", "-", stdin=config % "new")
        assert result.returncode == 1
        assert (
            'configmaps "new" is forbidden: User "minikube-user" cannot create resource '
            '"configmaps" in API group "" in the namespace "default"'
        ) in result.stderr
    assert sim.get("configmaps", "new", "default") is None
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=config % "old")
