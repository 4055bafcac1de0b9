"""The deploy task with a scripted kubectl (fake_kubectl.FakeRunner): its phases, its graph of
stages, and what it does on a refusal or a flaky API.  The e2e tests judge the rest."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from asky_scripts.deploy.apply import apply
from asky_scripts.deploy.preflight import ClusterFacts
from asky_scripts.deploy.task import Deployer
from asky_scripts.deploy.volume_rebind import VolumeFinding, VolumeState
from asky_scripts.errors import ManifestError
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.stages import PlannedStage, for_deploy, load_plan
from asky_scripts.readiness.verdict import Verdict
from tests.asky.fake_kubectl import FakeRunner, fake_kubectl, items

FRESH = ClusterFacts(
    context="test",
    client_version="v1.37.1",
    server_version="v1.36.0",
    namespace_exists=False,
    volume=VolumeFinding(VolumeState.ABSENT),
    host_directory=None,
    warnings=(),
)
UNAVAILABLE = (
    "Error from server (ServiceUnavailable): the server is currently unable to handle the request"
)


class Recorder:
    """A Progress that keeps the stage lines."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def stage_started(self, stage: str) -> None:
        self.events.append(("started", stage))

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None:
        self.events.append(("done", stage))

    def resource(self, stage: str, kind: str, name: str, verdict: Verdict) -> None:
        pass

    def note(self, stage: str, message: str, *, warning: bool = False) -> None:
        pass

    def command(self, argv: tuple[str, ...]) -> None:
        pass

    def retry(self, notice: object) -> None:
        pass

    def done(self) -> list[str]:
        return [stage for event, stage in self.events if event == "done"]


def plan(*stages: str) -> list[PlannedStage]:
    rewritten = for_deploy(load_plan(), DeployOptions())
    return [p for p in rewritten if p.stage.name in stages]


def objects_in(stdin: str | None) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (stdin or "").splitlines() if line.strip()]


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the server answers an apply: a new namespace is Active."""
    if obj["kind"] == "Namespace":
        return {**obj, "status": {"phase": "Active"}}
    return obj


def is_write(args: tuple[str, ...]) -> bool:
    return args[0] in ("create", "delete", "patch") or (
        args[0] == "apply" and "--dry-run=server" not in args
    )


class Cluster:
    """Answers a first deploy of the namespace, storage and configuration stages; the claim
    binds only once the configuration was applied (or after 5 s), so a deploy that ran the two
    stages one after the other would be seen."""

    def __init__(self) -> None:
        self.configuration_applied = threading.Event()
        self.bound_after_configuration = False
        self.lock: dict[str, Any] = {}
        self.runner = (
            FakeRunner()
            .on("apply", respond=self.apply)
            .on("create", respond=self.create)
            .on("get", "persistentvolumes/asky-postgres-data", stdout="")
            .on("get", "persistentvolumes,persistentvolumeclaims,events", respond=self.storage)
            .on("get", "configmaps/asky-scripts-lock", respond=lambda *_: json.dumps(self.lock))
            .on("delete")
        )

    def apply(self, args: tuple[str, ...], stdin: str | None) -> str:
        if "--dry-run=server" in args:
            return ""
        objects = [stored(obj) for obj in objects_in(stdin)]
        if any(obj["kind"] == "ConfigMap" for obj in objects):
            self.configuration_applied.set()
        return json.dumps(items(*objects))

    def create(self, args: tuple[str, ...], stdin: str | None) -> str:
        objects = objects_in(stdin)
        if objects and objects[0]["metadata"]["name"] == "asky-scripts-lock":
            self.lock = objects[0]
        return "\n".join(f"{o['kind'].lower()}/{o['metadata']['name']}" for o in objects)

    def storage(self, args: tuple[str, ...], stdin: str | None) -> str:
        self.bound_after_configuration = self.configuration_applied.wait(timeout=5)
        volume = {
            "kind": "PersistentVolume",
            "metadata": {"name": "asky-postgres-data"},
            "spec": {"claimRef": {"namespace": "asky", "name": "postgres-data"}},
            "status": {"phase": "Bound"},
        }
        claim = {
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "postgres-data", "namespace": "asky"},
            "spec": {"volumeName": "asky-postgres-data"},
            "status": {"phase": "Bound"},
        }
        return json.dumps(items(volume, claim))


def test_phases_in_order_with_storage_and_configuration_side_by_side() -> None:
    cluster = Cluster()
    progress = Recorder()
    deployer = Deployer(
        fake_kubectl(cluster.runner),
        plan("namespace", "storage", "configuration"),
        DeployOptions(),
        FRESH,
        progress,
        timeout=10,
    )
    deployer.validate()
    deployer.deploy()

    assert progress.done() == ["namespace", "storage", "configuration"]
    # Both applied before the claim's wait could end: the storage stage did not queue behind
    # configuration, nor configuration behind storage's wait.
    assert cluster.bound_after_configuration
    calls = [args for args, _ in cluster.runner.calls]
    first_write = next(i for i, args in enumerate(calls) if is_write(args))
    assert all("--dry-run=server" in args for args in calls[:first_write] if args[0] == "apply")
    # Configuration was judged from its apply's answer and the Secrets created: no get for it.
    assert not any(
        args[:2] == ("get", "configmaps,networkpolicies.networking.k8s.io") for args in calls
    )
    writes = [(args, stdin or "") for args, stdin in cluster.runner.calls if is_write(args)]
    # The namespace first, then the lock, before any other write.
    assert '"Namespace"' in writes[0][1]
    assert "asky-scripts-lock" in writes[1][1]


def test_a_refused_dry_run_stops_before_any_write() -> None:
    runner = FakeRunner().on(
        "apply",
        returncode=1,
        stderr='The Deployment "auth" is invalid: spec.replicas: Invalid value: -1',
    )
    deployer = Deployer(
        fake_kubectl(runner), plan("namespace", "services"), DeployOptions(), FRESH, Recorder()
    )
    with pytest.raises(ManifestError, match="auth"):
        deployer.validate()
    assert runner.calls
    assert not any(is_write(args) for args, _ in runner.calls)


def test_a_flaky_apply_goes_object_by_object_in_the_stage_order() -> None:
    runner = (
        FakeRunner()
        .on("apply", returncode=1, stderr=UNAVAILABLE, times=1)
        .on("apply", respond=lambda args, stdin: json.dumps(objects_in(stdin)[0]))
    )
    manifests = plan("services")[0].manifests

    returned = apply(fake_kubectl(runner), manifests, force=False)

    sent = [objects_in(stdin) for _, stdin in runner.calls]
    assert len(sent[0]) == len(manifests)
    assert all(len(one) == 1 for one in sent[1:])
    assert sorted(o[0]["metadata"]["name"] + o[0]["kind"] for o in sent[1:]) == sorted(
        m.name + m.kind for m in manifests
    )
    # Every Service before any Deployment, as in the stage.
    kinds = [one[0]["kind"] for one in sent[1:]]
    assert kinds == sorted(kinds, key=lambda kind: kind != "Service")
    assert len(returned) == len(manifests)
