"""The namespace lock: a live holder is waited for, named, and refused after --wait."""

from __future__ import annotations

import time

import pytest

from asky_scripts.cluster import lock
from asky_scripts.errors import ClusterRefusedError
from tests.asky.fake_kubectl import FakeRunner, fake_kubectl

TAKEN = 'Error from server (AlreadyExists): configmaps "asky-scripts-lock" already exists'


def held_by(holder: str) -> dict[str, object]:
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 60))
    annotations = {lock.HOLDER_ANNOTATION: holder, lock.EXPIRES_ANNOTATION: expires}
    return {"kind": "ConfigMap", "metadata": {"name": lock.LOCK_NAME, "annotations": annotations}}


def held(holder: str) -> FakeRunner:
    """A kubectl that finds the lock held by ``holder``, live for another minute."""
    return (
        FakeRunner()
        .on("create", returncode=1, stderr=TAKEN)
        .on("get", "configmaps/asky-scripts-lock", stdout=held_by(holder))
    )


def namespace_lock(runner: FakeRunner, wait: float, told: list[str]) -> lock.NamespaceLock:
    return lock.NamespaceLock(
        fake_kubectl(runner), "asky", labels={}, command="run.py", wait=wait, notify=told.append
    )


def test_a_live_holder_is_waited_for_named_once_and_refused_when_the_wait_runs_out() -> None:
    runner = held("run.py pid 7 on laptop")
    told: list[str] = []
    started = time.monotonic()
    with pytest.raises(ClusterRefusedError) as caught:
        namespace_lock(runner, 1.0, told).acquire()
    waited = time.monotonic() - started
    assert "being changed by another run: run.py pid 7 on laptop" in caught.value.message
    assert "waited 1s" in caught.value.message
    assert told == [
        "waiting for the lock of namespace asky, held by run.py pid 7 on laptop (up to 1s)"
    ]
    assert runner.commands().count("create -f") == 3  # at once, after 0.5 s, at the deadline
    assert 0.9 < waited < 2.0


def test_without_a_wait_a_held_lock_is_refused_at_once() -> None:
    runner = held("terminate.py pid 9")
    told: list[str] = []
    with pytest.raises(ClusterRefusedError):
        namespace_lock(runner, 0.0, told).acquire()
    assert told == []
    assert runner.commands().count("create -f") == 1


def test_a_lock_released_while_waiting_is_taken() -> None:
    runner = (
        FakeRunner()
        .on("create", returncode=1, stderr=TAKEN, times=1)
        .on("get", "configmaps/asky-scripts-lock", stdout=held_by("run.py pid 7"), times=1)
        .on("create", stdout="configmap/asky-scripts-lock")
    )
    told: list[str] = []
    taken = namespace_lock(runner, 30.0, told)
    taken.acquire()
    taken._stop.set()  # no renewal in a unit test
    assert told == ["waiting for the lock of namespace asky, held by run.py pid 7 (up to 30s)"]
    assert runner.commands().count("create -f") == 2
