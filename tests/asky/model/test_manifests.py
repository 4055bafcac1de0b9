"""Reading, rewriting and staging the manifests: what a deploy would send, before sending it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from asky_scripts.errors import ManifestError, UsageError
from asky_scripts.model.manifests import DeployOptions, load_file
from asky_scripts.model.stages import for_deploy, load_plan

REPO = Path(__file__).resolve().parents[3]


def objects(options: DeployOptions) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    plan = for_deploy(load_plan(), options)
    return {(m.kind, m.name): m.obj for p in plan for m in p.manifests}


def test_stages_follow_the_seed_order_with_services_before_deployments() -> None:
    plan = load_plan()
    assert [p.stage.name for p in plan] == [
        "namespace",
        "storage",
        "configuration",
        "database",
        "services",
    ]
    services = [(m.kind, m.name) for m in plan[-1].manifests]
    assert services.index(("Deployment", "auth")) > max(
        i for i, (kind, _) in enumerate(services) if kind == "Service"
    )
    assert {m.name for m in plan[-1].manifests if m.kind == "Deployment"} == {
        "auth",
        "gateway",
        "pyxis",
        "request-management",
    }


def test_plan_loads_from_any_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert sum(len(p.manifests) for p in load_plan()) > 10


def test_default_deploy_keeps_the_manifests_as_written() -> None:
    objs = objects(DeployOptions())
    assert objs[("Namespace", "asky")]["metadata"]["labels"]["app.kubernetes.io/instance"] == "asky"
    assert objs[("PersistentVolumeClaim", "postgres-data")]["spec"]["volumeName"] == (
        "asky-postgres-data"
    )
    assert all(
        obj["metadata"].get("namespace") == "asky"
        for (kind, _), obj in objs.items()
        if kind not in ("Namespace", "PersistentVolume")
    )


def test_second_namespace_gets_its_own_volume_labels_and_selectors() -> None:
    objs = objects(DeployOptions(namespace="staging"))
    assert ("Namespace", "staging") in objs
    pv = objs[("PersistentVolume", "staging-postgres-data")]
    assert pv["spec"]["claimRef"]["namespace"] == "staging"
    assert pv["spec"]["hostPath"]["path"] == "/data/staging/postgres"
    assert objs[("PersistentVolumeClaim", "postgres-data")]["spec"]["volumeName"] == (
        "staging-postgres-data"
    )
    auth = objs[("Deployment", "auth")]
    assert auth["metadata"]["namespace"] == "staging"
    assert auth["spec"]["selector"]["matchLabels"]["app.kubernetes.io/instance"] == "staging"
    assert auth["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/instance"] == "staging"
    assert "asky" not in yaml.safe_dump(objs[("Service", "auth")]["spec"]["selector"])


def test_storage_class_drops_the_host_path_volume() -> None:
    objs = objects(DeployOptions(storage_class="standard-rwo"))
    assert not any(kind == "PersistentVolume" for kind, _ in objs)
    claim = objs[("PersistentVolumeClaim", "postgres-data")]["spec"]
    assert claim["storageClassName"] == "standard-rwo"
    assert "volumeName" not in claim


def test_replicas_image_and_gateway_type_flags() -> None:
    objs = objects(
        DeployOptions(
            replicas={"auth": 3},
            images={"pyxis": "registry.local:5000/pyxis:2.1"},
            gateway_type="LoadBalancer",
        )
    )
    assert objs[("Deployment", "auth")]["spec"]["replicas"] == 3
    containers = objs[("Deployment", "pyxis")]["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == "registry.local:5000/pyxis:2.1"
    assert objs[("Service", "gateway")]["spec"]["type"] == "LoadBalancer"


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (DeployOptions(replicas={"nginx": 1}), "unknown service nginx"),
        (DeployOptions(images={"authh": "x:1"}), "unknown service authh"),
        (DeployOptions(replicas={"postgres": 2}), "at most 1"),
    ],
)
def test_bad_flags_are_refused_with_the_valid_names(options: DeployOptions, needle: str) -> None:
    with pytest.raises(UsageError) as caught:
        for_deploy(load_plan(), options)
    assert needle in caught.value.message


def copy_manifests(tmp_path: Path) -> Path:
    root = tmp_path / "manifests"
    shutil.copytree(REPO / "manifests", root)
    return root


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root = copy_manifests(tmp_path)
    path = root / "deployments" / "gateway.yaml"
    lines = path.read_text().splitlines()
    body = next(i for i, line in enumerate(lines) if line.startswith("spec:"))
    lines.insert(body + 1, "  replicas: [1")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ManifestError) as caught:
        load_plan(root)
    assert caught.value.message.startswith("deployments/gateway.yaml:")
    assert "YAML syntax error" in caught.value.message


def test_file_outside_every_stage_is_refused(tmp_path: Path) -> None:
    root = copy_manifests(tmp_path)
    (root / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(ManifestError) as caught:
        load_plan(root)
    assert "extra.yaml" in caught.value.message


def test_service_selector_typo_is_caught_before_the_cluster(tmp_path: Path) -> None:
    root = copy_manifests(tmp_path)
    path = root / "services" / "pyxis.yaml"
    path.write_text(
        path.read_text().replace("app.kubernetes.io/name: pyxis", "app.kubernetes.io/name: pyxsi")
    )
    with pytest.raises(ManifestError) as caught:
        for_deploy(load_plan(root), DeployOptions())
    assert "services/pyxis.yaml" in caught.value.message
    assert "matches no Deployment" in caught.value.message


def test_object_without_kind_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        "---\napiVersion: v1\nmetadata: {name: b}\n"
    )
    with pytest.raises(ManifestError) as caught:
        load_file(path, tmp_path)
    assert caught.value.message.startswith("x.yaml:6: object without kind")
