"""Makes the Secrets of generated_secrets.py: random once, never overwritten, never printed.

Values only ever travel in the stdin of ``kubectl create``; nothing here returns them to a
caller that prints, and an existing Secret is always kept because the database was initialised
with its values.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any

from asky_scripts.generated_secrets import GENERATED_SECRETS, GeneratedSecret
from asky_scripts.manifests import INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL, PART_OF

_RANDOM_BYTES = 32  # 256 bits, URL-safe so it can sit in a DSN or a config file unquoted


def secret_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in GENERATED_SECRETS)


def _encode(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def secret_object(
    spec: GeneratedSecret, namespace: str, given: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A new Secret for ``spec`` with fresh random values, or the ``given`` ones (the
    credentials of a database adopted from run.sh)."""
    values = {key: secrets.token_urlsafe(_RANDOM_BYTES) for key in spec.random_keys}
    values.update(dict(spec.fixed))
    values.update({key: value for key, value in (given or {}).items() if key in values})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": spec.name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/part-of": PART_OF,
                MANAGED_BY_LABEL: MANAGED_BY,
                INSTANCE_LABEL: namespace,
            },
        },
        "data": {key: _encode(value) for key, value in values.items()},
    }


def missing_secrets(
    existing: set[str], namespace: str, given: Mapping[str, Mapping[str, str]] | None = None
) -> list[dict[str, Any]]:
    """New Secrets for the names not in ``existing``; existing ones are never regenerated."""
    return [
        secret_object(spec, namespace, (given or {}).get(spec.name))
        for spec in GENERATED_SECRETS
        if spec.name not in existing
    ]
