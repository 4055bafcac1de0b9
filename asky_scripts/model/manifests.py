"""Reads the Asky manifests: the objects, where each was written, and what a deploy may change.

The files under ``manifests/`` describe the default deploy (namespace ``asky``); rewrite.py
moves them to the namespace and flags of one deploy.  Everything here is pure and happens before
the cluster is touched: a broken file or a bad flag is reported with its file and line and
nothing is applied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asky_scripts.cluster.kinds import is_namespaced
from asky_scripts.cluster.objects import Obj, kind_of, labels_of, meta, name_of, spec
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
    obj: Obj

    @property
    def kind(self) -> str:
        return kind_of(self.obj)

    @property
    def name(self) -> str:
        return name_of(self.obj)

    @property
    def namespaced(self) -> bool:
        return is_namespaced(self.kind)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"

    def with_obj(self, obj: Obj) -> Manifest:
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


# libyaml's loader when PyYAML was built with it: loading the plan takes 0.013 s with it against
# 0.13 s with the pure-Python one (median of 5 on a 2-core machine).  A file it refuses is read
# again by the pure-Python loader, whose messages (the ones documented) name the problem better.
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path, root: Path) -> list[Manifest]:
    """Every object in one YAML file; empty documents are skipped, broken ones are errors."""
    source = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{source}: cannot read: {exc}") from exc
    try:
        return _documents(text, source, _FAST_LOADER)
    except yaml.YAMLError:
        pass
    try:
        return _documents(text, source, yaml.SafeLoader)
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


def _documents(text: str, source: str, loader_class: type[yaml.SafeLoader]) -> list[Manifest]:
    loader = loader_class(text)
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
    finally:
        loader.dispose()
    return manifests


def _checked_object(obj: object, source: str, line: int) -> Obj:
    if not isinstance(obj, dict):
        raise ManifestError(f"{source}:{line}: expected a Kubernetes object, found {obj!r:.60}")
    missing = [
        key
        for key, value in (
            ("apiVersion", obj.get("apiVersion")),
            ("kind", obj.get("kind")),
            ("metadata.name", meta(obj).get("name")),
        )
        if not value
    ]
    if missing:
        raise ManifestError(f"{source}:{line}: object without {', '.join(missing)}")
    return obj


def check_selectors(manifests: list[Manifest]) -> None:
    """Catches selector typos before the cluster does (or, for Services, never would)."""
    templates: list[tuple[Manifest, Obj]] = []
    for m in manifests:
        if m.kind != "Deployment":
            continue
        template = spec(m.obj).get("template") or {}
        labels = labels_of(template)
        match_labels = (spec(m.obj).get("selector") or {}).get("matchLabels") or {}
        if not _selects(match_labels, labels):
            raise ManifestError(
                f"{m.where}: Deployment {m.name}: spec.selector {_label_text(match_labels)} "
                f"does not match its pod template labels {_label_text(labels)}"
            )
        templates.append((m, labels))
    for m in manifests:
        selector = spec(m.obj).get("selector") if m.kind == "Service" else None
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
