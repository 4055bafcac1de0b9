"""The scripted clusters the figures run on, and the floors derived from them.

The floor of a deploy is the cluster's own work, which no client can shorten: within a stage the
pods start together, so a stage lasts as long as its slowest image's script; stages run one after
the other, so

    critical path = Σ_stages max_images_of_stage (pullDelay + startDelay + readyDelay) / speed

(an image marked ``present`` skips its pull).  Stages without pods (namespace, storage,
configuration) add nothing.  The images per stage come from the same plan run.py follows, so the
formula follows the manifests if they change.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from asky_scripts.plan import load_plan
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


FAILURES: tuple[Failure, ...] = (
    Failure(
        "image-not-found",
        "image not found",
        "images: [{match: 'asky-auth:*', pull: notFound}]",
        "not found",
        pod_reasons=frozenset({"ErrImagePull", "ImagePullBackOff"}),
    ),
    Failure(
        "crash-loop",
        "crash loop",
        "images: [{match: 'asky-pyxis:*', crash: {exitCode: 3}, logs: ['pyxis: bad config']}]",
        "exited with code 3",
        pod_reasons=frozenset({"CrashLoopBackOff", "Terminated"}),
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
        "unschedulable",
        "unschedulable pod",
        "node: {memory: 200Mi}",
        "Insufficient memory",
        pod_reasons=frozenset({"Unschedulable"}),
    ),
)


def scripted(text: str, speed: float = 1.0) -> Scenario:
    """The scenario with every scripted delay divided by ``speed`` (quick mode uses > 1)."""
    data = yaml.safe_load(text) or {}
    return Scenario.from_dict({**data, "speed": speed})


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
        floors[planned.stage.name] = scenario.seconds(slowest)
    return floors


def critical_path(scenario: Scenario) -> float:
    return sum(stage_floors(scenario).values())


def finalize_floor(scenario: Scenario) -> float:
    """A namespace cannot go before its finalize delay, nor before its pods have stopped."""
    return scenario.seconds(max(scenario.namespace_finalize_delay, scenario.pod_stop_delay))
