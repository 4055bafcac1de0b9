"""The database init scripts, run for real: PostgreSQL 17.6 started the way the postgres pod is.

What a service, an operator or the first administrator would notice on a fresh cluster: each
service's role logs in over TCP with the password run.py generated, works in its own schema
and nowhere else, the administrator's bcrypt hash verifies, a restart or a second run of the
scripts changes nothing, and a bad Secret file stops the initialisation naming that file.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.payload.postgres_pod import SUPERUSER, Cluster, InitError, PostgresPod
from tests.payload.servers import free_port, manifest_objects, version_line

ROLES_SCRIPT = "20-asky-roles.sql"
SCHEMA_SCRIPT = "10-asky-schema.sql"
# One table of each service schema and a row a service would write there (unqualified: the
# role's search_path must find it). The first column is the one the probe updates.
WRITE_PROBES = {
    "auth": ("users", ("username", "password_hash", "role"), ("'probe'", "'x'", "'nurse'")),
    "pyxis": ("dispensers", ("name", "location"), ("'probe'", "'ward 3'")),
    "requests": ("requests", ("requested_by", "dispenser_id"), ("'probe'", "1")),
}
PUBLIC_PROBE = "public.asky_payload_probe"
ALREADY_EXISTS = re.compile(r": NOTICE:  .* already exists, skipping$")


@dataclass(frozen=True)
class Service:
    """A backend as its Deployment connects: database, schema and the Secret of its login."""

    deployment: str
    secret: str
    schema: str
    database: str


def services(objects: dict[tuple[str, str], dict[str, Any]]) -> list[Service]:
    found = []
    for (kind, name), doc in sorted(objects.items()):
        if kind != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        env = {e["name"]: e.get("value") for c in spec["containers"] for e in c.get("env", [])}
        if "DATABASE_SCHEMA" not in env:
            continue
        secret = next(
            source["secret"]["name"]
            for volume in spec["volumes"]
            for source in volume.get("projected", {}).get("sources", [])
            if "database/password" in {i["path"] for i in source.get("secret", {}).get("items", [])}
        )
        found.append(Service(name, secret, env["DATABASE_SCHEMA"], env["DATABASE_NAME"]))
    return found


SERVICES = services(manifest_objects())


def login(cluster: Cluster, service: Service) -> tuple[str, str]:
    values = cluster.secrets[service.secret]
    return values["username"], values["password"]


def as_service(
    cluster: Cluster, service: Service, text: str, **variables: str
) -> subprocess.CompletedProcess[str]:
    user, password = login(cluster, service)
    return cluster.sql(
        text, user=user, password=password, database=service.database, variables=variables
    )


def isolation_problems(cluster: Cluster, service: Service) -> list[str]:
    """Every place outside its own schema where the service's role got in."""
    user, _ = login(cluster, service)
    problems = []
    for other in SERVICES:
        if other.schema == service.schema:
            continue
        table = f"{other.schema}.{WRITE_PROBES[other.schema][0]}"
        for attempt in (f"SELECT 1 FROM {table} LIMIT 1;", f"CREATE TABLE {other.schema}.p ();"):
            result = as_service(cluster, service, attempt)
            if f"permission denied for schema {other.schema}" not in result.stderr:
                problems.append(f"{user}: {attempt} -> {result.returncode} {result.stderr}")
    for attempt in (f"SELECT 1 FROM {PUBLIC_PROBE};", "CREATE TABLE public.p ();"):
        result = as_service(cluster, service, attempt)
        if "permission denied for schema public" not in result.stderr:
            problems.append(f"{user}: {attempt} -> {result.returncode} {result.stderr}")
    return problems


@pytest.fixture(scope="module")
def public_probe(cluster: Cluster) -> Cluster:
    """A table in public that everybody may read: only schema usage can keep services out."""
    cluster.superuser_sql(
        f"CREATE TABLE IF NOT EXISTS {PUBLIC_PROBE} (id int); "
        f"GRANT SELECT ON {PUBLIC_PROBE} TO PUBLIC;"
    )
    return cluster


SNAPSHOT = """
SELECT 'role', rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
       rolreplication, rolbypassrls, CASE WHEN :verifiers THEN rolpassword END,
       (SELECT array_agg(setconfig) FROM pg_db_role_setting WHERE setrole = a.oid)
  FROM pg_authid a WHERE rolname !~ '^pg_' ORDER BY rolname;
SELECT 'database', datname, datacl FROM pg_database ORDER BY datname;
SELECT 'schema', nspname, nspowner::regrole, nspacl FROM pg_namespace
 WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' ORDER BY nspname;
SELECT 'relation', c.oid::regclass::text, c.relkind, c.relowner::regrole, c.relacl
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('auth', 'pyxis', 'requests', 'public') ORDER BY 2;
SELECT 'column', attrelid::regclass::text, attname, format_type(atttypid, atttypmod), attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname IN ('auth', 'pyxis', 'requests') AND a.attnum > 0 ORDER BY 2, 3;
SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace::regnamespace::text IN ('auth', 'pyxis', 'requests')
 ORDER BY 2, 3;
SELECT 'default acl', defaclrole::regrole, defaclnamespace::regnamespace, defaclobjtype,
       defaclacl FROM pg_default_acl ORDER BY 2, 3, 4;
SELECT 'extension', extname, extnamespace::regnamespace, extversion FROM pg_extension
 ORDER BY 2;
SELECT 'function', p.oid::regprocedure::text, p.proacl FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname IN ('auth', 'pyxis', 'requests', 'public') ORDER BY 2;
SELECT 'user', id, username, password_hash, role, active, created_at FROM auth.users ORDER BY id;
"""


def snapshot(cluster: Cluster, *, verifiers: bool) -> str:
    """What the database holds that the scripts set: roles, privileges, objects, users."""
    text = SNAPSHOT.replace(":verifiers", "true" if verifiers else "false")
    return cluster.superuser_sql(text)


def logins_that_fail(cluster: Cluster) -> list[str]:
    failed = []
    for service in SERVICES:
        result = as_service(cluster, service, "SELECT current_user;")
        if result.returncode != 0:
            failed.append(f"{service.deployment}: {result.stderr}")
    return failed


# -- the server is the image's ---------------------------------------------------------------


def test_the_server_is_the_major_version_of_the_image(
    pg_bin: Any, postgres_pod: PostgresPod
) -> None:
    version = version_line(pg_bin / "postgres")
    match = re.search(r"PostgreSQL\) (\d+)\.", version)

    assert match, version
    assert int(match.group(1)) == postgres_pod.major_version, (version, postgres_pod.image)


def test_every_backend_deployment_has_a_role_to_test() -> None:
    assert {s.deployment for s in SERVICES} == {"auth", "pyxis", "request-management"}


# -- services --------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.deployment)
def test_service_logs_in_over_tcp_with_its_generated_password(
    cluster: Cluster, service: Service
) -> None:
    user, password = login(cluster, service)

    good = as_service(cluster, service, "SELECT current_user, current_setting('search_path');")
    wrong = cluster.sql("SELECT 1;", user=user, password=password + "x", database=service.database)

    assert (good.returncode, good.stdout, good.stderr) == (0, f"{user}|{service.schema}\n", "")
    assert wrong.returncode != 0
    assert f'password authentication failed for user "{user}"' in wrong.stderr


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.deployment)
def test_service_creates_reads_updates_and_deletes_rows_in_its_schema(
    cluster: Cluster, service: Service
) -> None:
    table, columns, values = WRITE_PROBES[service.schema]
    key = columns[0]
    script = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(values)});\n"
        f"UPDATE {table} SET {key} = 'probe-updated' WHERE {key} = 'probe';\n"
        f"SELECT {key} FROM {table} WHERE {key} = 'probe-updated';\n"
        f"DELETE FROM {table} WHERE {key} = 'probe-updated';\n"
        f"SELECT count(*) FROM {table} WHERE {key} LIKE 'probe%';\n"
    )

    result = as_service(cluster, service, script)

    assert (result.returncode, result.stdout, result.stderr) == (0, "probe-updated\n0\n", "")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.deployment)
def test_service_may_not_change_the_structure_of_its_own_schema(
    cluster: Cluster, service: Service
) -> None:
    table = WRITE_PROBES[service.schema][0]
    for attempt in (f"CREATE TABLE {service.schema}.p ();", f"DROP TABLE {table};"):
        result = as_service(cluster, service, attempt)

        assert result.returncode != 0, attempt
        assert "permission denied" in result.stderr or "must be owner" in result.stderr


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.deployment)
def test_service_is_refused_in_the_other_schemas_and_in_public(
    public_probe: Cluster, service: Service
) -> None:
    assert isolation_problems(public_probe, service) == []


def test_a_role_not_granted_the_database_cannot_connect(cluster: Cluster) -> None:
    cluster.superuser_sql("CREATE ROLE asky_payload_stranger LOGIN PASSWORD 'stranger-pw';")

    result = cluster.sql("SELECT 1;", user="asky_payload_stranger", password="stranger-pw")

    assert result.returncode != 0
    assert f'permission denied for database "{cluster.pod.database}"' in result.stderr


def test_first_administrator_verifies_with_pgcrypto_bcrypt(cluster: Cluster) -> None:
    auth = next(s for s in SERVICES if s.schema == "auth")
    admin = cluster.secrets["app-admin"]

    result = as_service(
        cluster,
        auth,
        "SELECT role, active, password_hash LIKE '$2a$12$%',"
        " crypt(:'pw', password_hash) = password_hash,"
        " crypt(:'pw' || 'x', password_hash) = password_hash"
        " FROM users WHERE username = :'name';",
        pw=admin["password"],
        name=admin["username"],
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "admin|t|t|t|f\n", "")


def test_superuser_logs_in_over_tcp_with_its_generated_password(cluster: Cluster) -> None:
    password = cluster.secrets["postgres-superuser"]["password"]

    result = cluster.sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user;",
                         user=SUPERUSER, password=password)  # fmt: skip

    assert (result.returncode, result.stdout) == (0, "t\n"), result.stderr


# -- running again ---------------------------------------------------------------------------


def test_running_the_init_files_again_changes_nothing_and_fails_nothing(cluster: Cluster) -> None:
    before = snapshot(cluster, verifiers=False)

    runs = cluster.rerun_init_files()

    assert [r.returncode for r in runs] == [0] * len(runs)
    # What psql says is only the IF NOT EXISTS notices: no error, no warning.
    said = [line for r in runs for line in r.stderr.splitlines()]
    assert [line for line in said if not ALREADY_EXISTS.search(line)] == []
    assert snapshot(cluster, verifiers=False) == before
    assert logins_that_fail(cluster) == []


def test_a_restart_on_existing_data_skips_init_and_changes_nothing(cluster: Cluster) -> None:
    before = snapshot(cluster, verifiers=True)
    port = cluster.port
    assert port is not None
    cluster.stop()

    printed = cluster.entrypoint()
    cluster.start(port)

    assert "Skipping" in printed
    assert snapshot(cluster, verifiers=True) == before
    assert logins_that_fail(cluster) == []


# -- bad Secret files ------------------------------------------------------------------------


def credential(pod: PostgresPod, secret: str, key: str) -> str:
    return next(path for path, ref in pod.credential_files.items() if ref == (secret, key))


@pytest.mark.parametrize(
    ("case", "content", "reason"),
    [
        ("missing", None, "No such file or directory"),
        ("empty", "", "is empty"),
        ("only a newline", "\n", "is empty"),
        ("unreadable by the server", "secret", "Permission denied"),
    ],
)
def test_a_bad_secret_file_stops_the_init_naming_the_file(
    new_cluster: Callable[[], Cluster],
    postgres_pod: PostgresPod,
    case: str,
    content: str | None,
    reason: str,
) -> None:
    cluster = new_cluster()
    relative = credential(postgres_pod, "pyxis-db", "password")
    cluster.project_credentials({relative: content})
    if case == "unreadable by the server":
        (cluster.credentials / relative).chmod(0o400)  # owner root: the defaultMode gone wrong

    with pytest.raises(InitError) as failure:
        cluster.entrypoint()

    message = str(failure.value)
    assert f"{postgres_pod.credentials_mount}/{relative}" in message
    assert reason in message
    assert ROLES_SCRIPT in message


@pytest.mark.xfail(
    strict=True,
    reason="known gap: the image's entrypoint skips initialisation whenever PG_VERSION exists, "
    "so a start after a failed init serves a database without (some of) the service roles; "
    "only the postgres Deployment's probes could catch it, none does yet",
)
def test_a_start_after_a_failed_init_does_not_serve_a_database_missing_roles(
    new_cluster: Callable[[], Cluster], postgres_pod: PostgresPod
) -> None:
    cluster = new_cluster()
    cluster.project_credentials({credential(postgres_pod, "pyxis-db", "password"): None})
    with pytest.raises(InitError):
        cluster.entrypoint()
    cluster.project_credentials()  # the Secret put right, the pod restarted

    printed = cluster.entrypoint()
    cluster.start(free_port())

    assert "Skipping" not in printed and logins_that_fail(cluster) == []


# -- each check can fail ---------------------------------------------------------------------


def test_a_broken_statement_stops_the_init_naming_file_and_statement(
    new_cluster: Callable[[], Cluster], postgres_pod: PostgresPod
) -> None:
    cluster = new_cluster()
    scripts = dict(postgres_pod.init_scripts)
    scripts[SCHEMA_SCRIPT] = scripts[SCHEMA_SCRIPT].replace(
        "CREATE SCHEMA IF NOT EXISTS requests;",
        "CREATE SCHEMA IF NOT EXISTS requests;\n"
        "CREATE TABLE pyxis.broken (id bigint REFERENCES pyxis.nowhere (id));",
    )
    cluster.mount_init_scripts(scripts)

    with pytest.raises(InitError) as failure:
        cluster.entrypoint()

    message = str(failure.value)
    assert f"{SCHEMA_SCRIPT}:" in message
    assert 'relation "pyxis.nowhere" does not exist' in message
    assert ROLES_SCRIPT not in message  # ON_ERROR_STOP: nothing ran after it


def test_the_isolation_check_catches_a_role_let_into_another_schema(
    new_cluster: Callable[[], Cluster], postgres_pod: PostgresPod
) -> None:
    cluster = new_cluster()
    scripts = dict(postgres_pod.init_scripts)
    pyxis_role = cluster.secrets["pyxis-db"]["username"]
    scripts[ROLES_SCRIPT] += (
        f"GRANT USAGE ON SCHEMA auth TO {pyxis_role};\n"
        f"GRANT SELECT ON ALL TABLES IN SCHEMA auth TO {pyxis_role};\n"
    )
    cluster.mount_init_scripts(scripts)
    cluster.entrypoint()
    cluster.start(free_port())
    cluster.superuser_sql(f"CREATE TABLE {PUBLIC_PROBE} (id int);")
    pyxis = next(s for s in SERVICES if s.schema == "pyxis")

    problems = isolation_problems(cluster, pyxis)

    assert len(problems) == 1
    assert "SELECT 1 FROM auth.users" in problems[0]
