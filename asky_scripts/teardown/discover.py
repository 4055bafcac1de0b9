"""Reads what terminate.py decides from: one round of concurrent ``kubectl get``s.

Everything the refusals and the plan need is read at the same time, before any write: the
namespace and run.sh's volume (one process), everything inside the namespace, our volumes, the
current context, and whether RBAC lets us delete what a default teardown deletes.  The lock is
then taken one kubectl round-trip after the start, and the namespace is read again only when
the lock was contended (task.py), instead of three rounds of reads before every delete.

What is looked for inside the namespace is derived from the Asky model, not listed by hand: the
namespaced kinds of the manifests, the generated Secrets, the lock, and what a Deployment makes
(ReplicaSets, Pods), so a kind added to manifests/ cannot be forgotten by the teardown (a kind
cluster/kinds.py does not know cannot be read: a test checks there is none).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from asky_scripts.cluster.access import access_problems
from asky_scripts.cluster.kinds import KINDS, is_namespaced, resource
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.lock import LOCK_NAME
from asky_scripts.cluster.objects import Obj, kind_of, name_of, spec
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import MANIFESTS_DIR
from asky_scripts.model.ownership import is_ours, owner_selector
from asky_scripts.teardown.plan import Found

#: What a default teardown deletes: the namespace (with everything in it) and our volume.
DEFAULT_DELETES = ("namespaces", "persistentvolumes")
_KIND_LINE = re.compile(r"^kind:[ \t]*([A-Za-z]+)[ \t]*$", re.MULTILINE)
#: What the workload controllers make in the namespace: a Deployment its ReplicaSets and their
#: Pods, the others their Pods.
_MADE_BY = {"Deployment": ("ReplicaSet", "Pod"), "StatefulSet": ("Pod",), "DaemonSet": ("Pod",)}


def kinds_created(manifest_kinds: Iterable[str]) -> list[str]:
    """Every namespaced kind run.py creates, directly or through a controller, in the kinds
    table's order: the manifests' own, the generated Secrets, the lock's ConfigMap, and what
    the workload controllers make."""
    kinds = {kind for kind in manifest_kinds if is_namespaced(kind)} | {"Secret", "ConfigMap"}
    kinds |= {made for kind in list(kinds) for made in _MADE_BY.get(kind, ())}
    return [kind for kind in KINDS if kind in kinds]


def manifest_kinds(root: Path = MANIFESTS_DIR) -> set[str]:
    """The kinds of the manifests, from their top-level ``kind:`` lines: a scan, not a parse
    (a test checks it finds what the model's parser finds), because terminate.py's first read
    waits for it, and parsing every manifest would cost more than that read."""
    return {
        kind
        for path in root.rglob("*.y*ml")
        for kind in _KIND_LINE.findall(path.read_text(encoding="utf-8"))
    }


@dataclass(frozen=True)
class Snapshot:
    """The cluster as read before any write."""

    namespace: str
    context: str
    namespace_obj: Obj | None
    run_sh_volume: Obj | None
    contents: tuple[Obj, ...]
    volumes: tuple[Obj, ...]
    #: Resources of DEFAULT_DELETES we may not delete, with the problem to report for each.
    denied: Mapping[str, str] = field(default_factory=dict)

    @property
    def run_sh(self) -> run_sh.RunShDeployment | None:
        """The original run.sh's deployment in the namespace, if that is what it holds."""
        return run_sh.recognise(self.namespace, self.contents, self.run_sh_volume)

    @property
    def lock_held(self) -> bool:
        """Someone held the deploy lock when we read: what they wrote must be read again."""
        return any(kind_of(o) == "ConfigMap" and name_of(o) == LOCK_NAME for o in self.contents)


def _contents(kubectl: Kubectl, namespace: str) -> list[Obj]:
    kinds = ",".join(resource(kind) for kind in kinds_created(manifest_kinds()))
    return kubectl.get_items(["get", kinds, "-n", namespace])


def _volumes(kubectl: Kubectl, namespace: str) -> list[Obj]:
    return kubectl.get_items(["get", "persistentvolumes", "-l", owner_selector(namespace)])


def read(kubectl: Kubectl, namespace: str, context: str | None) -> Snapshot:
    """The one round of reads, all at once (kubectl processes spend most of their time
    starting, so five at once take about as long as one)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        named = pool.submit(kubectl.run, ["config", "current-context"]) if context is None else None
        contents = pool.submit(_contents, kubectl, namespace)
        volumes = pool.submit(_volumes, kubectl, namespace)
        denied = pool.submit(access_problems, kubectl, namespace, DEFAULT_DELETES, "delete")
        by_name = kubectl.get_items(
            [
                "get",
                f"namespaces/{namespace}",
                f"persistentvolumes/{run_sh.VOLUME}",
                "--ignore-not-found",
            ]
        )
        return Snapshot(
            namespace,
            context or (named.result().strip() if named else ""),
            next((o for o in by_name if kind_of(o) == "Namespace"), None),
            next((o for o in by_name if kind_of(o) == "PersistentVolume"), None),
            tuple(contents.result()),
            tuple(volumes.result()),
            denied.result(),
        )


def read_again(kubectl: Kubectl, snapshot: Snapshot) -> Snapshot:
    """The namespace's content and our volumes once the lock is ours, when a run.py may have
    been writing while we first read."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        volumes = pool.submit(_volumes, kubectl, snapshot.namespace)
        contents = _contents(kubectl, snapshot.namespace)
        return Snapshot(
            snapshot.namespace,
            snapshot.context,
            snapshot.namespace_obj,
            snapshot.run_sh_volume,
            tuple(contents),
            tuple(volumes.result()),
            snapshot.denied,
        )


def found(kubectl: Kubectl, snapshot: Snapshot) -> Found:
    """What the plan is made from; reads the volumes our claims are bound to that are not
    labelled ours (a StorageClass provisioned them), when there are any."""
    namespace = snapshot.namespace
    ours = {name_of(v) for v in snapshot.volumes}
    claimed = sorted(
        {
            str(spec(o)["volumeName"])
            for o in snapshot.contents
            if kind_of(o) == "PersistentVolumeClaim"
            and is_ours(o, namespace)
            and spec(o).get("volumeName") not in (None, "", *ours)
        }
    )
    claimed_volumes = (
        kubectl.get_items(
            ["get", *(f"persistentvolumes/{name}" for name in claimed), "--ignore-not-found"]
        )
        if claimed
        else []
    )
    return Found(
        namespace,
        snapshot.namespace_obj,
        snapshot.volumes,
        snapshot.contents if snapshot.namespace_obj is not None else (),
        tuple(claimed_volumes),
        snapshot.denied,
        DEFAULT_DELETES,
    )
