"""Gate: the database init scripts parse with PostgreSQL's own parser and keep their promises.

The scripts run exactly once, on the first start of an empty database, where a syntax error
leaves a crash-looping pod behind; and whatever credentials they read must be Secrets that
run.py generates and that the postgres pod mounts where the scripts look.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Any

import pglast
import pytest
from pglast import ast

INIT_CONFIG_MAP = "postgres-init"
SECRETS_ROOT = "/run/secrets/asky"
SERVICE_SCHEMAS = {"auth", "pyxis", "requests"}
REQUIRED_TABLES = {
    ("auth", "users"),
    ("pyxis", "dispensers"),
    ("pyxis", "medicines"),
    ("pyxis", "materials"),
    ("pyxis", "assistance"),
    ("pyxis", "dispenser_medicines"),
    ("pyxis", "dispenser_materials"),
    ("pyxis", "assistance_medicines"),
    ("pyxis", "assistance_materials"),
    ("requests", "requests"),
}
# Calls to the init script's helpers with literal arguments: (helper, secret, second argument).
HELPER_CALL = re.compile(r"pg_temp\.(asky_secret|asky_service_role)\('([^']+)',\s*'([^']+)'\)")
# A service role is made from its Secret's username and password (see asky_service_role).
SERVICE_ROLE_KEYS = ("username", "password")


@pytest.fixture(scope="module")
def init_scripts(objects: dict[tuple[str, str], dict[str, Any]]) -> dict[str, str]:
    data: dict[str, str] = objects[("ConfigMap", INIT_CONFIG_MAP)]["data"]
    scripts = {key: text for key, text in data.items() if key.endswith(".sql")}
    assert scripts, f"ConfigMap {INIT_CONFIG_MAP} holds no .sql script"
    return scripts


@pytest.fixture(scope="module")
def statements(init_scripts: dict[str, str]) -> list[ast.Node]:
    return [
        raw.stmt
        for text in init_scripts.values()
        for raw in pglast.parse_sql(text)
        if raw.stmt is not None
    ]


def test_every_init_script_parses_including_plpgsql_bodies(init_scripts: dict[str, str]) -> None:
    for name, text in init_scripts.items():
        assert pglast.parse_sql(text), f"{name} holds no statement"
        pglast.parse_plpgsql(text)  # raises on a syntax error inside DO or function bodies


def test_every_create_statement_is_idempotent(statements: list[ast.Node]) -> None:
    idempotent_kinds = (
        ast.CreateSchemaStmt,
        ast.CreateStmt,
        ast.IndexStmt,
        ast.CreateExtensionStmt,
    )
    not_idempotent = [
        type(stmt).__name__
        for stmt in statements
        if isinstance(stmt, idempotent_kinds) and not stmt.if_not_exists
    ]
    function_names = [
        [name.sval for name in stmt.funcname or ()]
        for stmt in statements
        if isinstance(stmt, ast.CreateFunctionStmt)
    ]
    persistent_functions = [names for names in function_names if names[0] != "pg_temp"]

    assert not_idempotent == []
    assert persistent_functions == []  # only session-local helpers: nothing to collide with


def test_init_creates_the_service_schemas_and_tables(statements: list[ast.Node]) -> None:
    schemas = {stmt.schemaname for stmt in statements if isinstance(stmt, ast.CreateSchemaStmt)}
    relations = [stmt.relation for stmt in statements if isinstance(stmt, ast.CreateStmt)]
    tables = {(rel.schemaname, rel.relname) for rel in relations if rel is not None}

    assert schemas == SERVICE_SCHEMAS
    assert tables >= REQUIRED_TABLES
    assert {schema for schema, _ in tables} <= SERVICE_SCHEMAS


def test_init_sql_contains_no_credential(init_scripts: dict[str, str]) -> None:
    for name, text in init_scripts.items():
        assert not re.search(r"\$2[abxy]?\$\d\d\$", text), f"{name} holds a bcrypt hash"
        assert not re.search(r"PASSWORD\s+'", text, re.IGNORECASE), f"{name} holds a password"
        assert not re.search(r"SCRAM-SHA-256\$|md5[0-9a-f]{32}", text), f"{name} holds a hash"


def secret_files_read(init_scripts: dict[str, str]) -> set[tuple[str, str]]:
    """(secret, key) of every Secret file the init scripts read."""
    files: set[tuple[str, str]] = set()
    for text in init_scripts.values():
        for helper, secret, argument in HELPER_CALL.findall(text):
            keys = SERVICE_ROLE_KEYS if helper == "asky_service_role" else (argument,)
            files.update((secret, key) for key in keys)
    return files


def test_init_reads_only_generated_secrets(
    init_scripts: dict[str, str], generated_secret_keys: dict[str, frozenset[str]]
) -> None:
    read = secret_files_read(init_scripts)
    unknown = {(s, k) for s, k in read if k not in generated_secret_keys.get(s, frozenset())}
    service_roles = {s for s in generated_secret_keys if s.endswith("-db")}

    assert read, "the init scripts read no Secret: where do the credentials come from?"
    assert unknown == set()
    assert {(s, k) for s in service_roles for k in SERVICE_ROLE_KEYS} <= read


def test_postgres_pod_mounts_every_secret_file_where_the_init_scripts_read_it(
    init_scripts: dict[str, str], pod_specs: dict[str, dict[str, Any]]
) -> None:
    spec = pod_specs["postgres"]
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    provided = {
        str(PurePosixPath(mounts[volume["name"]]) / item["path"])
        for volume in spec["volumes"]
        if volume["name"] in mounts
        for source in volume.get("projected", {}).get("sources", [])
        for item in source.get("secret", {}).get("items", [])
    }
    expected = {f"{SECRETS_ROOT}/{secret}/{key}" for secret, key in secret_files_read(init_scripts)}

    assert all(
        f"'{SECRETS_ROOT}/%s/%s'" in text
        for text in init_scripts.values()
        if "pg_read_file" in text
    )
    assert expected - provided == set()


def test_each_service_role_gets_the_schema_its_deployment_uses(
    init_scripts: dict[str, str], pod_specs: dict[str, dict[str, Any]]
) -> None:
    role_schemas = {
        secret: schema
        for text in init_scripts.values()
        for helper, secret, schema in HELPER_CALL.findall(text)
        if helper == "asky_service_role"
    }
    deployment_schemas = {}
    for spec in pod_specs.values():
        env = {e["name"]: e.get("value") for c in spec["containers"] for e in c.get("env", [])}
        if "DATABASE_SCHEMA" not in env:
            continue
        for volume in spec["volumes"]:
            for source in volume.get("projected", {}).get("sources", []):
                paths = {item["path"] for item in source.get("secret", {}).get("items", [])}
                if "database/password" in paths:
                    deployment_schemas[source["secret"]["name"]] = env["DATABASE_SCHEMA"]

    assert deployment_schemas == role_schemas
