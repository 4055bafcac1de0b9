"""Which module judges which kind: adding a kind is adding a module and a line here."""

from __future__ import annotations

from asky_scripts.readiness.base import KindReadiness
from asky_scripts.readiness.claim import ClaimReadiness
from asky_scripts.readiness.deployment import DeploymentReadiness
from asky_scripts.readiness.exists import ExistsReadiness
from asky_scripts.readiness.namespace import NamespaceReadiness
from asky_scripts.readiness.service import ServiceReadiness
from asky_scripts.readiness.volume import VolumeReadiness

READERS: dict[str, KindReadiness] = {
    "Namespace": NamespaceReadiness(),
    "PersistentVolume": VolumeReadiness(),
    "PersistentVolumeClaim": ClaimReadiness(),
    "Deployment": DeploymentReadiness(),
    "Service": ServiceReadiness(),
}
_EXISTS = ExistsReadiness()


def reader_for(kind: str) -> KindReadiness:
    """The kind's reader; kinds with no status to wait for are ready once present."""
    return READERS.get(kind, _EXISTS)
