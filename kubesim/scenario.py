"""Scenario files: how the simulated cluster behaves for one run.

A scenario scripts what a real cluster would do on its own (image pulls that take time or fail,
containers that crash, probes that never pass, finalizers that never go away) and the faults a
flaky API server shows, so tests and benchmarks can reproduce a bad day exactly.  Every field
is optional; ``kubesim/README.md`` documents the format.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import yaml

JSON = dict[str, Any]

POSTGRES_LOG = (
    'The files belonging to this database system will be owned by user "postgres".',
    'The database cluster will be initialized with locale "en_US.utf8".',
    "fixing permissions on existing directory /var/lib/postgresql/data/pgdata ... ok",
    "creating subdirectories ... ok",
    "Success. You can now start the database server using:",
    "/usr/local/bin/docker-entrypoint.sh: running /docker-entrypoint-initdb.d/01-init.sh",
    "CREATE SCHEMA",
    "CREATE TABLE",
    "CREATE ROLE",
    "PostgreSQL init process complete; ready for start up.",
    "LOG:  database system is ready to accept connections",
)

POSTGRES_RESTART_LOG = (
    "PostgreSQL Database directory appears to contain a database; Skipping initialization",
    "LOG:  database system was shut down at 2026-01-01 00:00:00 UTC",
    "LOG:  database system is ready to accept connections",
)


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message says which field and why."""


@dataclass(frozen=True)
class Crash:
    """A container that exits after running ``after`` seconds, ``times`` times (None: always)."""

    exit_code: int = 1
    after: float = 0.0
    times: int | None = None
    reason: str = "Error"


@dataclass(frozen=True)
class ImageBehaviour:
    match: str = "*"
    pull: str = "ok"  # ok | notFound | noRepository | unauthorized | timeout
    # How many pulls fail before one succeeds (None: every pull fails, unless pull is ok).
    pull_failures: int | None = None
    pull_delay: float = 0.0
    present: bool = False
    start_delay: float = 0.0
    ready_delay: float = 0.0
    never_ready: bool = False
    crash: Crash | None = None
    logs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Forbidden:
    verb: str
    resource: str
    namespace: str = ""


@dataclass(frozen=True)
class Faults:
    """API faults, drawn from a seeded generator so a failing run can be replayed."""

    seed: int = 0
    error_rate: float = 0.0
    error_codes: tuple[int, ...] = (500, 503, 429)
    retry_after: int = 1
    reset_rate: float = 0.0
    latency: float = 0.0
    watch_cut_after: float = 0.0
    forbidden: tuple[Forbidden, ...] = ()
    unauthorized: bool = False

    @property
    def any_random(self) -> bool:
        return bool(self.error_rate or self.reset_rate or self.latency or self.watch_cut_after)


@dataclass(frozen=True)
class Node:
    name: str = "minikube"
    address: str = "192.168.49.2"
    cpu: str = "2"
    memory: str = "3912Mi"
    pods: str = "110"


@dataclass(frozen=True)
class Scenario:
    kubernetes_version: str = "v1.36.0"
    speed: float = 1.0
    images: tuple[ImageBehaviour, ...] = ()
    node: Node = field(default_factory=Node)
    storage_classes: tuple[JSON, ...] | None = None
    objects: tuple[JSON, ...] = ()
    namespace_finalize_delay: float = 0.0
    pod_stop_delay: float = 0.2
    faults: Faults = field(default_factory=Faults)
    user: str = "minikube-user"

    def image(self, reference: str) -> ImageBehaviour:
        """The first behaviour whose glob matches the image, else a well-behaved image."""
        for behaviour in self.images:
            if fnmatch.fnmatchcase(reference, behaviour.match):
                return behaviour
        return ImageBehaviour()

    def seconds(self, scripted: float) -> float:
        """Real seconds for a scripted duration, after the scenario's speed-up."""
        return scripted / self.speed

    @classmethod
    def from_yaml(cls, text: str) -> Scenario:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as error:
            raise ScenarioError(f"scenario is not valid YAML: {error}") from error
        if not isinstance(data, dict):
            raise ScenarioError("scenario must be a mapping")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: JSON) -> Scenario:
        known = {
            "kubernetesVersion",
            "speed",
            "images",
            "node",
            "storageClasses",
            "objects",
            "namespaceFinalizeDelay",
            "podStopDelay",
            "faults",
            "user",
        }
        _reject_unknown("scenario", data, known)
        version = str(data.get("kubernetesVersion", cls.kubernetes_version))
        speed = float(data.get("speed", 1.0))
        if speed <= 0:
            raise ScenarioError("speed must be positive")
        classes = data.get("storageClasses")
        return cls(
            kubernetes_version=version if version.startswith("v") else f"v{version}",
            speed=speed,
            images=tuple(_image(i, item) for i, item in enumerate(data.get("images") or [])),
            node=Node(**_renamed("node", data.get("node") or {}, _NODE_FIELDS)),
            storage_classes=None if classes is None else tuple(classes),
            objects=tuple(data.get("objects") or ()),
            namespace_finalize_delay=float(data.get("namespaceFinalizeDelay", 0.0)),
            pod_stop_delay=float(data.get("podStopDelay", 0.2)),
            faults=_faults(data.get("faults") or {}),
            user=str(data.get("user", "minikube-user")),
        )


_NODE_FIELDS = {
    "name": "name",
    "address": "address",
    "cpu": "cpu",
    "memory": "memory",
    "pods": "pods",
}
_IMAGE_FIELDS = {
    "match": "match",
    "pull": "pull",
    "pullFailures": "pull_failures",
    "pullDelay": "pull_delay",
    "present": "present",
    "startDelay": "start_delay",
    "readyDelay": "ready_delay",
    "neverReady": "never_ready",
}
#: What an image pull meets: success, or one of the causes containerd words differently.
PULL_FAILURES = ("ok", "notFound", "noRepository", "unauthorized", "timeout")
_CRASH_FIELDS = {"exitCode": "exit_code", "after": "after", "times": "times", "reason": "reason"}
_FAULT_FIELDS = {
    "seed": "seed",
    "errorRate": "error_rate",
    "retryAfter": "retry_after",
    "resetRate": "reset_rate",
    "latency": "latency",
    "watchCutAfter": "watch_cut_after",
    "unauthorized": "unauthorized",
}


def _reject_unknown(where: str, data: JSON, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(unknown)}")


def _renamed(where: str, data: JSON, names: dict[str, str]) -> JSON:
    _reject_unknown(where, data, set(names))
    return {names[k]: v for k, v in data.items()}


def _image(index: int, data: JSON) -> ImageBehaviour:
    where = f"images[{index}]"
    rest = {k: v for k, v in data.items() if k not in ("crash", "logs")}
    fields = _renamed(where, rest, _IMAGE_FIELDS)
    if fields.get("pull", "ok") not in PULL_FAILURES:
        raise ScenarioError(f"{where}.pull must be one of {', '.join(PULL_FAILURES)}")
    crash = data.get("crash")
    return ImageBehaviour(
        **fields,
        crash=None if crash is None else Crash(**_renamed(f"{where}.crash", crash, _CRASH_FIELDS)),
        logs=tuple(str(line) for line in data.get("logs") or ()),
    )


def _faults(data: JSON) -> Faults:
    rest = {k: v for k, v in data.items() if k not in ("errorCodes", "forbidden")}
    fields = _renamed("faults", rest, _FAULT_FIELDS)
    forbidden = tuple(
        Forbidden(
            **_renamed(
                "faults.forbidden",
                item,
                {"verb": "verb", "resource": "resource", "namespace": "namespace"},
            )
        )
        for item in data.get("forbidden") or ()
    )
    codes = tuple(int(c) for c in data.get("errorCodes", (500, 503, 429)))
    return Faults(**fields, error_codes=codes, forbidden=forbidden)
