"""Policy: every Secret, ConfigMap, claim and file a pod refers to will be there.

A missing Secret key or ConfigMap key is not an apply error: the pod just sits in
CreateContainerConfigError (or ContainerCreating) until someone reads its events. Secrets are
never in manifests; the only ones a pod may use are those run.py generates.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any


def references(spec: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(kind, name, key or None for the whole object) for every reference in a pod spec."""
    found: list[tuple[str, str, str | None]] = []
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        for env in container.get("env", []):
            source = env.get("valueFrom", {})
            if "secretKeyRef" in source:
                found.append(
                    ("Secret", source["secretKeyRef"]["name"], source["secretKeyRef"]["key"])
                )
            if "configMapKeyRef" in source:
                ref = source["configMapKeyRef"]
                found.append(("ConfigMap", ref["name"], ref["key"]))
        for env_from in container.get("envFrom", []):
            if "secretRef" in env_from:
                found.append(("Secret", env_from["secretRef"]["name"], None))
            if "configMapRef" in env_from:
                found.append(("ConfigMap", env_from["configMapRef"]["name"], None))
    for volume in spec.get("volumes", []):
        sources = [volume, *volume.get("projected", {}).get("sources", [])]
        for source in sources:
            if "secret" in source:
                secret = source["secret"]
                name = secret.get("secretName", secret.get("name"))
                found += [("Secret", name, item["key"]) for item in secret.get("items", [])]
                found += [] if secret.get("items") else [("Secret", name, None)]
            if "configMap" in source:
                config_map = source["configMap"]
                found += [
                    ("ConfigMap", config_map["name"], i["key"]) for i in config_map.get("items", [])
                ]
                found += (
                    [] if config_map.get("items") else [("ConfigMap", config_map["name"], None)]
                )
        if "persistentVolumeClaim" in volume:
            found.append(
                ("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"], None)
            )
    return found


def test_manifests_hold_no_secret(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert [name for kind, name in objects if kind == "Secret"] == []


def test_every_reference_resolves_to_a_manifest_or_a_generated_secret(
    pod_specs: dict[str, dict[str, Any]],
    objects: dict[tuple[str, str], dict[str, Any]],
    generated_secret_keys: dict[str, frozenset[str]],
) -> None:
    available: dict[tuple[str, str], frozenset[str]] = {
        ("Secret", name): keys for name, keys in generated_secret_keys.items()
    }
    available |= {
        key: frozenset(doc.get("data", {})) for key, doc in objects.items() if key[0] != "Secret"
    }
    dangling = [
        f"{workload}: {kind}/{name}" + (f" key {key}" if key else "")
        for workload, spec in pod_specs.items()
        for kind, name, key in references(spec)
        if (kind, name) not in available or (key is not None and key not in available[(kind, name)])
    ]

    assert dangling == []


def test_every_file_variable_points_at_a_file_a_volume_provides(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    dangling = []
    for workload, spec in pod_specs.items():
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            provided = set()
            for mount in container.get("volumeMounts", []):
                volume = volumes[mount["name"]]
                sources = [volume, *volume.get("projected", {}).get("sources", [])]
                for source in sources:
                    for item in (source.get("secret") or source.get("configMap") or {}).get(
                        "items", []
                    ):
                        provided.add(PurePosixPath(mount["mountPath"]) / item["path"])
            dangling += [
                f"{workload}/{container['name']}: {env['name']}={env['value']}"
                for env in container.get("env", [])
                if env["name"].endswith("_FILE") and PurePosixPath(env["value"]) not in provided
            ]

    assert dangling == []


def test_every_volume_is_mounted_and_every_mount_has_a_volume(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    problems = []
    for workload, spec in pod_specs.items():
        declared = {v["name"] for v in spec.get("volumes", [])}
        mounted = {
            m["name"]
            for c in [*spec.get("initContainers", []), *spec["containers"]]
            for m in c.get("volumeMounts", [])
        }
        problems += [f"{workload}: {name} not declared" for name in mounted - declared]
        problems += [f"{workload}: {name} never mounted" for name in declared - mounted]

    assert problems == []
