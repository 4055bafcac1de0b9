"""Recognises what the original run.sh left in a namespace, from the objects themselves.

run.sh made the namespace with ``kubectl create namespace`` (no labels) and applied its
manifests client-side: a hostPath volume ``postgres-pv-volume`` (storage class ``manual``,
``/mnt/data``) bound to the claim ``postgres-pv-claim``, the ConfigMaps
``postgres-initdb-config`` and ``gateway-config``, and a Deployment and a Service per service,
selected by ``app=<name>``.  None of it carries our labels, so the ownership checks of run.py
and terminate.py would call it someone else's; this module tells the two apart.

Pure over the objects read (``recognise``), so the rules are unit-tested on recorded objects;
``read`` is the one kubectl read that feeds it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.objects import Obj, field, name_of, spec, status
from asky_scripts.errors import ClusterRefusedError
from asky_scripts.model.manifests import DATABASE
from asky_scripts.model.ownership import is_ours

VOLUME = "postgres-pv-volume"
CLAIM = "postgres-pv-claim"
#: The init SQL ConfigMap only run.sh has; gateway-config has the name of ours too.
CONFIG_MAPS = ("postgres-initdb-config", "gateway-config")
WORKLOADS = (DATABASE, "auth", "gateway", "pyxis", "request-management")
#: Where the official postgres image keeps its database when PGDATA is not set.
DEFAULT_PGDATA = "/var/lib/postgresql/data"
#: run.sh's objects are selected by this label; ours by app.kubernetes.io/name.
SELECTOR_LABEL = "app"


def _selects_app(selector: object, name: str) -> bool:
    return selector == {SELECTOR_LABEL: name}


@dataclass(frozen=True)
class RunShDeployment:
    """run.sh's objects still in one namespace (and its volume), as read at one moment."""

    namespace: str
    #: Deployments named like a service and selected by ``app=<name>`` (not ours).
    deployments: tuple[Obj, ...] = ()
    #: Services of those names that still select ``app=<name>``.
    services: tuple[str, ...] = ()
    config_maps: tuple[str, ...] = ()
    claim: Obj | None = None
    #: ``postgres-pv-volume``, when it is free or bound to this namespace's run.sh claim.
    volume: Obj | None = None

    @property
    def database(self) -> Obj | None:
        """run.sh's postgres Deployment, while it still exists."""
        return next((d for d in self.deployments if name_of(d) == DATABASE), None)

    @property
    def volume_name(self) -> str:
        return VOLUME

    @property
    def data_path(self) -> str | None:
        """The node directory of run.sh's database volume, while the volume exists."""
        path = field(spec(self.volume or {}), "hostPath").get("path")
        return str(path) if path else None

    def listing(self) -> list[str]:
        """What was found, one line per object, as a person would look it up."""
        lines = [f"Deployment/{name_of(d)} (app={name_of(d)})" for d in self.deployments]
        lines += [f"Service/{name} (app={name})" for name in self.services]
        lines += [f"ConfigMap/{name}" for name in self.config_maps]
        if self.claim is not None:
            lines.append(f"PersistentVolumeClaim/{CLAIM}")
        if self.volume is not None:
            phase = status(self.volume).get("phase") or "no phase"
            lines.append(f"PersistentVolume/{VOLUME} ({self.data_path or 'no hostPath'}, {phase})")
        return lines


def recognise(
    namespace: str, contents: Sequence[Obj], volume: Obj | None
) -> RunShDeployment | None:
    """run.sh's objects among a namespace's ``contents`` and the volume named like its; None
    when there is none of the objects that only run.sh makes (a Deployment selected by
    ``app=<name>``, its claim or its volume).  A Service or a ConfigMap alone proves nothing:
    ours have the same names."""
    deployments = tuple(
        o
        for o in contents
        if o.get("kind") == "Deployment"
        and name_of(o) in WORKLOADS
        and not is_ours(o, namespace)
        and _selects_app(field(spec(o), "selector").get("matchLabels"), name_of(o))
    )
    services = tuple(
        name_of(o)
        for o in contents
        if o.get("kind") == "Service"
        and name_of(o) in WORKLOADS
        and _selects_app(spec(o).get("selector"), name_of(o))
    )
    config_maps = tuple(
        name_of(o)
        for o in contents
        if o.get("kind") == "ConfigMap" and name_of(o) in CONFIG_MAPS and not is_ours(o, namespace)
    )
    claim = next(
        (o for o in contents if o.get("kind") == "PersistentVolumeClaim" and name_of(o) == CLAIM),
        None,
    )
    ref = field(spec(volume or {}), "claimRef")
    if ref and (ref.get("namespace"), ref.get("name")) != (namespace, CLAIM):
        volume = None  # another namespace's run.sh deployment: not this one's to take
    if not (deployments or claim is not None or volume is not None):
        return None
    return RunShDeployment(namespace, deployments, services, config_maps, claim, volume)


def read(kubectl: Kubectl, namespace: str) -> RunShDeployment | None:
    """One read of everything ``recognise`` looks at."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        volumes = pool.submit(
            kubectl.get_items, ["get", f"persistentvolumes/{VOLUME}", "--ignore-not-found"]
        )
        contents = kubectl.get_items(
            [
                "get",
                "deployments.apps,services,configmaps,persistentvolumeclaims",
                "-n",
                namespace,
            ]
        )
        found = volumes.result()
    return recognise(namespace, contents, found[0] if found else None)


# -- the old database's credentials --------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """The superuser run.sh's postgres was initialised with; never printed."""

    user: str
    password: str = ""
    database: str = ""

    def __repr__(self) -> str:  # a traceback or a debugger must not show the password
        return f"Credentials(user={self.user!r}, password=<hidden>, database={self.database!r})"


def _env_value(env: Obj, config_maps: Mapping[str, Obj], secrets: Mapping[str, Obj]) -> str | None:
    if "value" in env:
        return str(env["value"])
    source = env.get("valueFrom") or {}
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        data = (config_maps.get(ref.get("name", "")) or {}).get("data") or {}
        value = data.get(ref.get("key", ""))
        return None if value is None else str(value)
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        data = (secrets.get(ref.get("name", "")) or {}).get("data") or {}
        encoded = data.get(ref.get("key", ""))
        return None if encoded is None else base64.b64decode(encoded).decode()
    return None


def referenced(deployment: Obj, kind: str) -> set[str]:
    """The ConfigMaps (``configMapKeyRef``) or Secrets (``secretKeyRef``) its env reads."""
    key = "configMapKeyRef" if kind == "ConfigMap" else "secretKeyRef"
    names = set()
    for container in _containers(deployment):
        for env in container.get("env") or []:
            ref = field(env, "valueFrom").get(key)
            if ref and ref.get("name"):
                names.add(str(ref["name"]))
    return names


def _containers(deployment: Obj) -> list[Obj]:
    pod_spec = field(field(spec(deployment), "template"), "spec")
    containers: list[Obj] = pod_spec.get("containers") or []
    return containers


def _postgres_container(deployment: Obj) -> Obj:
    containers = _containers(deployment)
    named = [c for c in containers if "postgres" in str(c.get("image", "")).split("/")[-1]]
    return (named or containers or [{}])[0]


def credentials(
    deployment: Obj, config_maps: Mapping[str, Obj], secrets: Mapping[str, Obj]
) -> Credentials:
    """What the official image's entrypoint initialised the database with: POSTGRES_USER
    (default ``postgres``), POSTGRES_PASSWORD and POSTGRES_DB (default: the user)."""
    values: dict[str, str] = {}
    for env in _postgres_container(deployment).get("env") or []:
        name = str(env.get("name", ""))
        if name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
            value = _env_value(env, config_maps, secrets)
            if value is not None:
                values[name] = value
    user = values.get("POSTGRES_USER") or "postgres"
    if not values.get("POSTGRES_PASSWORD"):
        raise ClusterRefusedError(
            f"cannot tell the password run.sh's postgres was initialised with: Deployment "
            f"{DATABASE} has no readable POSTGRES_PASSWORD; nothing was changed",
            hint="put the password back into that Deployment's POSTGRES_PASSWORD (value, "
            "configMapKeyRef or secretKeyRef) and run again",
        )
    return Credentials(user, values["POSTGRES_PASSWORD"], values.get("POSTGRES_DB") or user)


def secret_values(creds: Credentials) -> dict[str, dict[str, str]]:
    """The generated Secrets' values that let our services log in to the old database.

    The old database has none of the per-service roles our init SQL creates (it was not run:
    the data directory already held a database), so every service logs in as run.sh's user,
    as the old services did.  The administrator and the token key keep random values.
    """
    login = {"username": creds.user, "password": creds.password}
    return {
        "postgres-superuser": dict(login),
        "auth-db": dict(login),
        "pyxis-db": dict(login),
        "request-management-db": dict(login),
    }


def read_credentials(kubectl: Kubectl, namespace: str, deployment: Obj) -> Credentials:
    """``credentials``, after reading the ConfigMaps and Secrets the env refers to."""
    found: dict[str, dict[str, Obj]] = {"ConfigMap": {}, "Secret": {}}
    for kind, resource in (("ConfigMap", "configmaps"), ("Secret", "secrets")):
        names = sorted(referenced(deployment, kind))
        if names:
            for obj in kubectl.get_items(
                ["get", *(f"{resource}/{n}" for n in names), "-n", namespace, "--ignore-not-found"]
            ):
                found[kind][name_of(obj)] = obj
    return credentials(deployment, found["ConfigMap"], found["Secret"])


_MAJOR = re.compile(r"^(\d+)")


def image_major(image: str) -> int | None:
    """The PostgreSQL major version an image tag names (``postgres:16.4`` → 16), if any."""
    reference = image.split("@", 1)[0]
    last = reference.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    match = _MAJOR.match(tag)
    return int(match.group(1)) if match else None


def database_image(deployment: Obj) -> str:
    return str(_postgres_container(deployment).get("image", ""))


def pgdata(deployment: Obj) -> tuple[str, str]:
    """run.sh's PGDATA and the mount path of its claimed volume (the data's root there)."""
    container = _postgres_container(deployment)
    value = next(
        (
            str(e["value"])
            for e in container.get("env") or []
            if e.get("name") == "PGDATA" and e.get("value")
        ),
        DEFAULT_PGDATA,
    )
    volumes = field(field(spec(deployment), "template"), "spec").get("volumes") or []
    claimed = {v.get("name") for v in volumes if v.get("persistentVolumeClaim")}
    mount = next(
        (
            str(m.get("mountPath", "")).rstrip("/")
            for m in container.get("volumeMounts") or []
            if m.get("name") in claimed
        ),
        DEFAULT_PGDATA,
    )
    return value, mount
