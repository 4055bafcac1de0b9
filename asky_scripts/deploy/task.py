"""Runs the stages: validate everything, then per stage apply and wait until really ready.

Per stage: one server-side apply of all its objects, then one ``kubectl get`` per tick covering
every object of the stage (and the pods, ReplicaSets, EndpointSlices and events behind them),
in a tenacity loop ticking every 0.1 s (polling.py) so readiness is noticed quickly.  A
failure that will not heal stops the run at once with its evidence; a stage still waiting at
``--timeout`` stops it too.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asky_scripts.cluster.kubectl import FIELD_MANAGER, Kubectl
from asky_scripts.cluster.kubectl_errors import (
    AlreadyExistsError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    KubectlError,
    TransientError,
)
from asky_scripts.cluster.lock import NamespaceLock
from asky_scripts.deploy import host_directory, volume_rebind
from asky_scripts.deploy.adoption import Adoption
from asky_scripts.deploy.preflight import ClusterFacts
from asky_scripts.deploy.progress import Progress
from asky_scripts.deploy.summary import Summary, build
from asky_scripts.deploy.volume_rebind import VolumeState
from asky_scripts.errors import (
    ClusterRefusedError,
    ManifestError,
)
from asky_scripts.model.manifests import DATABASE, DeployOptions, Manifest, to_stream
from asky_scripts.model.ownership import owner_labels
from asky_scripts.model.secrets import missing_secrets, secret_names
from asky_scripts.model.stages import PlannedStage, Stage
from asky_scripts.readiness import verdicts as readiness
from asky_scripts.readiness.watcher import StageWatcher

Obj = dict[str, Any]

# Where namespaced objects are validated when their namespace does not exist yet: a server-side
# dry run needs an existing namespace, and creating ours just to validate would change the
# cluster even when validation then fails.  Nothing is written there (dry run).
VALIDATION_NAMESPACE = "default"
POSTGRES_READY_LINE = "database system is ready to accept connections"
# The entrypoint's lines worth showing: a first initialisation, or the reuse of existing data.
POSTGRES_INIT_MARKERS = ("docker-entrypoint", "initdb", "Skipping initialization")
# Attempts at applying a whole stage's stream before going object by object (see _apply).
_STREAM_ATTEMPTS = 1
# Attempts at one tick's read: a failed tick is simply followed by the next one.
_TICK_ATTEMPTS = 2
_APPLY_WORKERS = 4
_CONFLICT = re.compile(r'conflict with "([^"]+)"(?: using [^:]+)?: (\S+)')


def read_nodes(kubectl: Kubectl) -> list[Obj]:
    """The nodes, read once per run: their allocatable judges pods too big to ever schedule and
    their address gives the gateway URL.  Namespace-scoped users may not list nodes: then []."""
    try:
        return kubectl.get_items(["get", "nodes"])
    except KubectlError:
        return []


def apply_args(*, dry_run: bool = False, force_conflicts: bool = False) -> list[str]:
    args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
    if force_conflicts:
        args.append("--force-conflicts")
    if dry_run:
        args.append("--dry-run=server")
    return args


def explain_conflict(stage: str, error: ConflictError) -> ClusterRefusedError:
    """Names each contested field and its owner, and the two ways out."""
    owners = _CONFLICT.findall(error.stderr)
    fields = "; ".join(f"{path} (owned by {owner})" for owner, path in owners) or error.message
    return ClusterRefusedError(
        f"{stage}: fields we apply were changed by another field manager: {fields}",
        hint="someone edited these objects by hand or with another tool; put the change in the "
        "manifests, or run again with --force-conflicts to take the fields back",
    )


class Deployer:
    """Validates and deploys one rewritten plan into one namespace."""

    def __init__(
        self,
        kubectl: Kubectl,
        plan: Sequence[PlannedStage],
        options: DeployOptions,
        facts: ClusterFacts,
        progress: Progress,
        *,
        timeout: float = 300.0,
        force_conflicts: bool = False,
        environ: Mapping[str, str] | None = None,
        nodes: Sequence[Obj] = (),
        clock: Callable[[], float] = time.monotonic,
        adoption: Adoption | None = None,
    ) -> None:
        self._kubectl = kubectl
        # Taking over run.sh's objects forces the apply: their fields belong to kubectl's
        # client-side apply, which kubectl then hands to our manager (see adoption.py).
        self._adoption = adoption
        self._facts = facts
        self._nodes = list(nodes)
        self._plan = [
            PlannedStage(
                p.stage, _without_volume(p.manifests) if facts.volume_exists else p.manifests
            )
            for p in plan
        ]
        self._full_plan = list(plan)
        self._environ = dict(environ or {})
        self._lock: NamespaceLock | None = None
        self._options = options
        self._progress = progress
        self._timeout = timeout
        self._force = force_conflicts or adoption is not None
        self._clock = clock
        self.current_stage = "preflight"
        self._watcher = StageWatcher(
            kubectl,
            options.namespace,
            progress.resource,
            timeout=timeout,
            nodes=nodes,
            storage_class=bool(options.storage_class),
            clock=clock,
        )

    @property
    def namespace(self) -> str:
        return self._options.namespace

    # -- validation ---------------------------------------------------------------------------

    def validate(self) -> None:
        """One server-side dry run of every stage's objects: any refusal changes nothing."""
        self.current_stage = "validation"
        manifests = [m for planned in self._plan for m in planned.manifests]
        if self._facts.namespace_exists:
            # run.sh's Deployments are deleted, not patched (their selectors cannot change):
            # ours are validated as new objects, where nothing of that name is in the way.
            replaced = self._adoption.replaced_deployments() if self._adoption else set()
            elsewhere = [m for m in manifests if m.kind == "Deployment" and m.name in replaced]
            self._dry_run([m for m in manifests if m not in elsewhere], force=self._force)
            self._dry_run([_in_namespace(m, VALIDATION_NAMESPACE) for m in elsewhere], force=True)
            return
        # Forbidden here fails the run too: a user who may not even dry-run in the default
        # namespace is very unlikely to be allowed to create a namespace.
        try:
            self._dry_run([_in_namespace(m, VALIDATION_NAMESPACE) for m in manifests], force=True)
        except ForbiddenError as exc:
            raise ClusterRefusedError(
                exc.message,
                hint=f"namespace {self.namespace} does not exist yet, so its objects were "
                f"validated (dry run, nothing written) in namespace {VALIDATION_NAMESPACE}; "
                "ask for these permissions, or have the namespace created first",
            ) from exc

    def _dry_run(self, manifests: list[Manifest], *, force: bool) -> None:
        if not manifests:
            return
        try:
            self._apply(manifests, dry_run=True, force=force)
        except ConflictError as exc:
            raise explain_conflict("validation", exc) from exc
        except InvalidError as exc:
            raise self._pinpoint_invalid(manifests, exc) from exc

    def _apply(self, manifests: Sequence[Manifest], *, force: bool, dry_run: bool = False) -> None:
        """Applies a stage's objects in one kubectl call, or one by one if the API is flaky.

        kubectl sends one request per object, so a single transient failure fails the whole
        stream and a retry re-sends all of it: with many objects the odds of a clean pass fall
        fast.  After a short try, each object gets its own bounded retries instead.
        Re-applying an object that already went through is a no-op (server-side apply).
        """
        args = apply_args(dry_run=dry_run, force_conflicts=force)
        try:
            self._kubectl.run(args, stdin=to_stream(list(manifests)), attempts=_STREAM_ATTEMPTS)
        except TransientError:
            if len(manifests) == 1:
                # The one object gets its own bounded retries, as each object does below.
                self._kubectl.run(args, stdin=to_stream(list(manifests)))
                return
            # Kind by kind keeps the stage's order (Services before their Deployments);
            # objects of one kind are independent, so they go concurrently.
            for _, same_kind in itertools.groupby(manifests, key=lambda m: m.kind):
                with ThreadPoolExecutor(max_workers=_APPLY_WORKERS) as pool:
                    list(
                        pool.map(lambda m: self._kubectl.run(args, stdin=to_stream([m])), same_kind)
                    )

    def _pinpoint_invalid(self, manifests: list[Manifest], error: InvalidError) -> ManifestError:
        """Re-validates object by object to name the file the server refused."""
        if len(manifests) > 1:
            for manifest in manifests:
                try:
                    self._kubectl.run(
                        apply_args(dry_run=True, force_conflicts=True), stdin=to_stream([manifest])
                    )
                except InvalidError as exc:
                    return ManifestError(
                        f"{manifest.where}: {manifest.kind} {manifest.name} refused by the "
                        f"server: {exc.message}"
                    )
        where = manifests[0].where if len(manifests) == 1 else "manifests"
        return ManifestError(f"{where}: refused by the server: {error.message}")

    # -- diff -----------------------------------------------------------------------------------

    def diff(self) -> tuple[bool, str]:
        """Whether anything would change, and kubectl diff's text (plus objects to create)."""
        self.current_stage = "diff"
        namespace_exists = self._facts.namespace_exists
        texts: list[str] = []
        changed = False
        for planned in self._plan:
            applied_now = [m for m in planned.manifests if namespace_exists or not m.namespaced]
            if applied_now:
                result = self._kubectl.call(
                    ["diff", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
                    + (["--force-conflicts"] if self._force else []),
                    stdin=to_stream(applied_now),
                    ok_codes=(0, 1),
                )
                changed |= result.returncode == 1
                if result.stdout.strip():
                    texts.append(result.stdout.rstrip())
            created = [
                f"+ {m.kind}/{m.name} (new in namespace {self.namespace})"
                for m in planned.manifests
                if m.namespaced and not namespace_exists
            ]
            if planned.stage.name == "storage" and self._facts.volume.state is VolumeState.RELEASED:
                created.append(
                    f"~ PersistentVolume/{self._options.pv_name} (Released: re-bound to the "
                    "new claim, data kept)"
                )
            if planned.stage.generates_secrets:
                existing = self._existing_secrets() if namespace_exists else set()
                created += [
                    f"+ Secret/{name} (generated, values not shown)"
                    for name in secret_names()
                    if name not in existing
                ]
            if created:
                changed = True
                texts.append("\n".join(created))
        return changed, "\n".join(texts)

    # -- deploy ---------------------------------------------------------------------------------

    def deploy(self) -> None:
        """Every stage in order; the namespace lock is held from the namespace stage on."""
        with contextlib.ExitStack() as held:
            for planned in self._full_plan:
                stage = planned.stage
                self.current_stage = stage.name
                if self._lock is not None:
                    self._lock.ensure_held()
                self._progress.stage_started(stage.name)
                started = self._clock()
                manifests: Sequence[Manifest] = planned.manifests
                extra: list[tuple[str, str]] = []
                if stage.name == "storage" and not self._options.storage_class:
                    manifests, extra = self._claim_volume(manifests)
                if stage.generates_secrets:
                    extra = [("Secret", name) for name in secret_names()]
                if self._adoption is not None:
                    self._adoption.before(stage.name)
                # The generated Secrets and the stage's objects are independent: at once.
                with ThreadPoolExecutor(max_workers=1) as pool:
                    secrets = (
                        pool.submit(self._ensure_secrets, stage)
                        if stage.generates_secrets
                        else None
                    )
                    if manifests:
                        try:
                            self._apply(manifests, force=self._force)
                        except ConflictError as exc:
                            raise explain_conflict(stage.name, exc) from exc
                    if secrets is not None:
                        secrets.result()
                detail = self._watcher.wait(stage, [(m.kind, m.name) for m in manifests] + extra)
                if stage.name == "storage":
                    self._prepare_host_directory()
                if stage.checks_database_log:
                    detail += self._check_database_log()
                if stage.name == "namespace":
                    self._lock = held.enter_context(self._namespace_lock())
                    detail += "; deploy lock taken"
                if self._adoption is not None:
                    self._adoption.after(stage.name)
                self._progress.stage_done(stage.name, self._clock() - started, detail)

    def _namespace_lock(self) -> NamespaceLock:
        return NamespaceLock(
            self._kubectl,
            self.namespace,
            labels=owner_labels(self.namespace),
            command="run.py",
            wait=self._timeout,
            notify=lambda message: self._progress.note("namespace", message),
        )

    def _claim_volume(
        self, manifests: Sequence[Manifest]
    ) -> tuple[Sequence[Manifest], list[tuple[str, str]]]:
        """Judges our volume again, now under the lock, and re-binds it when it was Released.

        An existing volume of ours is never re-applied: it holds the data, its spec is
        immutable anyway, and applying our claimRef (an atomic field) would drop the UID its
        binding controller set, changing the volume on every run.
        """
        directory = self._facts.host_directory
        host_path = directory.path if directory else ""
        volume = volume_rebind.read_volume(self._kubectl, self._options)
        finding = volume_rebind.inspect(self._kubectl, self._options, volume, host_path)
        if finding.state is VolumeState.REFUSED:
            raise ClusterRefusedError("; ".join(finding.problems))
        if finding.state is VolumeState.ABSENT:
            return manifests, []
        if finding.state is VolumeState.RELEASED and finding.stale_claim_ref is not None:
            volume_rebind.rebind(self._kubectl, self._options.pv_name, finding.stale_claim_ref)
            self._progress.note(
                "storage",
                f"re-binding volume {self._options.pv_name} to the new claim: same volume, "
                "the data on it is kept",
            )
        return _without_volume(manifests), [("PersistentVolume", self._options.pv_name)]

    def _prepare_host_directory(self) -> None:
        """On minikube, makes the data directory the postgres uid's before postgres starts."""
        directory = self._facts.host_directory
        if directory is None or directory.minikube_profile is None:
            return
        command = " ".join(directory.command())
        if directory.minikube is None:
            self._progress.note(
                "storage",
                f"no minikube binary on PATH, so the data directory was not prepared; if postgres "
                f"cannot write to it, run: {command}",
                warning=True,
            )
            return
        problem = host_directory.prepare(directory, self._environ)
        if problem:
            self._progress.note(
                "storage",
                f"could not prepare the data directory ({problem}); run: {command}",
                warning=True,
            )
        else:
            self._progress.note(
                "storage",
                f"data directory {directory.path} on the minikube node owned by uid "
                f"{host_directory.POSTGRES_UID}",
            )

    def _existing_secrets(self) -> set[str]:
        # Names only: the values never need to reach this process.
        listed = self._kubectl.run(["get", "secrets", "-n", self.namespace, "-o", "name"])
        return {line.partition("/")[2] for line in listed.split()}

    def _ensure_secrets(self, stage: Stage) -> None:
        """Creates the missing generated Secrets; never touches one that exists.

        In a namespace preflight found absent there is nothing to list; a run that created the
        Secrets meanwhile makes our create answer AlreadyExists, and theirs are kept.
        """
        existing = self._existing_secrets() if self._facts.namespace_exists else set()
        given = self._adoption.secret_values if self._adoption else None
        new = missing_secrets(existing, self.namespace, given)
        if new:
            try:
                # One kubectl for all, tried once: run again whole, it would send again the
                # Secrets whose answer a flaky API lost after creating them.
                self._create_secrets(new, attempts=1)
            except TransientError:
                # Each Secret still missing on its own, so a retry re-sends only that one and
                # its AlreadyExists means our lost create took effect.
                left = missing_secrets(self._existing_secrets(), self.namespace, given)
                with ThreadPoolExecutor(max_workers=max(1, len(left))) as pool:
                    list(pool.map(lambda secret: self._create_secrets([secret]), left))
            names = ", ".join(readiness.name_of(s) for s in new)
            self._progress.note(stage.name, f"generated Secrets {names} (values not shown)")

    def _create_secrets(self, secrets: Sequence[Obj], attempts: int | None = None) -> None:
        # A JSON stream (objects one after the other), never joined by ``---``: kubectl before
        # 1.33 reads input starting with ``{`` as JSON only (apimachinery's YAMLOrJSONDecoder),
        # where ``---`` is a syntax error.  Not a v1 List either: kubectl validates a List on the
        # client, which needs the server's /openapi/v2.
        stream = "\n".join(json.dumps(secret) for secret in secrets)
        # AlreadyExists: created meanwhile by another run (or by our create whose answer was
        # lost); what exists is kept, as always.
        with contextlib.suppress(AlreadyExistsError):
            self._kubectl.run(["create", "-f", "-", "-o", "name"], stdin=stream, attempts=attempts)

    def _check_database_log(self) -> str:
        """The postgres init lines, and whether it said it accepts connections."""
        try:
            log = self._kubectl.run(
                ["logs", f"deployment/{DATABASE}", "-n", self.namespace, "--tail=200"]
            )
        except KubectlError as exc:
            self._progress.note(
                "database", f"postgres log unavailable: {exc.message}", warning=True
            )
            return ""
        for line in log.splitlines():
            if any(marker.lower() in line.lower() for marker in POSTGRES_INIT_MARKERS):
                self._progress.note("database", f"init: {line.strip()}")
        if self._adoption is not None:
            self._adoption.check_database_log(log)
        if POSTGRES_READY_LINE in log:
            return "; accepting connections"
        self._progress.note(
            "database",
            "postgres is Ready but its log does not (yet) say it accepts connections",
            warning=True,
        )
        return ""

    # -- summary --------------------------------------------------------------------------------

    def summary(self) -> Summary:
        """The closing table, from the last tick that found everything ready."""
        self.current_stage = "summary"
        deployments = self._watcher.last_observed.of("Deployment")
        services = self._watcher.last_observed.of("Service")
        if not deployments:
            found = self._kubectl.get_items(
                ["get", "deployments.apps,services", "-n", self.namespace]
            )
            deployments = [o for o in found if o.get("kind") == "Deployment"]
            services = [o for o in found if o.get("kind") == "Service"]
        return build(self.namespace, deployments, services, self._nodes)


def _without_volume(manifests: Sequence[Manifest]) -> tuple[Manifest, ...]:
    return tuple(m for m in manifests if m.kind != "PersistentVolume")


def _in_namespace(manifest: Manifest, namespace: str) -> Manifest:
    if not manifest.namespaced:
        return manifest
    obj = dict(manifest.obj)
    obj["metadata"] = {**manifest.obj.get("metadata", {}), "namespace": namespace}
    return manifest.with_obj(obj)
