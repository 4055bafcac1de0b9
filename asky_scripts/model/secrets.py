"""The Secrets that run.py creates on the first deploy of a namespace.

Manifests never carry credentials: they only reference these names and keys, and the
manifest policy tests check every reference against this table.  Values are made with
the ``secrets`` module, once; a Secret that already exists is never overwritten, because a
new database password would lock the services out of a database initialised with the old one.
Values only ever travel in the stdin of ``kubectl create``; nothing here returns them to a
caller that prints.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from asky_scripts.cluster.objects import Obj
from asky_scripts.model.manifests import PART_OF
from asky_scripts.model.ownership import owner_labels


@dataclass(frozen=True)
class GeneratedSecret:
    """A Secret run.py owns: fixed keys, random values unless a fixed value is given."""

    name: str
    random_keys: tuple[str, ...]
    fixed: tuple[tuple[str, str], ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return self.random_keys + tuple(key for key, _ in self.fixed)


GENERATED_SECRETS: tuple[GeneratedSecret, ...] = (
    # The PostgreSQL superuser, used only by the postgres container and its init scripts.
    GeneratedSecret("postgres-superuser", ("password",), (("username", "postgres"),)),
    # One least-privilege database role per service, created by the init SQL.
    GeneratedSecret("auth-db", ("password",), (("username", "asky_auth"),)),
    GeneratedSecret("pyxis-db", ("password",), (("username", "asky_pyxis"),)),
    GeneratedSecret("request-management-db", ("password",), (("username", "asky_requests"),)),
    # The first application administrator, created by the init SQL with a bcrypt hash.
    GeneratedSecret("app-admin", ("password",), (("username", "admin"),)),
    # Key the auth service signs its tokens with.
    GeneratedSecret("auth-token-key", ("signing-key",)),
)

_RANDOM_BYTES = 32  # 256 bits, URL-safe so it can sit in a DSN or a config file unquoted


def secret_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in GENERATED_SECRETS)


def _encode(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def secret_object(
    spec: GeneratedSecret, namespace: str, given: Mapping[str, str] | None = None
) -> Obj:
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
            "labels": {"app.kubernetes.io/part-of": PART_OF, **owner_labels(namespace)},
        },
        "data": {key: _encode(value) for key, value in values.items()},
    }


def missing_secrets(
    existing: set[str], namespace: str, given: Mapping[str, Mapping[str, str]] | None = None
) -> list[Obj]:
    """New Secrets for the names not in ``existing``; existing ones are never regenerated."""
    return [
        secret_object(spec, namespace, (given or {}).get(spec.name))
        for spec in GENERATED_SECRETS
        if spec.name not in existing
    ]
