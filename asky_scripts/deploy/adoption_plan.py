"""``run.py --adopt``, before anything is written: whether and how this run takes over run.sh.

Read-only: what run.sh left is judged (refused without ``--adopt``, with what ``--adopt`` would
do), the database layout is found (on our volume after an earlier adoption, else from run.sh's
postgres), run.sh's password is read for the generated Secrets and the images' PostgreSQL majors
are compared.  The takeover steps themselves are adoption.py's.
"""

from __future__ import annotations

import dataclasses

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, annotations_of, field, spec
from asky_scripts.deploy.adoption import Adoption, Notify
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import (
    ADOPTED_ANNOTATION,
    PGDATA_ANNOTATION,
    AdoptedLayout,
    DeployOptions,
)
from asky_scripts.model.run_sh import RunShDeployment
from asky_scripts.model.secrets import secret_names


def adopted_layout(volume: Obj | None) -> AdoptedLayout | None:
    """The layout recorded on our volume by an adoption, so every later run keeps PGDATA."""
    annotations = annotations_of(volume or {})
    if annotations.get(ADOPTED_ANNOTATION) != "run.sh":
        return None
    path = field(spec(volume or {}), "hostPath").get("path")
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
