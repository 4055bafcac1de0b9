"""The Secrets that run.py creates on the first deploy of a namespace.

Manifests never carry credentials: they only reference these names and keys, and the
manifest policy tests check every reference against this table.  Values are made with
the ``secrets`` module, once; a Secret that already exists is never overwritten, because a
new database password would lock the services out of a database initialised with the old one.
"""

from __future__ import annotations

from dataclasses import dataclass


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
