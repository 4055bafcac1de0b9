"""``run.py --diff``: what a deploy would change, stage by stage, without changing anything.

kubectl diff covers what exists (server-side, with our field manager); objects in a namespace that
does not exist yet, a Released volume to re-bind and the generated Secrets are listed by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from asky_scripts.cluster.kubectl import FIELD_MANAGER, Kubectl
from asky_scripts.deploy.apply import stream_of
from asky_scripts.deploy.secrets import existing_secrets
from asky_scripts.deploy.volume_rebind import VolumeState
from asky_scripts.model.manifests import DeployOptions
from asky_scripts.model.secrets import secret_names
from asky_scripts.model.stages import PlannedStage


def diff(
    kubectl: Kubectl,
    plan: Sequence[PlannedStage],
    options: DeployOptions,
    *,
    namespace_exists: bool,
    volume_state: VolumeState,
    force: bool,
) -> tuple[bool, str]:
    """Whether anything would change, and kubectl diff's text (plus objects to create)."""
    namespace = options.namespace
    texts: list[str] = []
    changed = False
    for planned in plan:
        applied_now = [m for m in planned.manifests if namespace_exists or not m.namespaced]
        if applied_now:
            result = kubectl.call(
                ["diff", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
                + (["--force-conflicts"] if force else []),
                stdin=stream_of(applied_now),
                ok_codes=(0, 1),
            )
            changed |= result.returncode == 1
            if result.stdout.strip():
                texts.append(result.stdout.rstrip())
        created = [
            f"+ {m.kind}/{m.name} (new in namespace {namespace})"
            for m in planned.manifests
            if m.namespaced and not namespace_exists
        ]
        if planned.stage.name == "storage" and volume_state is VolumeState.RELEASED:
            created.append(
                f"~ PersistentVolume/{options.pv_name} (Released: re-bound to the new claim, "
                "data kept)"
            )
        if planned.stage.generates_secrets:
            existing = existing_secrets(kubectl, namespace) if namespace_exists else set()
            created += [
                f"+ Secret/{name} (generated, values not shown)"
                for name in secret_names()
                if name not in existing
            ]
        if created:
            changed = True
            texts.append("\n".join(created))
    return changed, "\n".join(texts)
