"""Creates the generated Secrets a namespace is missing; never touches one that exists.

Only names are ever read back (``-o name``): the values never reach this process after they
are made, and they travel only in the stdin of ``kubectl create``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import AlreadyExistsError, TransientError
from asky_scripts.cluster.objects import Obj, name_of
from asky_scripts.deploy.apply import json_stream
from asky_scripts.model.secrets import missing_secrets


def existing_secrets(kubectl: Kubectl, namespace: str) -> set[str]:
    """The names of the namespace's Secrets (names only: the values never need to be read)."""
    listed = kubectl.run(["get", "secrets", "-n", namespace, "-o", "name"])
    return _names(listed)


def ensure_secrets(
    kubectl: Kubectl,
    namespace: str,
    *,
    namespace_exists: bool,
    given: Mapping[str, Mapping[str, str]] | None,
) -> tuple[list[str], set[str] | None]:
    """Creates the missing generated Secrets: (the names created, the names known to exist
    now, or None when a create met one made meanwhile and the answer does not say which).

    In a namespace preflight found absent there is nothing to list; a run that created the
    Secrets meanwhile makes our create answer AlreadyExists, and theirs are kept.
    """
    existing = existing_secrets(kubectl, namespace) if namespace_exists else set()
    new = missing_secrets(existing, namespace, given)
    if not new:
        return [], existing
    created: set[str] | None
    try:
        # One kubectl for all, tried once: run again whole, it would send again the
        # Secrets whose answer a flaky API lost after creating them.
        created = _create(kubectl, new, attempts=1)
    except TransientError:
        # Each Secret still missing on its own, so a retry re-sends only that one and
        # its AlreadyExists means our lost create took effect.
        left = missing_secrets(existing_secrets(kubectl, namespace), namespace, given)
        with ThreadPoolExecutor(max_workers=max(1, len(left))) as pool:
            list(pool.map(lambda secret: _create(kubectl, [secret]), left))
        created = None
    names = [name_of(secret) for secret in new]
    return names, None if created is None else existing | created


def _create(
    kubectl: Kubectl, secrets: Sequence[Obj], attempts: int | None = None
) -> set[str] | None:
    """The names created, or None when some already existed (created meanwhile by another run,
    or by our create whose answer was lost); what exists is kept, as always."""
    stream = json_stream(secrets)
    with contextlib.suppress(AlreadyExistsError):
        out = kubectl.run(["create", "-f", "-", "-o", "name"], stdin=stream, attempts=attempts)
        return _names(out)
    return None


def _names(listed: str) -> set[str]:
    return {line.partition("/")[2] for line in listed.split()}
