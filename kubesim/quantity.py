"""Kubernetes resource quantities (``500m``, ``128Mi``, ``1G``) as numbers, for scheduling."""

from __future__ import annotations

import re

_SUFFIXES = {
    "": 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)(e[+-]?[0-9]+|[a-zA-Z]*)$")


def parse_quantity(value: str | int | float) -> float:
    """The value of a quantity; raises ValueError for text that is not one."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.match(value.strip())
    if not match:
        raise ValueError(f"quantities must match the regular expression {_QUANTITY.pattern}")
    number, suffix = match.groups()
    if suffix.startswith("e"):
        return float(number + suffix)
    if suffix not in _SUFFIXES:
        raise ValueError(f"unknown quantity suffix {suffix!r}")
    return float(number) * _SUFFIXES[suffix]
