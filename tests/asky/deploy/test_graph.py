"""The deploy's graph of stages: what each stage needs, read from the manifests, and how the
stages run (side by side where they may, reported in order, stopped together)."""

from __future__ import annotations

import threading
import time

import pytest

from asky_scripts.deploy.graph import (
    Epilogue,
    StageCancelledError,
    StageGraph,
    references,
    stage_needs,
)
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.stages import for_deploy, load_plan


def test_each_stage_needs_what_its_objects_mount_and_the_services_they_name() -> None:
    needs = stage_needs(for_deploy(load_plan(), DeployOptions()))
    assert needs == {
        "namespace": frozenset(),
        "storage": {"namespace"},
        "configuration": {"namespace"},
        "database": {"namespace", "storage", "configuration"},
        "services": {"namespace", "configuration", "database"},
    }


def test_references_of_a_pod_template() -> None:
    deployment = {
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {
                    "volumes": [
                        {"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
                        {"name": "b", "projected": {"sources": [{"secret": {"name": "key"}}]}},
                    ],
                    "containers": [
                        {
                            "env": [
                                {"name": "HOST", "value": "postgres:5432"},
                                {"name": "OTHER", "value": "example.org"},
                                {
                                    "name": "X",
                                    "valueFrom": {"configMapKeyRef": {"name": "conf", "key": "x"}},
                                },
                            ],
                            "envFrom": [{"secretRef": {"name": "env"}}],
                        }
                    ],
                }
            }
        },
    }
    assert references(deployment, {"postgres"}) == {
        ("PersistentVolumeClaim", "data"),
        ("Secret", "key"),
        ("Service", "postgres"),
        ("ConfigMap", "conf"),
        ("Secret", "env"),
    }


def test_a_stage_may_not_need_a_later_one() -> None:
    with pytest.raises(ValueError, match="a needs a stage that comes after it"):
        StageGraph(["a", "b"], {"a": frozenset({"b"})})


def test_stage_lines_stay_in_order_when_a_later_stage_finishes_first() -> None:
    graph: StageGraph[str] = StageGraph(
        ["a", "slow", "fast", "last"],
        {
            "slow": frozenset({"a"}),
            "fast": frozenset({"a"}),
            "last": frozenset({"slow", "fast"}),
        },
    )
    finished: list[str] = []
    started: list[str] = []

    def work(name: str) -> str:
        if name == "slow":
            time.sleep(0.3)
        finished.append(name)
        return name

    done: list[str] = []
    graph.run(started.append, work, lambda name, _: done.append(name), threading.Event())

    assert finished == ["a", "fast", "slow", "last"]
    assert done == ["a", "slow", "fast", "last"]
    assert started == ["a", "slow", "fast", "last"]


def test_a_failure_beside_a_waiting_stage_stops_the_wait_and_is_raised() -> None:
    cancel = threading.Event()
    graph: StageGraph[None] = StageGraph(["waits", "fails"], {})
    began = time.monotonic()

    def work(name: str) -> None:
        if name == "fails":
            raise ClusterRefusedError("refused")
        while time.monotonic() - began < 10:  # a wait that checks for cancellation each tick
            if cancel.is_set():
                raise StageCancelledError()
            time.sleep(0.01)

    with pytest.raises(ClusterRefusedError, match="refused"):
        graph.run(lambda _: None, work, lambda *_: None, cancel)
    assert time.monotonic() - began < 5
    assert graph.failed == "fails"


def test_an_epilogue_lets_the_next_stages_start_and_keeps_the_lines_in_order() -> None:
    graph: StageGraph[str] = StageGraph(["database", "apps"], {"apps": frozenset({"database"})})
    log_read = threading.Event()
    apps_began_before_the_log = []

    def read_log() -> str:
        time.sleep(0.2)
        log_read.set()
        return "database"

    def work(name: str) -> str | Epilogue[str]:
        if name == "database":
            return Epilogue(read_log)
        apps_began_before_the_log.append(not log_read.is_set())
        log_read.wait(5)
        time.sleep(0.2)
        said_while_apps_ran.extend(done)
        return name

    done: list[str] = []
    said_while_apps_ran: list[str] = []
    graph.run(lambda _: None, work, lambda name, _: done.append(name), threading.Event())

    assert apps_began_before_the_log == [True]
    # The database's line came as soon as its log was read, not after the apps.
    assert said_while_apps_ran == ["database"]
    assert done == ["database", "apps"]
