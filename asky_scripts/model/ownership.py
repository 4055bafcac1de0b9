"""What marks an object as asky-scripts' own, in one place: the one ownership rule.

Every object run.py creates carries two labels: ``app.kubernetes.io/managed-by=asky-scripts``
and ``app.kubernetes.io/instance=<namespace of the deploy>``.  An object is ours for a deploy of
namespace N only when it carries both, with N.  Both, because:

- managed-by alone would make every copy's objects look like every other copy's: after
  ``--namespace x`` and ``--namespace y`` the PersistentVolumes of both (cluster-wide) carry
  it, and a teardown or re-bind of y must leave x's alone;
- the instance alone is a common label that other tools (Helm, Argo CD) set too.

The Namespace follows the same rule: namespace.yaml has carried the instance label since its
first version and rewrite.py moves it with ``--namespace``, so a namespace run.py made always
has it.  ``kubernetes.io/metadata.name`` proves nothing here: the API server sets it on every
namespace.  Deploy (preflight), re-bind and teardown all ask ``is_ours``, so no command deploys
into a namespace another command would then refuse to delete.
"""

from __future__ import annotations

from asky_scripts.cluster.objects import Obj, labels_of
from asky_scripts.model.manifests import INSTANCE_LABEL, MANAGED_BY, MANAGED_BY_LABEL


def owner_labels(namespace: str) -> dict[str, str]:
    """The labels that claim an object for the deploy of ``namespace``."""
    return {MANAGED_BY_LABEL: MANAGED_BY, INSTANCE_LABEL: namespace}


def owner_selector(namespace: str) -> str:
    """``owner_labels`` as a label selector (``kubectl get -l``), and as users read it."""
    return ",".join(f"{key}={value}" for key, value in owner_labels(namespace).items())


def is_ours(obj: Obj, namespace: str) -> bool:
    """Made by run.py for the deploy of ``namespace``: both owner labels, with that namespace."""
    labels = labels_of(obj)
    return all(labels.get(key) == value for key, value in owner_labels(namespace).items())
