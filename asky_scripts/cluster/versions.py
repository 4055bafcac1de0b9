"""The kubectl versions asky-scripts supports, and reading the version kubectl reports.

Every kubectl minor version in the range is tested end to end in CI; one outside it is refused
before any change (connection.py), because an untested kubectl fails half way through a
deploy, not at its start (as 1.29-1.32 did on the Secrets' stream until that was fixed).
"""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj

#: The kubectl minor versions asky-scripts is tested with (end to end, each of them, in CI).
OLDEST_KUBECTL_MINOR = 28
NEWEST_TESTED_KUBECTL_MINOR = 37
SUPPORTED_RANGE = f"1.{OLDEST_KUBECTL_MINOR} to 1.{NEWEST_TESTED_KUBECTL_MINOR}"
#: kubectl's own skew policy: one minor version either side of the server.
SUPPORTED_SKEW = 1


def minor_of(version: Obj) -> int | None:
    """The minor version of a ``version -o json`` half (``"30"``, ``"30+"`` on GKE), or None."""
    digits = "".join(ch for ch in str(version.get("minor", "")) if ch.isdigit())
    return int(digits) if digits else None
