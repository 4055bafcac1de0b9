"""Gate: the gateway's nginx.conf parses strictly and routes to Services that exist.

nginx refuses to start on an unknown directive or an unresolvable upstream, and as a non-root
process on a read-only root filesystem it can write only to /tmp: each of those mistakes would
take the hospital's single entry point down, and none of them is visible in the YAML.
"""

from __future__ import annotations

from typing import Any

import crossplane
import pytest

GATEWAY_CONFIG_MAP = "gateway-config"
ROUTES = {"/auth/": "auth", "/pyxis/": "pyxis", "/requests/": "request-management"}
FORWARDED_HEADERS = {"Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"}
TEMP_PATH_DIRECTIVES = {
    "client_body_temp_path",
    "proxy_temp_path",
    "fastcgi_temp_path",
    "uwsgi_temp_path",
    "scgi_temp_path",
}

Directive = dict[str, Any]


@pytest.fixture(scope="module")
def nginx_conf(
    objects: dict[tuple[str, str], dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> list[Directive]:
    """The parsed nginx.conf; crossplane parses files only, so it gets a copy on disk."""
    path = tmp_path_factory.mktemp("gateway") / "nginx.conf"
    path.write_text(objects[("ConfigMap", GATEWAY_CONFIG_MAP)]["data"]["nginx.conf"], "utf-8")
    payload = crossplane.parse(str(path), strict=True, single=True, catch_errors=False)
    assert payload["status"] == "ok", payload["errors"]
    parsed: list[Directive] = payload["config"][0]["parsed"]
    return parsed


def find(block: list[Directive], name: str) -> list[Directive]:
    return [directive for directive in block if directive["directive"] == name]


def only(block: list[Directive], name: str) -> Directive:
    matches = find(block, name)
    assert len(matches) == 1, f"expected one {name!r}, found {len(matches)}"
    return matches[0]


def walk(block: list[Directive]) -> list[Directive]:
    return [d for directive in block for d in (directive, *walk(directive.get("block", [])))]


@pytest.fixture(scope="module")
def http(nginx_conf: list[Directive]) -> list[Directive]:
    block: list[Directive] = only(nginx_conf, "http")["block"]
    return block


@pytest.fixture(scope="module")
def server(http: list[Directive]) -> list[Directive]:
    block: list[Directive] = only(http, "server")["block"]
    return block


def locations(server: list[Directive]) -> dict[str, list[Directive]]:
    return {" ".join(d["args"]): d["block"] for d in find(server, "location")}


def test_nginx_conf_parses_strictly(nginx_conf: list[Directive]) -> None:
    assert find(nginx_conf, "http")


def test_gateway_listens_on_the_port_its_pod_and_service_use(
    server: list[Directive],
    containers: dict[str, dict[str, Any]],
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    container_ports = {p["containerPort"] for p in containers["gateway/gateway"]["ports"]}
    service_targets = {p["targetPort"] for p in objects[("Service", "gateway")]["spec"]["ports"]}

    assert [d["args"] for d in find(server, "listen")] == [["8080"]]
    assert container_ports == service_targets == {8080}


def test_every_writable_path_is_under_tmp_which_is_an_emptydir(
    nginx_conf: list[Directive], http: list[Directive], pod_specs: dict[str, dict[str, Any]]
) -> None:
    spec = pod_specs["gateway"]
    empty_dirs = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
    tmp_mounts = [
        mount
        for mount in spec["containers"][0]["volumeMounts"]
        if mount["mountPath"] == "/tmp" and mount["name"] in empty_dirs
    ]
    written = [only(nginx_conf, "pid")["args"][0]]
    written += [only(http, name)["args"][0] for name in sorted(TEMP_PATH_DIRECTIVES)]

    assert tmp_mounts
    assert [path for path in written if not path.startswith("/tmp/")] == []


def test_healthz_answers_200_and_is_what_the_probes_ask(
    server: list[Directive], containers: dict[str, dict[str, Any]]
) -> None:
    healthz = locations(server)["= /healthz"]
    gateway = containers["gateway/gateway"]
    probe_paths = {gateway[p]["httpGet"]["path"] for p in ("readinessProbe", "livenessProbe")}

    assert only(healthz, "return")["args"][0] == "200"
    assert probe_paths == {"/healthz"}


def test_each_service_path_proxies_to_its_backend_service_port(
    http: list[Directive],
    server: list[Directive],
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    upstreams = {
        d["args"][0]: [s["args"][0] for s in find(d["block"], "server")]
        for d in find(http, "upstream")
    }
    routed = {}
    for path, block in locations(server).items():
        target = only(block, "proxy_pass")["args"][0] if find(block, "proxy_pass") else None
        if target is None:
            continue
        host = target.removeprefix("http://").split("/", 1)[0]
        routed[path] = upstreams.get(host, [host])
    expected = {
        path: [f"{service}:{objects[('Service', service)]['spec']['ports'][0]['port']}"]
        for path, service in ROUTES.items()
    }

    assert routed == expected


def test_forwarded_headers_reach_every_backend(server: list[Directive]) -> None:
    set_headers = {d["args"][0] for d in find(server, "proxy_set_header")}
    # A location with its own proxy_set_header would silently drop every inherited one.
    overriding = [
        path
        for path, block in locations(server).items()
        if any(d["directive"] == "proxy_set_header" for d in walk(block))
    ]

    assert set_headers >= FORWARDED_HEADERS
    assert overriding == []


def test_gateway_mounts_the_config_over_the_image_nginx_conf(
    pod_specs: dict[str, dict[str, Any]],
) -> None:
    spec = pod_specs["gateway"]
    config_volumes = {v["name"]: v["configMap"] for v in spec["volumes"] if "configMap" in v}
    mounts = [m for m in spec["containers"][0]["volumeMounts"] if m["name"] in config_volumes]

    assert [(m["mountPath"], m.get("subPath")) for m in mounts] == [
        ("/etc/nginx/nginx.conf", "nginx.conf")
    ]
    assert config_volumes[mounts[0]["name"]]["name"] == GATEWAY_CONFIG_MAP
