"""Watch semantics as kube-apiserver's watch cache serves them, driven by the real kubectl where
a user would see the difference (`kubectl wait`, `kubectl get -w`) and over raw HTTP where only
the wire shape tells (bookmarks, 410 Expired, option validation, timeouts)."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from kubesim import KubeSim, Scenario
from kubesim.api import Api
from kubesim.resources import by_plural
from kubesim.routing import Target
from kubesim.store import Store

JSON = dict[str, Any]
CONFIGMAPS = by_plural("configmaps")


def create_configmap(sim: KubeSim, name: str, labels: dict[str, str] | None = None) -> JSON:
    body = {"metadata": {"name": name, "labels": labels or {}}, "data": {"a": "1"}}
    created, _ = sim.cluster.api.create(Target(CONFIGMAPS, "default"), body, {}, "test")
    return created


def patch_configmap(sim: KubeSim, name: str, change: JSON) -> None:
    target = Target(CONFIGMAPS, "default", name)
    sim.cluster.api.patch(
        target, json.dumps(change).encode(), "application/merge-patch+json", {}, "test"
    )


def watch_events(sim: KubeSim, query: str, timeout: float = 5) -> list[JSON]:
    """Every event of one watch on default's configmaps, until the server ends it."""
    url = f"{sim.url}/api/v1/namespaces/default/configmaps?watch=true&{query}"
    with urllib.request.urlopen(url, timeout=timeout) as stream:
        assert stream.headers["Content-Type"] == "application/json"
        return [json.loads(line) for line in stream if line.strip()]


def wait_for(check: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def watch_requests(sim: KubeSim, path: str) -> list[dict[str, str]]:
    return [
        {k: v[0] for k, v in parse_qs(r.query).items()}
        for r in sim.requests
        if r.method == "GET" and r.path == path
    ]


def test_send_initial_events_gives_added_then_the_end_bookmark(sim: KubeSim) -> None:
    create_configmap(sim, "one")
    create_configmap(sim, "two")
    events = watch_events(
        sim,
        "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"
        "&timeoutSeconds=1",
    )
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "kube-root-ca.crt"),
        ("ADDED", "one"),
        ("ADDED", "two"),
        ("BOOKMARK", None),
    ]
    bookmark = events[-1]["object"]
    assert bookmark["kind"] == "ConfigMap"
    assert bookmark["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["metadata"]["resourceVersion"]) >= int(
        events[-2]["object"]["metadata"]["resourceVersion"]
    )


def test_kubectl_wait_watches_with_its_versions_protocol(
    kubectl_on: Callable[[KubeSim], Any], kubectl_bin: Path, sim: KubeSim
) -> None:
    kubectl = kubectl_on(sim)
    create_configmap(sim, "settings")
    waiting = subprocess.Popen(
        [str(kubectl.binary), "wait", "cm/settings", "--for=jsonpath={.data.a}=2", "--timeout=9s"],
        env=sim.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: sim.open_watches == 1)
    patch_configmap(sim, "settings", {"data": {"a": "2"}})
    out, err = waiting.communicate(timeout=15)
    assert waiting.returncode == 0, err
    assert out.strip() == "configmap/settings condition met"
    path = "/api/v1/namespaces/default/configmaps"
    wait_for(lambda: sim.open_watches == 0)
    (watch,) = [q for q in watch_requests(sim, path) if q.get("watch") == "true"]
    lists = [q for q in watch_requests(sim, path) if "watch" not in q]
    assert watch["fieldSelector"] == "metadata.name=settings"
    if kubectl_bin.name.endswith("1.32"):
        # 1.32: list, then watch from the list's resourceVersion.
        assert len(lists) == 1
        assert watch["resourceVersion"].isdigit()
        assert "sendInitialEvents" not in watch
    else:
        # 1.37: the WatchList client: one watch with initial events, no list at all.
        assert lists == []
        assert watch["sendInitialEvents"] == "true"
        assert watch["resourceVersionMatch"] == "NotOlderThan"
        assert watch["allowWatchBookmarks"] == "true"


class Streamed:
    """The stdout lines of a long-running kubectl, read with a deadline."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.lines: list[str] = []
        self._partial = b""

    def until(self, wanted: Callable[[list[str]], bool], timeout: float = 10) -> list[str]:
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + timeout
        while not wanted(self.lines):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"not seen in time; got {self.lines} {self.process.args}"
            ready, _, _ = select.select([stdout], [], [], remaining)
            if ready:
                chunk = os.read(stdout.fileno(), 65536)
                assert chunk, f"kubectl ended early; got {self.lines}"
                *complete, self._partial = (self._partial + chunk).split(b"\n")
                self.lines.extend(line.decode() for line in complete)
        return self.lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.communicate(timeout=5)


@pytest.fixture
def streamed(sim: KubeSim, kubectl_bin: Path) -> Any:
    started: list[Streamed] = []

    def start(*args: str) -> Streamed:
        stream = Streamed([str(kubectl_bin), *args], sim.env)
        started.append(stream)
        return stream

    yield start
    for stream in started:
        stream.stop()


def test_get_watch_prints_table_rows_for_changes(sim: KubeSim, streamed: Any) -> None:
    create_configmap(sim, "settings")
    watch = streamed("get", "cm", "settings", "-w")
    watch.until(lambda lines: len(lines) == 2)
    assert watch.lines[0].split() == ["NAME", "DATA", "AGE"]
    assert watch.lines[1].split()[:2] == ["settings", "1"]
    # kubectl skips the watch's first (synthetic ADDED) event, having printed the object:
    # change it only once the watch is open, as a real cluster's timing would.
    wait_for(lambda: sim.open_watches == 1)
    patch_configmap(sim, "settings", {"data": {"b": "2"}})
    watch.until(lambda lines: len(lines) == 3)
    assert watch.lines[2].split()[:2] == ["settings", "2"]
    watch.stop()
    wait_for(lambda: sim.open_watches == 0)
    (table_watch,) = [r for r in sim.requests if "watch=true" in r.query]
    assert "as=Table" in table_watch.accept


def test_selector_watch_reports_an_object_leaving_as_deleted(sim: KubeSim, streamed: Any) -> None:
    create_configmap(sim, "kept", {"app": "web"})
    create_configmap(sim, "leaving", {"app": "web"})
    watch = streamed("get", "cm", "-l", "app=web", "-w", "--output-watch-events")
    watch.until(lambda lines: len(lines) == 3)
    wait_for(lambda: sim.open_watches == 1)
    patch_configmap(sim, "leaving", {"metadata": {"labels": {"app": "other"}}})
    watch.until(lambda lines: len(lines) == 4)
    assert watch.lines[3].split()[:2] == ["DELETED", "leaving"]
    assert sim.get("configmaps", "leaving", "default") is not None


def test_selector_watch_event_types_at_the_api() -> None:
    store = Store()
    api = Api(store, Scenario(), lambda target, query: "")
    store.create(by_plural("namespaces"), {"metadata": {"name": "default"}})
    target = Target(CONFIGMAPS, "default")
    api.create(target, {"metadata": {"name": "c", "labels": {"app": "a"}}}, {}, "t")
    start = str(store.resource_version)
    for labels in ({"app": "b"}, {"app": "a"}, {"app": "a", "x": "1"}):
        body = json.dumps({"metadata": {"labels": labels}}).encode()
        api.patch(Target(CONFIGMAPS, "default", "c"), body, "application/merge-patch+json", {}, "t")
    query = {"labelSelector": "app=a", "resourceVersion": start, "timeoutSeconds": "0"}
    events = list(api.watch(target, query, lambda: False))
    # leaving the selection is DELETED, entering it ADDED, changing inside it MODIFIED
    assert [e["type"] for e in events] == ["DELETED", "ADDED", "MODIFIED"]


def test_watch_from_a_compacted_resource_version_is_410_expired() -> None:
    store = Store(history_length=3)
    api = Api(store, Scenario(), lambda target, query: "")
    store.create(by_plural("namespaces"), {"metadata": {"name": "default"}})
    first = store.resource_version
    for n in range(10):
        api.create(Target(CONFIGMAPS, "default"), {"metadata": {"name": f"c{n}"}}, {}, "t")
    oldest = store.oldest_watchable
    assert oldest > first
    query = {"resourceVersion": str(first), "timeoutSeconds": "1"}
    (event,) = list(api.watch(Target(CONFIGMAPS, "default"), query, lambda: False))
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["code"], status["reason"]) == (410, "Expired")
    assert status["message"] == f"too old resource version: {first} ({oldest})"
    recent = {"resourceVersion": str(oldest), "timeoutSeconds": "0"}
    events = list(api.watch(Target(CONFIGMAPS, "default"), recent, lambda: False))
    assert events and {e["type"] for e in events} == {"ADDED"}


def test_watch_ends_when_timeout_seconds_pass(sim: KubeSim) -> None:
    started = time.monotonic()
    events = watch_events(sim, "resourceVersion=0&timeoutSeconds=1")
    elapsed = time.monotonic() - started
    assert [e["type"] for e in events] == ["ADDED"]  # kube-root-ca.crt, then silence
    assert 0.9 <= elapsed < 2.5


def test_watch_changes_arrive_while_the_watch_is_open(sim: KubeSim) -> None:
    version = str(sim.cluster.store.resource_version)
    url = (
        f"{sim.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={version}"
        "&timeoutSeconds=3"
    )
    with urllib.request.urlopen(url, timeout=5) as stream:
        create_configmap(sim, "late")
        event = json.loads(stream.readline())
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "late")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "sendInitialEvents=true",
            'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ),
        (
            "resourceVersionMatch=NotOlderThan",
            'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
            "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
    ],
)
def test_invalid_watch_options_are_422_before_any_event(
    sim: KubeSim, query: str, message: str
) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        watch_events(sim, query)
    status = json.loads(raised.value.read())
    assert raised.value.code == 422
    assert (status["reason"], status["message"]) == ("Invalid", message)
    assert status["details"]["group"] == "meta.k8s.io"
    assert status["details"]["causes"][0]["reason"] == "FieldValueForbidden"


def test_bad_selector_on_a_watch_is_400_not_a_broken_stream(sim: KubeSim) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        watch_events(sim, "labelSelector=app%3D%3D%3D")
    assert raised.value.code == 400
