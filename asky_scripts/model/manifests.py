"""Reads the Asky manifests and rewrites them for the namespace and flags of one deploy.

The files under ``manifests/`` describe the default deploy (namespace ``asky``); every other
namespace is the same set of objects with the namespace, the instance label, the volume name and
the hostPath moved, so that two copies never share a volume or select each other's pods.
Everything here is pure and happens before the cluster is touched: a broken file or a bad flag
is reported with its file and line and nothing is applied.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asky_scripts.cluster.kinds import is_namespaced
from asky_scripts.errors import ManifestError, UsageError

MANIFESTS_DIR = Path(__file__).resolve().parents[2] / "manifests"
DEFAULT_NAMESPACE = "asky"
PART_OF = "asky"
MANAGED_BY = "asky-scripts"
INSTANCE_LABEL = "app.kubernetes.io/instance"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DEFAULT_PV_NAME = "asky-postgres-data"
# The database's claim: the one our volume may be bound to.
CLAIM_NAME = "postgres-data"
DATABASE = "postgres"
GATEWAY = "gateway"
GATEWAY_TYPES = ("NodePort", "LoadBalancer")


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# The grammar of github.com/distribution/reference, without the rarely used IPv6 hosts.
_IMAGE_REFERENCE = re.compile(
    r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
    r"(?::[0-9]+)?)/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object as written in a file, with where it came from for error messages."""

    source: str
    line: int
    obj: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        return str(self.obj.get("metadata", {}).get("name", ""))

    @property
    def namespaced(self) -> bool:
        return is_namespaced(self.kind)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def with_obj(self, obj: dict[str, Any]) -> Manifest:
        return Manifest(self.source, self.line, obj)


#: On our volume: it was adopted from run.sh (see adoption.py), and where the database lies.
ADOPTED_ANNOTATION = "asky-scripts/adopted-from"
PGDATA_ANNOTATION = "asky-scripts/pgdata-subpath"
POSTGRES_MOUNT = "/var/lib/postgresql/data"


@dataclass(frozen=True)
class AdoptedLayout:
    """Where a database adopted from run.sh lives: our volume points at run.sh's directory
    and PGDATA at the database inside it (``subpath`` below the mount, often ``""``)."""

    host_path: str
    subpath: str = ""


@dataclass(frozen=True)
class DeployOptions:
    """What the command line changes about the manifests."""

    namespace: str = DEFAULT_NAMESPACE
    replicas: Mapping[str, int] = field(default_factory=dict)
    images: Mapping[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    gateway_type: str | None = None
    #: Set when the database is run.sh's, adopted in place (see adoption.py).
    adopted: AdoptedLayout | None = None

    @property
    def pv_name(self) -> str:
        return volume_name(self.namespace)


def volume_name(namespace: str) -> str:
    """Our PersistentVolume's name for a namespace; PVs are cluster-wide, so it carries it."""
    return DEFAULT_PV_NAME.replace(DEFAULT_NAMESPACE, namespace, 1)


def check_namespace_name(namespace: str) -> None:
    """Refuses a namespace name the apiserver would refuse, before anything is sent."""
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        raise UsageError(
            f"invalid namespace name {namespace!r}",
            hint="use at most 63 lower-case letters, digits and '-', starting and ending "
            "with a letter or digit",
        )


def check_image_reference(image: str) -> None:
    if not _IMAGE_REFERENCE.match(image):
        raise UsageError(
            f"invalid image reference {image!r}",
            hint="expected [registry[:port]/]name[:tag][@sha256:digest], e.g. asky-auth:1.1",
        )


def load_file(path: Path, root: Path) -> list[Manifest]:
    """Every object in one YAML file; empty documents are skipped, broken ones are errors."""
    source = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{source}: cannot read: {exc}") from exc
    loader = yaml.SafeLoader(text)
    manifests: list[Manifest] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            line = node.start_mark.line + 1
            obj = loader.construct_document(node)
            if obj is None:
                continue
            manifests.append(Manifest(source, line, _checked_object(obj, source, line)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"{source}:{mark.line + 1}" if mark else source
        # Where the unclosed bracket or block began is often the line to fix.
        began = exc.context_mark
        opened = (
            f" ({exc.context} that began at line {began.line + 1})"
            if exc.context and began and mark and began.line != mark.line
            else ""
        )
        raise ManifestError(f"{at}: YAML syntax error: {exc.problem or exc}{opened}") from exc
    except yaml.YAMLError as exc:
        raise ManifestError(f"{source}: YAML error: {exc}") from exc
    finally:
        loader.dispose()
    return manifests


def _checked_object(obj: object, source: str, line: int) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise ManifestError(f"{source}:{line}: expected a Kubernetes object, found {obj!r:.60}")
    missing = [
        key
        for key, value in (
            ("apiVersion", obj.get("apiVersion")),
            ("kind", obj.get("kind")),
            ("metadata.name", (obj.get("metadata") or {}).get("name")),
        )
        if not value
    ]
    if missing:
        raise ManifestError(f"{source}:{line}: object without {', '.join(missing)}")
    return obj


def rewrite(manifest: Manifest, options: DeployOptions) -> Manifest | None:
    """The object as this deploy applies it, or None when the options drop it."""
    if options.storage_class and manifest.kind == "PersistentVolume":
        return None  # the class provisions the claim's volume
    obj = copy.deepcopy(manifest.obj)
    ns = options.namespace
    metadata = obj.setdefault("metadata", {})
    if manifest.kind == "Namespace":
        metadata["name"] = ns
    elif manifest.namespaced:
        metadata["namespace"] = ns
    _retarget_labels(obj, ns)
    if manifest.kind == "PersistentVolume":
        _retarget_volume(obj, options)
    elif manifest.kind == "PersistentVolumeClaim":
        _retarget_claim(obj, options)
    elif manifest.kind == "ConfigMap":
        obj["data"] = {
            key: _retarget_dns(value, ns) for key, value in (obj.get("data") or {}).items()
        }
    elif manifest.kind == "Deployment":
        _apply_workload_options(obj, options)
    elif manifest.kind == "Service" and manifest.name == GATEWAY and options.gateway_type:
        obj.setdefault("spec", {})["type"] = options.gateway_type
    return manifest.with_obj(obj)


def _walk_mappings(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_mappings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_mappings(item)


def _retarget_labels(obj: dict[str, Any], namespace: str) -> None:
    """Moves every label and selector naming the default instance or namespace to ours."""
    for mapping in _walk_mappings(obj):
        for key in (INSTANCE_LABEL, NAMESPACE_NAME_LABEL):
            if mapping.get(key) == DEFAULT_NAMESPACE:
                mapping[key] = namespace


def _retarget_dns(value: object, namespace: str) -> object:
    if isinstance(value, str):
        return value.replace(f".{DEFAULT_NAMESPACE}.svc", f".{namespace}.svc")
    return value


def _retarget_volume(obj: dict[str, Any], options: DeployOptions) -> None:
    ns = options.namespace
    if obj["metadata"]["name"] == DEFAULT_PV_NAME:
        obj["metadata"]["name"] = options.pv_name
    spec = obj.setdefault("spec", {})
    claim_ref = spec.get("claimRef")
    if isinstance(claim_ref, dict):
        claim_ref["namespace"] = ns
    host_path = spec.get("hostPath")
    if isinstance(host_path, dict) and isinstance(host_path.get("path"), str):
        parts = host_path["path"].split("/")
        host_path["path"] = "/".join(ns if part == DEFAULT_NAMESPACE else part for part in parts)
        if options.adopted is not None:
            host_path["path"] = options.adopted.host_path
            obj["metadata"].setdefault("annotations", {}).update(
                {ADOPTED_ANNOTATION: "run.sh", PGDATA_ANNOTATION: options.adopted.subpath}
            )


def _retarget_claim(obj: dict[str, Any], options: DeployOptions) -> None:
    spec = obj.setdefault("spec", {})
    if options.storage_class:
        spec["storageClassName"] = options.storage_class
        spec.pop("volumeName", None)
        spec.pop("selector", None)
    elif spec.get("volumeName") == DEFAULT_PV_NAME:
        spec["volumeName"] = options.pv_name


def _apply_workload_options(obj: dict[str, Any], options: DeployOptions) -> None:
    name = obj["metadata"]["name"]
    spec = obj.setdefault("spec", {})
    if name in options.replicas:
        spec["replicas"] = options.replicas[name]
    pod_spec = spec.get("template", {}).get("spec", {})
    for container in pod_spec.get("containers", []) + pod_spec.get("initContainers", []):
        for env in container.get("env", []):
            if "value" in env:
                env["value"] = _retarget_dns(env["value"], options.namespace)
    if name == DATABASE and options.adopted is not None:
        for container in pod_spec.get("containers", []):
            for env in container.get("env", []):
                if env.get("name") == "PGDATA":
                    env["value"] = POSTGRES_MOUNT + options.adopted.subpath
    if name in options.images:
        containers = pod_spec.get("containers", [])
        target = next((c for c in containers if c.get("name") == name), None)
        if target is None and len(containers) == 1:
            target = containers[0]
        if target is None:
            raise UsageError(f"--set-image {name}: no container named {name!r} in its Deployment")
        target["image"] = options.images[name]


def check_options_against(manifests: list[Manifest], options: DeployOptions) -> None:
    """Refuses flags that name services the manifests do not have, with the valid names."""
    deployments = sorted(m.name for m in manifests if m.kind == "Deployment")
    for flag, names in (("--replicas", options.replicas), ("--set-image", options.images)):
        unknown = sorted(set(names) - set(deployments))
        if unknown:
            raise UsageError(
                f"{flag}: unknown service {', '.join(unknown)}",
                hint=f"services are: {', '.join(deployments)}",
            )
    if options.replicas.get(DATABASE, 1) > 1:
        raise UsageError(
            f"--replicas {DATABASE}: at most 1",
            hint="PostgreSQL runs as a single instance on one ReadWriteOnce volume",
        )
    if options.gateway_type and options.gateway_type not in GATEWAY_TYPES:
        raise UsageError(f"--gateway-type must be one of {', '.join(GATEWAY_TYPES)}")


def check_selectors(manifests: list[Manifest]) -> None:
    """Catches selector typos before the cluster does (or, for Services, never would)."""
    templates: list[tuple[Manifest, dict[str, Any]]] = []
    for m in manifests:
        if m.kind != "Deployment":
            continue
        spec = m.obj.get("spec", {})
        labels = spec.get("template", {}).get("metadata", {}).get("labels", {}) or {}
        match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
        if not _selects(match_labels, labels):
            raise ManifestError(
                f"{m.where}: Deployment {m.name}: spec.selector {_label_text(match_labels)} "
                f"does not match its pod template labels {_label_text(labels)}"
            )
        templates.append((m, labels))
    for m in manifests:
        selector = m.obj.get("spec", {}).get("selector") if m.kind == "Service" else None
        if selector and not any(_selects(selector, labels) for _, labels in templates):
            raise ManifestError(
                f"{m.where}: Service {m.name}: selector {_label_text(selector)} matches no "
                "Deployment's pods",
                hint="compare it with spec.template.metadata.labels of the Deployment it serves",
            )


def _label_text(labels: Mapping[str, Any]) -> str:
    """Labels as kubectl's ``-l`` takes them, which a person can paste to look for the pods."""
    return ",".join(f"{key}={value}" for key, value in labels.items()) or "(none)"


def _selects(selector: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def to_stream(manifests: list[Manifest]) -> str:
    """The YAML stream piped to ``kubectl apply -f -``."""
    return yaml.safe_dump_all([m.obj for m in manifests], sort_keys=False)
