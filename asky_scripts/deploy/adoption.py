"""``run.py --adopt``: takes over what run.sh deployed, keeping its database.

The database stays where run.sh put it.  Our volume (``<ns>-postgres-data``, Retain, labelled
ours) is a second PersistentVolume on the same node directory as run.sh's ``postgres-pv-volume``
(``/mnt/data``), and our postgres points PGDATA at the database in it, so the entrypoint finds
``PG_VERSION`` and skips initialisation.  Nothing is copied: a copy would need a root pod (the
namespace enforces the restricted Pod Security level) or a shell on the node, twice the disk,
and a second database that drifts from the first if anything still writes to it.

The steps, around the ordinary stages (all idempotent, so an interrupted adoption is finished
by running ``run.py --adopt`` again; each step re-reads what is left of run.sh's deployment):

- preflight: everything run.sh left is listed; the old password is read (never printed) and
  becomes the generated Secrets' values, since the old database has only run.sh's user;
- namespace, configuration, services: our objects of the same names take over run.sh's with a
  forced server-side apply; kubectl then moves the fields that ``kubectl-client-side-apply``
  owned to our field manager (k8s.io/client-go/util/csaupgrade) and applies again, so what only
  the old manifests set (the ``app`` labels and selectors, the last-applied annotation, an old
  ConfigMap key) is removed, not left behind under another owner;
- database, before our postgres starts: run.sh's postgres is scaled to 0 and its pod waited for
  until it is gone, so two servers never open the same data directory; then its Deployment
  (already empty) is deleted, because a Deployment's selector cannot change and ours has the same
  name.  Our postgres must then log ``Skipping initialization``, or the run stops;
- services: run.sh's four other Deployments are stopped and deleted the same way;
- after everything is ready: run.sh's init ConfigMap, its claim and its volume object are
  deleted (the volume first set to Retain: a Recycle or Delete policy would wipe the directory
  our volume uses).  The data on the node is untouched; only then is the adoption finished.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.errors import ClusterRefusedError, StageTimeoutError, WorkloadFailedError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import (
    ADOPTED_ANNOTATION,
    DATABASE,
    PGDATA_ANNOTATION,
    AdoptedLayout,
    DeployOptions,
)
from asky_scripts.model.run_sh import RunShDeployment
from asky_scripts.model.secrets import secret_names

Obj = dict[str, Any]
Notify = Callable[[str, str], None]

SKIPPED_INITIALIZATION = "Skipping initialization"


def adopted_layout(volume: Obj | None) -> AdoptedLayout | None:
    """The layout recorded on our volume by an adoption, so every later run keeps PGDATA."""
    meta = (volume or {}).get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if annotations.get(ADOPTED_ANNOTATION) != "run.sh":
        return None
    path = (((volume or {}).get("spec") or {}).get("hostPath") or {}).get("path")
    return AdoptedLayout(str(path), str(annotations.get(PGDATA_ANNOTATION) or "")) if path else None


def describe(found: RunShDeployment, *, finishing: bool) -> str:
    """The refusal without ``--adopt``: what was found and what ``--adopt`` will do."""
    ns = found.namespace
    what = "an unfinished adoption of" if finishing else "a deployment made by the original"
    lines = "\n".join(f"  - {line}" for line in found.listing())
    return (
        f"namespace {ns} holds {what} run.sh:\n{lines}\n"
        "Nothing was changed. `python run.py --adopt` takes it over and keeps its database: the "
        f"namespace becomes ours; run.sh's postgres is stopped before ours starts on the same "
        f"data ({found.data_path or 'the same directory'}), with run.sh's password in the "
        "generated Secrets; each old Deployment is replaced by ours and the Services and "
        "ConfigMaps of the same names are taken over; once everything is ready, run.sh's "
        f"postgres-initdb-config, claim {run_sh.CLAIM} and volume {run_sh.VOLUME} are removed "
        "(the files on the node stay)."
    )


@dataclasses.dataclass(frozen=True)
class AdoptionPlan:
    """What preflight decided: the options to deploy with, and the takeover (if any)."""

    options: DeployOptions
    adoption: Adoption | None


def plan(
    kubectl: Kubectl,
    options: DeployOptions,
    found: RunShDeployment | None,
    our_volume: Obj | None,
    *,
    adopt: bool,
    our_postgres_image: str,
    timeout: float,
    notify: Notify,
) -> AdoptionPlan:
    """Judges, read-only, whether and how this run adopts run.sh's deployment."""
    layout = adopted_layout(our_volume)
    if found is None:
        if adopt:
            notify(
                "preflight",
                f"--adopt: no run.sh deployment left in namespace {options.namespace}; "
                "deploying as usual",
            )
        return AdoptionPlan(_with_layout(options, layout), None)
    if not adopt:
        raise ClusterRefusedError(
            describe(found, finishing=layout is not None),
            hint="run `python run.py --adopt` to take it over with its data, or deploy beside "
            "it with --namespace",
        )
    if options.storage_class:
        raise ClusterRefusedError(
            "--adopt keeps run.sh's database on its hostPath volume; --storage-class would "
            "start an empty one",
            hint="adopt without --storage-class",
        )
    if layout is None and our_volume is not None:
        raise ClusterRefusedError(
            f"--adopt: namespace {options.namespace} has both run.sh's objects and our own "
            f"database volume {options.pv_name} with its own data; adopting would put two "
            "databases behind one deploy, so nothing was changed",
            hint="decide which database to keep: `python terminate.py --run-sh` removes "
            "run.sh's deployment (its files stay on the node), or deploy the adoption into "
            "another --namespace",
        )
    if layout is None:
        layout = _layout_from(found)
    given = _secret_values(kubectl, options, found)
    check_image(found, our_postgres_image)
    adoption = Adoption(kubectl, options.namespace, given, timeout=timeout, notify=notify)
    return AdoptionPlan(_with_layout(options, layout), adoption)


def _with_layout(options: DeployOptions, layout: AdoptedLayout | None) -> DeployOptions:
    return options if layout is None else dataclasses.replace(options, adopted=layout)


def _layout_from(found: RunShDeployment) -> AdoptedLayout:
    if found.data_path is None:
        raise ClusterRefusedError(
            f"--adopt: namespace {found.namespace} has run.sh objects but not its volume "
            f"{run_sh.VOLUME}, so where its database lies is unknown; nothing was changed",
            hint=f"recreate {run_sh.VOLUME} as run.sh made it (hostPath /mnt/data) and run again",
        )
    subpath = ""
    if found.database is not None:
        value, mount = run_sh.pgdata(found.database)
        if value != mount and value.startswith(mount + "/"):
            subpath = value[len(mount) :]
    return AdoptedLayout(found.data_path, subpath)


def _secret_values(
    kubectl: Kubectl, options: DeployOptions, found: RunShDeployment
) -> dict[str, dict[str, str]]:
    """run.sh's credentials as Secret values, or none when an earlier adoption run already
    made the Secrets (run.sh's postgres Deployment may be gone by then)."""
    listed = kubectl.run(
        ["get", "secrets", "-n", options.namespace, "-o", "name", "--ignore-not-found"]
    )
    present = {line.partition("/")[2] for line in listed.split()}
    if all(name in present for name in secret_names()):
        return {}
    if found.database is None:
        raise ClusterRefusedError(
            f"--adopt: run.sh's postgres Deployment is gone and the generated Secrets are "
            f"not all in namespace {options.namespace}, so the old database's password is "
            "unknown; nothing was changed",
            hint="restore that Deployment from run.sh's manifests (kubectl apply) and run again",
        )
    creds = run_sh.read_credentials(kubectl, options.namespace, found.database)
    return run_sh.secret_values(creds)


def check_image(found: RunShDeployment, ours: str) -> None:
    """PostgreSQL refuses a data directory of another major version: say so before anything."""
    if found.database is None:
        return
    old = run_sh.database_image(found.database)
    old_major, our_major = run_sh.image_major(old), run_sh.image_major(ours)
    if old_major is not None and our_major is not None and old_major != our_major:
        raise ClusterRefusedError(
            f"--adopt: run.sh's database was written by {old} (PostgreSQL {old_major}) and "
            f"ours is {ours} (PostgreSQL {our_major}), which cannot open it; nothing was changed",
            hint=f"adopt with --set-image postgres=postgres:{old_major} (and upgrade later with "
            "pg_upgrade or a dump and restore)",
        )


class Adoption:
    """The takeover steps the deploy runs around its stages (see the module docstring)."""

    def __init__(
        self,
        kubectl: Kubectl,
        namespace: str,
        secret_values: dict[str, dict[str, str]],
        *,
        timeout: float,
        notify: Notify,
    ) -> None:
        self._kubectl = kubectl
        self.namespace = namespace
        self.secret_values = secret_values
        self._timeout = timeout
        self._notify = notify

    def _read(self) -> RunShDeployment | None:
        return run_sh.read(self._kubectl, self.namespace)

    def replaced_deployments(self) -> set[str]:
        """Names of run.sh's Deployments still there: ours replace them, not patch them."""
        found = self._read()
        return {str(d["metadata"]["name"]) for d in found.deployments} if found else set()

    # -- hooks ----------------------------------------------------------------------------------

    def before(self, stage: str) -> None:
        """Before a stage applies: stop run.sh's workloads that ours replace in it."""
        if stage not in ("database", "services"):
            return
        found = self._read()
        if found is None:
            return
        names = [
            str(d["metadata"]["name"])
            for d in found.deployments
            if (d["metadata"]["name"] == DATABASE) == (stage == "database")
        ]
        if names:
            self._stop(stage, names)

    def check_database_log(self, log: str) -> None:
        """Our postgres must have found run.sh's database, not made a new one."""
        if SKIPPED_INITIALIZATION not in log:
            raise WorkloadFailedError(
                "postgres: the adopted database was not found: postgres initialised a new, "
                "empty one instead of logging 'Skipping initialization'; run.sh's volume and "
                "claim are left in place",
                hint="compare PGDATA of run.sh's old postgres Deployment with the "
                f"{PGDATA_ANNOTATION} annotation on our volume",
            )

    def after(self, stage: str) -> None:
        """After the last stage is ready: remove what is left of run.sh's deployment."""
        if stage != "services":
            return
        found = self._read()
        if found is None:
            return
        if found.deployments:  # only possible if someone re-applied them meanwhile
            self._stop(stage, [str(d["metadata"]["name"]) for d in found.deployments])
        self._retire(stage, found)
        self._notify(stage, "adoption finished: nothing of run.sh's deployment is left")

    # -- steps ----------------------------------------------------------------------------------

    def _stop(self, stage: str, names: Sequence[str]) -> None:
        """Scales run.sh's Deployments to 0, waits until their pods are gone, deletes them."""
        ns = self.namespace
        listed = ", ".join(names)
        self._notify(stage, f"stopping run.sh's {listed} (scaled to 0) before ours start")
        for name in names:
            self._kubectl.run(
                [
                    "patch",
                    f"deployments.apps/{name}",
                    "-n",
                    ns,
                    "--type=merge",
                    "-p",
                    json.dumps({"spec": {"replicas": 0}}),
                ]
            )
        self._until(stage, f"run.sh's {listed} pods to be gone", lambda: not self._old_pods(names))
        self._kubectl.run(
            [
                "delete",
                *(f"deployments.apps/{name}" for name in names),
                "-n",
                ns,
                "--cascade=foreground",
                "--wait=false",
                "--ignore-not-found",
            ]
        )
        self._until(
            stage,
            f"run.sh's Deployments {listed} to be gone",
            lambda: not self._old_deployments(names),
        )
        self._notify(stage, f"run.sh's {listed} stopped; no pod of theirs is left")

    def _old_pods(self, names: Sequence[str]) -> list[Obj]:
        pods = self._kubectl.get_items(
            ["get", "pods", "-n", self.namespace, "-l", f"app in ({','.join(names)})"]
        )
        return pods

    def _old_deployments(self, names: Sequence[str]) -> list[Obj]:
        found = self._read()
        if found is None:
            return []
        return [d for d in found.deployments if d["metadata"]["name"] in names]

    def _retire(self, stage: str, found: RunShDeployment) -> None:
        """run.sh's init ConfigMap, claim and volume object; the volume set to Retain first."""
        ns = self.namespace
        volume = found.volume
        policy = ((volume or {}).get("spec") or {}).get("persistentVolumeReclaimPolicy")
        if volume is not None and policy != "Retain":
            self._kubectl.run(
                [
                    "patch",
                    f"persistentvolumes/{run_sh.VOLUME}",
                    "--type=merge",
                    "-p",
                    json.dumps({"spec": {"persistentVolumeReclaimPolicy": "Retain"}}),
                ]
            )
            self._notify(stage, f"{run_sh.VOLUME}: reclaim policy {policy} set to Retain")
        steps: list[tuple[str, list[str]]] = []
        if "postgres-initdb-config" in found.config_maps:
            steps.append(
                (
                    "ConfigMap postgres-initdb-config",
                    ["configmaps/postgres-initdb-config", "-n", ns],
                )
            )
        if found.claim is not None:
            steps.append(
                (f"claim {run_sh.CLAIM}", [f"persistentvolumeclaims/{run_sh.CLAIM}", "-n", ns])
            )
        if volume is not None:
            steps.append((f"volume {run_sh.VOLUME}", [f"persistentvolumes/{run_sh.VOLUME}"]))
        for what, target in steps:
            self._kubectl.run(["delete", *target, "--ignore-not-found", "--wait=false"])
            self._until(stage, f"run.sh's {what} to be gone", functools.partial(self._gone, target))
            self._notify(stage, f"removed run.sh's {what}")
        if volume is not None:
            self._notify(
                stage,
                f"the database stays in {found.data_path} on the node, now on our volume only",
            )

    def _gone(self, target: list[str]) -> bool:
        return not self._kubectl.get_items(["get", *target, "--ignore-not-found"])

    def _until(self, stage: str, what: str, done: Callable[[], bool]) -> None:
        try:
            polling.until_done(self._timeout)(done)
        except tenacity.RetryError:
            raise StageTimeoutError(
                f"stage {stage}: still waiting for {what} after {self._timeout:g}s",
                hint="see why with kubectl describe; run `python run.py --adopt` again to go on",
            ) from None
