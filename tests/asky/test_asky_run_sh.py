"""Recognising run.sh's deployment, on objects recorded from a cluster it prepared (kubectl get -o
json after tests/asky/run_sh/ was applied client-side), and what adoption derives from them."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from asky_scripts.deploy import adoption_plan
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model import run_sh
from asky_scripts.model.manifests import (
    ADOPTED_ANNOTATION,
    PGDATA_ANNOTATION,
    AdoptedLayout,
    DeployOptions,
)
from asky_scripts.model.stages import for_deploy, load_plan
from asky_scripts.teardown.plan import Found
from asky_scripts.teardown.run_sh import check_run_sh, plan_run_sh

RECORDED = json.loads(
    (Path(__file__).parent / "recorded" / "run-sh-deployment.json").read_text(encoding="utf-8")
)
Obj = dict[str, Any]


def contents() -> list[Obj]:
    return copy.deepcopy(RECORDED["contents"])


def volume() -> Obj:
    return copy.deepcopy(RECORDED["volume"])


def named(objects: list[Obj], kind: str, name: str) -> Obj:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def ours(kind: str, name: str, **spec: Any) -> Obj:
    labels = {"app.kubernetes.io/managed-by": "asky-scripts", "app.kubernetes.io/instance": "asky"}
    return {"kind": kind, "metadata": {"name": name, "labels": labels}, "spec": spec}


def test_recognises_everything_run_sh_left() -> None:
    found = run_sh.recognise("asky", contents(), volume())
    assert found is not None
    assert sorted(d["metadata"]["name"] for d in found.deployments) == sorted(run_sh.WORKLOADS)
    assert sorted(found.services) == sorted(run_sh.WORKLOADS)
    assert sorted(found.config_maps) == ["gateway-config", "postgres-initdb-config"]
    assert found.claim is not None and found.volume is not None
    assert found.data_path == "/mnt/data"
    assert found.database is not None
    assert "PersistentVolume/postgres-pv-volume (/mnt/data, Bound)" in found.listing()


def test_our_own_deployment_is_not_run_sh() -> None:
    deployed = [
        ours("Deployment", "postgres", selector={"matchLabels": {"app.kubernetes.io/name": "x"}}),
        ours("Service", "postgres", selector={"app.kubernetes.io/name": "postgres"}),
        ours("ConfigMap", "gateway-config"),
    ]
    assert run_sh.recognise("asky", deployed, None) is None


def test_a_service_or_config_map_of_the_same_name_alone_proves_nothing() -> None:
    lookalikes = [o for o in contents() if o["kind"] in ("Service", "ConfigMap")]
    assert run_sh.recognise("asky", lookalikes, None) is None


def test_a_deployment_selected_otherwise_is_not_run_sh() -> None:
    objects = contents()
    auth = named(objects, "Deployment", "auth")
    auth["spec"]["selector"]["matchLabels"] = {"app": "auth", "tier": "backend"}
    found = run_sh.recognise("asky", [auth], None)
    assert found is None


def test_run_sh_volume_of_another_namespace_is_not_taken() -> None:
    other = volume()
    other["spec"]["claimRef"]["namespace"] = "staging"
    assert run_sh.recognise("asky", [], other) is None
    found = run_sh.recognise("staging", [], other)
    assert found is not None and found.data_path == "/mnt/data"


def test_leftovers_of_an_interrupted_adoption_are_still_recognised() -> None:
    claim_only = [named(contents(), "PersistentVolumeClaim", "postgres-pv-claim")]
    found = run_sh.recognise("asky", claim_only, volume())
    assert found is not None and found.database is None


# -- the old credentials ---------------------------------------------------------------------------


def test_credentials_from_literal_env() -> None:
    database = named(contents(), "Deployment", "postgres")
    creds = run_sh.credentials(database, {}, {})
    assert (creds.user, creds.password, creds.database) == ("asky", "run-sh-old-password", "asky")
    assert "run-sh-old-password" not in repr(creds)


def _postgres_env(env: list[Obj]) -> Obj:
    database = named(contents(), "Deployment", "postgres")
    database["spec"]["template"]["spec"]["containers"][0]["env"] = env
    return database


def test_credentials_from_a_secret_and_the_image_default_user() -> None:
    database = _postgres_env(
        [{"name": "POSTGRES_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}]
    )
    secret = {"data": {"pw": base64.b64encode(b"s3cret").decode()}}
    creds = run_sh.credentials(database, {}, {"db": secret})
    assert (creds.user, creds.password, creds.database) == ("postgres", "s3cret", "postgres")
    assert run_sh.referenced(database, "Secret") == {"db"}


def test_credentials_from_a_config_map() -> None:
    database = _postgres_env(
        [
            {"name": "POSTGRES_USER", "value": "asky"},
            {
                "name": "POSTGRES_PASSWORD",
                "valueFrom": {"configMapKeyRef": {"name": "db-config", "key": "password"}},
            },
        ]
    )
    creds = run_sh.credentials(database, {"db-config": {"data": {"password": "pw"}}}, {})
    assert (creds.user, creds.password) == ("asky", "pw")


def test_no_readable_password_refuses_the_adoption() -> None:
    database = _postgres_env([{"name": "POSTGRES_USER", "value": "asky"}])
    with pytest.raises(ClusterRefusedError, match="POSTGRES_PASSWORD"):
        run_sh.credentials(database, {}, {})


def test_every_service_logs_in_as_run_sh_user() -> None:
    values = run_sh.secret_values(run_sh.Credentials("asky", "pw", "asky"))
    assert set(values) == {"postgres-superuser", "auth-db", "pyxis-db", "request-management-db"}
    assert all(v == {"username": "asky", "password": "pw"} for v in values.values())


@pytest.mark.parametrize(
    ("image", "major"),
    [
        ("postgres:16.4", 16),
        ("postgres:17", 17),
        ("registry.local:5000/library/postgres:15-alpine", 15),
        ("postgres", None),
        ("postgres:latest", None),
        ("postgres@sha256:" + "a" * 64, None),
    ],
)
def test_image_major(image: str, major: int | None) -> None:
    assert run_sh.image_major(image) == major


def test_pgdata_default_and_subdirectory() -> None:
    database = named(contents(), "Deployment", "postgres")
    assert run_sh.pgdata(database) == ("/var/lib/postgresql/data", "/var/lib/postgresql/data")
    env = database["spec"]["template"]["spec"]["containers"][0]["env"]
    env.append({"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"})
    assert run_sh.pgdata(database)[0] == "/var/lib/postgresql/data/pgdata"


# -- the layout our volume records, and the manifests it rewrites ----------------------------------


def test_adopted_layout_rewrites_our_volume_and_pgdata() -> None:
    options = DeployOptions(adopted=AdoptedLayout("/mnt/data", "/pgdata"))
    manifests = {
        (m.kind, m.name): m.obj for p in for_deploy(load_plan(), options) for m in p.manifests
    }
    pv = manifests[("PersistentVolume", "asky-postgres-data")]
    assert pv["spec"]["hostPath"]["path"] == "/mnt/data"
    assert adoption_plan.adopted_layout(pv) == AdoptedLayout("/mnt/data", "/pgdata")
    env = manifests[("Deployment", "postgres")]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"} in env


def test_a_volume_not_adopted_has_no_layout() -> None:
    plain = {"metadata": {"annotations": {}}, "spec": {"hostPath": {"path": "/data/asky/postgres"}}}
    assert adoption_plan.adopted_layout(plain) is None
    assert adoption_plan.adopted_layout(None) is None
    marked = {
        "metadata": {"annotations": {ADOPTED_ANNOTATION: "run.sh", PGDATA_ANNOTATION: ""}},
        "spec": {"hostPath": {"path": "/mnt/data"}},
    }
    assert adoption_plan.adopted_layout(marked) == AdoptedLayout("/mnt/data", "")


def test_a_different_major_version_refuses_before_anything() -> None:
    found = run_sh.recognise("asky", contents(), volume())
    assert found is not None
    with pytest.raises(ClusterRefusedError, match=r"PostgreSQL 17.*PostgreSQL 16"):
        adoption_plan.check_image(found, "postgres:16.4-bookworm")
    adoption_plan.check_image(found, "postgres:17.6-bookworm")


# -- terminate.py ----------------------------------------------------------------------------------


def test_terminate_refuses_run_sh_without_the_flag_and_points_at_it() -> None:
    found = run_sh.recognise("asky", contents(), volume())
    with pytest.raises(ClusterRefusedError) as refused:
        check_run_sh(found, run_sh=False, keep_data=False)
    assert "--run-sh" in refused.value.hint and "--force" not in refused.value.hint
    assert "run.py --adopt" in refused.value.hint
    check_run_sh(found, run_sh=True, keep_data=False)
    check_run_sh(None, run_sh=False, keep_data=False)
    with pytest.raises(ClusterRefusedError, match="--keep-data"):
        check_run_sh(found, run_sh=True, keep_data=True)


def test_terminate_run_sh_plan_deletes_namespace_and_volume_only() -> None:
    legacy = run_sh.recognise("asky", contents(), volume())
    assert legacy is not None
    namespace = {"kind": "Namespace", "metadata": {"name": "asky", "uid": "n1"}}
    plan = plan_run_sh(Found("asky", namespace, contents=tuple(contents())), legacy)
    assert {t.ref for t in plan.delete} == {"Namespace/asky", "PersistentVolume/postgres-pv-volume"}
    assert {t.ref for t in plan.wait} >= {t.ref for t in plan.delete}
    notes = " ".join(plan.notes)
    assert "kubectl delete all --all -n default" in notes and "helm uninstall" in notes
    assert "/mnt/data" in plan.data_warning and "run.py --adopt" in plan.data_warning
    assert plan.foreign == ()


class _NoKubectl:
    """plan() must refuse before it asks the cluster anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"kubectl.{name} called")


def test_adopting_beside_our_own_database_is_refused() -> None:
    found = run_sh.recognise("asky", contents(), volume())
    ours = {"metadata": {"name": "asky-postgres-data"}, "spec": {"hostPath": {"path": "/d"}}}
    with pytest.raises(ClusterRefusedError, match="two databases"):
        adoption_plan.plan(
            _NoKubectl(),  # type: ignore[arg-type]
            DeployOptions(),
            found,
            ours,
            adopt=True,
            our_postgres_image="postgres:17.6",
            timeout=1,
            notify=lambda stage, message: None,
        )


def test_without_adopt_the_refusal_lists_what_was_found_and_what_adopt_does() -> None:
    found = run_sh.recognise("asky", contents(), volume())
    with pytest.raises(ClusterRefusedError) as refused:
        adoption_plan.plan(
            _NoKubectl(),  # type: ignore[arg-type]
            DeployOptions(),
            found,
            None,
            adopt=False,
            our_postgres_image="postgres:17.6",
            timeout=1,
            notify=lambda stage, message: None,
        )
    message = refused.value.message
    assert "a deployment made by the original run.sh" in message
    assert "Deployment/postgres (app=postgres)" in message and "Nothing was changed" in message
    assert "stopped before ours starts on the same data (/mnt/data)" in message
    assert "python run.py --adopt" in refused.value.hint
