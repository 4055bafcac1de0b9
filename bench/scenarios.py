"""The scripted clusters the figures run on, and the floors derived from them.

The floor of a deploy is the cluster's own work, which no client can shorten: within a stage the
pods start together, so a stage lasts as long as its slowest image's script; stages run one after
the other, so

    critical path = Σ_stages (max_images_of_stage (pullDelay + startDelay + readyDelay) / speed
                              + max minReadySeconds of the stage's Deployments)

(an image marked ``present`` skips its pull).  Stages without pods (namespace, storage,
configuration) add nothing.  The images per stage come from the same plan run.py follows, so the
formula follows the manifests if they change.

The settle term (``minReadySeconds``, 5 s on the four app Deployments) is real seconds, never
scaled by ``speed``: a Deployment is Available only that long after its pod is Ready, for
run.py and the peers alike, since all of them wait for Available.  The controller counts it from
the Ready condition's whole-second ``lastTransitionTime``, so a run really waits 4-5 s, at
random; figure 1 measures what each run got and normalises it to the written value
(``recorder.StoreRecorder.settle_shift``).
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from asky_scripts.model.stages import PlannedStage, load_plan
from kubesim import Scenario

DEPLOY = """
images:
  - {match: 'postgres:*', pullDelay: 1.0, startDelay: 0.3, readyDelay: 1.0}
  - {match: 'asky-*', pullDelay: 0.6, startDelay: 0.2, readyDelay: 0.8}
  - {match: 'nginxinc/*', pullDelay: 0.3, startDelay: 0.1, readyDelay: 0.4}
"""

# Room for 50 replicas of every service; short scripts so the client's work dominates.
SCALE = """
node: {cpu: '64', memory: 256Gi, pods: '1000'}
images:
  - {match: '*', readyDelay: 0.5}
"""

TEARDOWN = """
namespaceFinalizeDelay: 2.0
podStopDelay: 0.2
"""


@dataclass(frozen=True)
class Failure:
    """A deploy that cannot succeed, and how to recognise the first sign of its cause."""

    name: str
    title: str
    scenario: str
    # Substring of run.py's output that proves it named the cause.
    cause_text: str
    # Pod reasons (container waiting reasons, Unschedulable, Terminated) that show the cause …
    pod_reasons: frozenset[str] = frozenset()
    # … or, when no pod status carries it, the event reason and message fragment that do.
    event: tuple[str, str] = ("", "")
    # Rename this ConfigMap data key in a copy of the manifests (the deploy still references it).
    drop_config_key: tuple[str, str] = ("", "")
    # Refused by run.py's preflight, before any pod shows it: timed from run.py's launch.
    preflight: bool = False


FAILURES: tuple[Failure, ...] = (
    Failure(
        "image-never-loaded",
        "local image never loaded (no repository)",
        "images: [{match: 'asky-auth:*', pull: noRepository}]",
        "in no registry",
        pod_reasons=frozenset({"ErrImagePull", "ImagePullBackOff"}),
    ),
    Failure(
        "image-not-found",
        "image tag not found",
        "images: [{match: 'asky-auth:*', pull: notFound}]",
        "not found",
        pod_reasons=frozenset({"ErrImagePull", "ImagePullBackOff"}),
    ),
    Failure(
        "crash-loop",
        "crash loop (from its second exit)",
        "images: [{match: 'asky-pyxis:*', crash: {exitCode: 3}, logs: ['pyxis: bad config']}]",
        "exited with code 3",
        pod_reasons=frozenset({"CrashLoopBackOff", "ExitedAgain"}),
    ),
    Failure(
        "ready-then-crash",
        "ready, then crashes (from its second exit)",
        "images: [{match: 'nginxinc/*', crash: {exitCode: 2, after: 1.0}}]",
        "exited with code 2",
        pod_reasons=frozenset({"CrashLoopBackOff", "ExitedAgain"}),
    ),
    Failure(
        "missing-config-key",
        "missing ConfigMap key",
        "",
        "non-existent config key",
        event=("FailedMount", "non-existent config key"),
        drop_config_key=("config-maps/gateway.yaml", "nginx.conf"),
    ),
    Failure(
        "too-big",
        "stack bigger than the node (run.py: preflight, from launch)",
        "node: {memory: 200Mi}",
        "short by",
        pod_reasons=frozenset({"Unschedulable"}),
        preflight=True,
    ),
)


@dataclass(frozen=True)
class Transient:
    """A deploy a real cluster finishes although something fails on the way."""

    name: str
    title: str
    scenario: str


TRANSIENTS: tuple[Transient, ...] = (
    Transient(
        "crash-once",
        "a service crashes once at start, then runs",
        "images: [{match: 'asky-auth:*', crash: {exitCode: 1, after: 0.2, times: 1}}]",
    ),
    Transient(
        "crash-once-after-ready",
        "a service crashes once after Ready, then runs",
        "images: [{match: 'nginxinc/*', crash: {exitCode: 2, after: 1.0, times: 1}}]",
    ),
)


def scripted(text: str, speed: float = 1.0) -> Scenario:
    """The scenario with every scripted delay divided by ``speed`` (quick mode uses > 1)."""
    data = yaml.safe_load(text) or {}
    return Scenario.from_dict({**data, "speed": speed})


def _settle(planned: PlannedStage) -> float:
    """The stage's largest minReadySeconds: the manifests' real seconds, not scripted ones."""
    return max(
        (
            float(m.obj["spec"].get("minReadySeconds", 0))
            for m in planned.manifests
            if m.kind == "Deployment"
        ),
        default=0.0,
    )


def stage_floors(scenario: Scenario) -> dict[str, float]:
    """Each stage's share of the critical path, in real seconds."""
    floors: dict[str, float] = {}
    for planned in load_plan():
        slowest = 0.0
        for manifest in planned.manifests:
            if manifest.kind != "Deployment":
                continue
            pod_spec = manifest.obj["spec"]["template"]["spec"]
            for container in pod_spec.get("containers", []):
                behaviour = scenario.image(str(container.get("image", "")))
                pull = 0.0 if behaviour.present else behaviour.pull_delay
                slowest = max(slowest, pull + behaviour.start_delay + behaviour.ready_delay)
        floors[planned.stage.name] = scenario.seconds(slowest) + _settle(planned)
    return floors


def settle_seconds() -> float:
    """The settle share of the critical path (each stage's largest minReadySeconds, summed)."""
    return sum(_settle(planned) for planned in load_plan())


def min_ready_seconds() -> dict[str, float]:
    """Each Deployment's ``minReadySeconds`` in the manifests (0 where it has none)."""
    return {
        str(manifest.obj["metadata"]["name"]): float(manifest.obj["spec"].get("minReadySeconds", 0))
        for planned in load_plan()
        for manifest in planned.manifests
        if manifest.kind == "Deployment"
    }


def critical_path(scenario: Scenario) -> float:
    return sum(stage_floors(scenario).values())


def finalize_floor(scenario: Scenario) -> float:
    """A namespace cannot go before its finalize delay, nor before its pods have stopped."""
    return scenario.seconds(max(scenario.namespace_finalize_delay, scenario.pod_stop_delay))
