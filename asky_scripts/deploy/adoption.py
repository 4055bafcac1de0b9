"""``run.py --adopt``: the steps that take over what run.sh deployed, keeping its database.

Whether and how a run adopts is judged before, read-only, by adoption_plan.py.

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

import functools
import json
from collections.abc import Callable, Sequence

import tenacity

from asky_scripts.cluster import polling
from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, name_of, spec
from asky_scripts.errors import StageTimeoutError, WorkloadFailedError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import DATABASE, PGDATA_ANNOTATION
from asky_scripts.model.run_sh import RunShDeployment

Notify = Callable[[str, str], None]

SKIPPED_INITIALIZATION = "Skipping initialization"
_SCALE_TO_ZERO = json.dumps({"spec": {"replicas": 0}})
_RETAIN = json.dumps({"spec": {"persistentVolumeReclaimPolicy": "Retain"}})


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
        return {name_of(d) for d in found.deployments} if found else set()

    # -- hooks ----------------------------------------------------------------------------------

    def before(self, stage: str) -> None:
        """Before a stage applies: stop run.sh's workloads that ours replace in it."""
        if stage not in ("database", "services"):
            return
        found = self._read()
        if found is None:
            return
        names = [
            name_of(d)
            for d in found.deployments
            if (name_of(d) == DATABASE) == (stage == "database")
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
            self._stop(stage, [name_of(d) for d in found.deployments])
        self._retire(stage, found)
        self._notify(stage, "adoption finished: nothing of run.sh's deployment is left")

    # -- steps ----------------------------------------------------------------------------------

    def _stop(self, stage: str, names: Sequence[str]) -> None:
        """Scales run.sh's Deployments to 0, waits until their pods are gone, deletes them."""
        ns = self.namespace
        listed = ", ".join(names)
        self._notify(stage, f"stopping run.sh's {listed} (scaled to 0) before ours start")
        for name in names:
            scale = ["patch", f"deployments.apps/{name}", "-n", ns, "--type=merge"]
            self._kubectl.run([*scale, "-p", _SCALE_TO_ZERO])
        self._until(stage, f"run.sh's {listed} pods to be gone", lambda: not self._old_pods(names))
        deployments = [f"deployments.apps/{name}" for name in names]
        options = ["--cascade=foreground", "--wait=false", "--ignore-not-found"]
        self._kubectl.run(["delete", *deployments, "-n", ns, *options])
        self._until(
            stage,
            f"run.sh's Deployments {listed} to be gone",
            lambda: not self._old_deployments(names),
        )
        self._notify(stage, f"run.sh's {listed} stopped; no pod of theirs is left")

    def _old_pods(self, names: Sequence[str]) -> list[Obj]:
        selector = f"app in ({','.join(names)})"
        return self._kubectl.get_items(["get", "pods", "-n", self.namespace, "-l", selector])

    def _old_deployments(self, names: Sequence[str]) -> list[Obj]:
        found = self._read()
        if found is None:
            return []
        return [d for d in found.deployments if name_of(d) in names]

    def _retire(self, stage: str, found: RunShDeployment) -> None:
        """run.sh's init ConfigMap, claim and volume object; the volume set to Retain first."""
        ns = self.namespace
        volume = found.volume
        policy = spec(volume or {}).get("persistentVolumeReclaimPolicy")
        if volume is not None and policy != "Retain":
            retain = ["patch", f"persistentvolumes/{run_sh.VOLUME}", "--type=merge", "-p", _RETAIN]
            self._kubectl.run(retain)
            self._notify(stage, f"{run_sh.VOLUME}: reclaim policy {policy} set to Retain")
        steps: list[tuple[str, list[str]]] = []
        if "postgres-initdb-config" in found.config_maps:
            init = "postgres-initdb-config"
            steps.append((f"ConfigMap {init}", [f"configmaps/{init}", "-n", ns]))
        if found.claim is not None:
            claim = [f"persistentvolumeclaims/{run_sh.CLAIM}", "-n", ns]
            steps.append((f"claim {run_sh.CLAIM}", claim))
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
