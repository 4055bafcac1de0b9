"""Generated names and hashes in the shapes Kubernetes uses for them."""

from __future__ import annotations

import json
import secrets
import zlib
from typing import Any

# The apiserver's generateName alphabet: no vowels and no look-alike digits.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def template_hash(template: dict[str, Any]) -> str:
    """A stable ``pod-template-hash`` for a pod template: same template, same ReplicaSet."""
    digest = zlib.crc32(json.dumps(template, sort_keys=True).encode())
    out = []
    for _ in range(10):
        out.append(_ALPHABET[digest % len(_ALPHABET)])
        digest //= len(_ALPHABET)
        if not digest:
            break
    return "".join(out)
