"""``terminate.py --run-sh``: removing a deployment the original run.sh made, as terminate.sh did.

run.sh's objects carry none of our labels, so the ownership rule would leave them all; they are
removed only when asked for by name, and never by ``--keep-data`` (run.sh's passwords are not
in the generated Secrets that option keeps).
"""

from __future__ import annotations

from dataclasses import replace

from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.run_sh import RunShDeployment
from asky_scripts.teardown.plan import (
    Found,
    Target,
    TeardownPlan,
    count_by_kind,
    terminating_refs,
    to_delete,
)
from asky_scripts.teardown.plan_full import plan_full

#: What terminate.sh did beyond Asky's namespace and volume, which terminate.py will not do.
TERMINATE_SH_EXTRAS = (
    "terminate.sh also ran `kubectl delete all --all -n default`, deleting everything in the "
    "default namespace, and `helm uninstall` of the logging stack; terminate.py does neither, "
    "because neither is Asky's: remove them yourself if you mean to",
)


def check_run_sh(legacy: RunShDeployment | None, *, run_sh: bool, keep_data: bool) -> None:
    """run.sh's deployment is removed only when asked for by name (``--run-sh``)."""
    if legacy is None:
        return
    if run_sh and keep_data:
        raise ClusterRefusedError(
            "--run-sh removes run.sh's deployment as terminate.sh did; --keep-data cannot "
            "keep it (run.sh's passwords are not in generated Secrets); nothing was deleted",
            hint="to keep run.sh's database, take it over with `python run.py --adopt`",
        )
    if run_sh:
        return
    found = "\n".join(f"  - {line}" for line in legacy.listing())
    raise ClusterRefusedError(
        f"namespace {legacy.namespace} holds a deployment made by the original run.sh "
        f"(not labelled by asky-scripts):\n{found}\nNothing was deleted.",
        hint=f"`python terminate.py --run-sh` removes it as terminate.sh did (namespace "
        f"{legacy.namespace} and volume {legacy.volume_name}); or keep its database and take it "
        "over with `python run.py --adopt`",
    )


def plan_run_sh(found: Found, legacy: RunShDeployment) -> TeardownPlan:
    """What terminate.sh removed of Asky: the namespace with everything in it, and run.sh's
    volume (plus ours, after an adoption that did not finish)."""
    base = plan_full(found)
    volumes = [legacy.volume] if legacy.volume is not None else []
    warning = base.data_warning
    if legacy.data_path:
        warning = (
            f"run.sh's volume {legacy.volume_name} and its claim will be deleted. Kubernetes "
            f"does not erase a hostPath volume: run.sh's database stays on the node at "
            f"{legacy.data_path} until you remove it (on minikube: minikube ssh -- sudo rm -rf "
            f"{legacy.data_path}). To keep using it, run `python run.py --adopt` instead. "
            + warning
        ).strip()
    return replace(
        base,
        delete=base.delete + to_delete(volumes),
        terminating=base.terminating + terminating_refs(volumes),
        wait=base.wait + tuple(Target.of(v) for v in volumes),
        foreign=(),
        contents=(count_by_kind(found.contents),) if found.contents else (),
        notes=base.notes + TERMINATE_SH_EXTRAS,
        data_warning=warning,
    )
