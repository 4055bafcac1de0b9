"""Generated names and hashes in the shapes Kubernetes uses for them."""

from __future__ import annotations

import json
import secrets
from typing import Any

# The apiserver's generateName alphabet: no vowels and no look-alike digits.
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def random_suffix(length: int = 5) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def template_hash(template: dict[str, Any]) -> str:
    """A stable ``pod-template-hash`` for a pod template: same template, same ReplicaSet.

    The shape of Kubernetes's own (pkg/controller/controller_utils.go ComputeHash): the decimal
    digits of a 32-bit FNV-1a hash, each mapped through the generateName alphabet
    (``rand.SafeEncodeString``), so only ``4-9``, ``b``, ``c``, ``d``, ``f`` appear, 9-10 long
    as a rule. Kubernetes hashes its Go struct; this hashes the JSON, so the values differ.
    """
    digest = 0x811C9DC5
    for byte in json.dumps(template, sort_keys=True).encode():
        digest = ((digest ^ byte) * 0x01000193) & 0xFFFFFFFF
    return "".join(_ALPHABET[ord(digit) % len(_ALPHABET)] for digit in str(digest))
