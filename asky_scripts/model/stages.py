"""The deploy's stages, in the seed's order, as data: which files each applies and in what order.

Keeping the order here (and not in the engine) is what lets ``--dry-run`` and ``--diff`` walk the
same stages as a real deploy, and lets a test check that every manifest file belongs to a stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from asky_scripts.cluster.objects import field, spec
from asky_scripts.errors import ManifestError
from asky_scripts.model.manifests import (
    MANIFESTS_DIR,
    DeployOptions,
    Manifest,
    check_selectors,
    load_file,
)
from asky_scripts.model.rewrite import check_options_against, rewrite

WORKLOADS = ("auth", "gateway", "pyxis", "request-management")


@dataclass(frozen=True)
class Stage:
    """One step of the deploy: apply ``files`` in order, then wait for them to be ready.

    What is read to judge them (the pods behind a Deployment, the EndpointSlices behind a
    Service) is each kind's reader's business (readiness/registry.py), not the stage's.
    """

    name: str
    purpose: str
    files: tuple[str, ...] = ()
    generates_secrets: bool = False
    checks_database_log: bool = False


PREFLIGHT = Stage("preflight", "check kubectl, the cluster, permissions and ownership")
SUMMARY = Stage("summary", "show what is ready and where the gateway answers")
APPLY_STAGES: tuple[Stage, ...] = (
    Stage("namespace", "create the namespace", ("namespace.yaml",)),
    Stage(
        "storage",
        "create the database volume and claim; wait until Bound",
        ("persistent-volumes/*.yaml", "persistent-volume-claims/*.yaml"),
    ),
    Stage(
        "configuration",
        "ConfigMaps, generated Secrets, network policies and disruption budgets",
        ("config-maps/*.yaml", "network-policies/*.yaml", "disruption-budgets/*.yaml"),
        generates_secrets=True,
    ),
    Stage(
        "database",
        "PostgreSQL: Service and Deployment; wait Ready and accepting connections",
        ("services/postgres.yaml", "deployments/postgres.yaml"),
        checks_database_log=True,
    ),
    Stage(
        "services",
        "the four Services first, then their Deployments; wait for all of them",
        tuple(f"services/{name}.yaml" for name in WORKLOADS)
        + tuple(f"deployments/{name}.yaml" for name in WORKLOADS),
    ),
)
ALL_STAGES = (PREFLIGHT, *APPLY_STAGES, SUMMARY)


@dataclass(frozen=True)
class PlannedStage:
    stage: Stage
    manifests: tuple[Manifest, ...]


def stage_files(stage: Stage, root: Path) -> list[Path]:
    """The files of a stage: exact names must exist, patterns may match nothing."""
    paths: list[Path] = []
    for pattern in stage.files:
        if any(ch in pattern for ch in "*?["):
            paths.extend(sorted(root.glob(pattern)))
        elif (root / pattern).is_file():
            paths.append(root / pattern)
        else:
            raise ManifestError(f"{pattern}: missing from {root} (needed by stage {stage.name})")
    return paths


def load_plan(root: Path = MANIFESTS_DIR) -> list[PlannedStage]:
    """Parses every manifest, stage by stage; refuses files that no stage would apply."""
    planned: list[PlannedStage] = []
    claimed: set[Path] = set()
    for stage in APPLY_STAGES:
        manifests: list[Manifest] = []
        for path in stage_files(stage, root):
            claimed.add(path)
            manifests.extend(load_file(path, root))
        planned.append(PlannedStage(stage, tuple(manifests)))
    stray = sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.suffix in (".yaml", ".yml") and not p.name.startswith(".") and p not in claimed
    )
    if stray:
        raise ManifestError(
            f"{', '.join(stray)}: not applied by any stage",
            hint="add the file to a stage in asky_scripts/model/stages.py or remove it",
        )
    return planned


def for_deploy(plan: list[PlannedStage], options: DeployOptions) -> list[PlannedStage]:
    """The plan rewritten for this deploy's namespace and flags, with the flags checked first."""
    everything = [m for planned in plan for m in planned.manifests]
    check_options_against(everything, options)
    rewritten: list[PlannedStage] = []
    for planned in plan:
        kept = (rewrite(m, options) for m in planned.manifests)
        rewritten.append(PlannedStage(planned.stage, tuple(m for m in kept if m is not None)))
    check_selectors([m for planned in rewritten for m in planned.manifests])
    return rewritten


def volume_host_path(plan: list[PlannedStage]) -> str | None:
    """The node directory of the static database volume; None when a StorageClass provisions it."""
    for planned in plan:
        for m in planned.manifests:
            if m.kind == "PersistentVolume":
                path = field(spec(m.obj), "hostPath").get("path")
                return str(path) if path else None
    return None
