"""What marks an object as asky-scripts' own, in one place.

Every object run.py creates carries these labels, and every later decision to change, re-bind
or delete an object starts from them: a second definition would let two commands disagree on
what they may touch.
"""

from __future__ import annotations

from asky_scripts.model.manifests import INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL


def owner_labels(namespace: str) -> dict[str, str]:
    """The labels that claim an object for the deploy of ``namespace``."""
    return {MANAGED_BY_LABEL: MANAGED_BY, INSTANCE_LABEL: namespace}
