"""The gateway's nginx.conf, run for real: nginx in front of stub backends, asked over HTTP.

What a user of the hospital's single entry point would notice: the probes' /healthz answers,
each path prefix reaches its own service without the prefix, the backends learn who asked,
an unknown path is refused, and a backend that is down gives a quick error, not a hang.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.payload.conftest import ROUTES
from tests.payload.gateway import Gateway, GatewayError, Stub
from tests.payload.servers import version_line

# Paths below each prefix, with a query string that must arrive intact.
SUBPATHS = ["", "dispensers/7", "a/b/c?ward=3&q=x%20y"]
NODE_PORT_HOST = "192.168.49.2:31234"  # how a user reaches the gateway through its NodePort


def misrouted(gateway: Gateway) -> list[str]:
    """Each request under a service prefix that did not reach that service as promised."""
    wrong = []
    for prefix, service in ROUTES.items():
        for subpath in SUBPATHS:
            response = gateway.request("GET", prefix + subpath)
            got = (response.status, response.echo.get("service"), response.echo.get("path"))
            if got != (200, service, "/" + subpath):
                wrong.append(f"{prefix + subpath}: {got}, expected {service} /{subpath}")
    return wrong


def test_nginx_runs_the_configmap_file_with_only_the_announced_rewrites(
    gateway: Gateway, nginx: Path, service_addresses: dict[str, str]
) -> None:
    diff = list(difflib.ndiff(gateway.source.splitlines(), gateway.config.splitlines()))
    removed = [line[2:] for line in diff if line.startswith("- ")]
    added = [line[2:] for line in diff if line.startswith("+ ")]
    announced = ("/tmp/", "listen 8080;", *(f" {a};" for a in service_addresses.values()))

    assert "nginx/" in version_line(nginx, "-v")
    assert len(removed) == len(added) >= len(announced)
    assert [line for line in removed if not any(a in line for a in announced)] == []
    assert [
        line for line in added if "127.0.0.1:" not in line and str(gateway.workdir) not in line
    ] == []


def test_healthz_answers_ok_without_asking_any_backend(gateway: Gateway) -> None:
    response = gateway.request("GET", "/healthz")

    assert (response.status, response.body) == (200, b"ok\n")
    assert response.headers["content-type"] == "text/plain"
    assert response.echo == {}


@pytest.mark.parametrize("prefix", sorted(ROUTES))
def test_each_prefix_reaches_its_service_without_the_prefix(gateway: Gateway, prefix: str) -> None:
    problems = [p for p in misrouted(gateway) if p.startswith(prefix)]

    assert problems == []


@pytest.mark.parametrize("prefix", sorted(ROUTES))
def test_a_write_reaches_its_service_with_method_and_body(gateway: Gateway, prefix: str) -> None:
    response = gateway.request(
        "POST",
        prefix + "items",
        body='{"quantity": 2}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 200
    assert {k: response.echo[k] for k in ("service", "method", "path", "body")} == {
        "service": ROUTES[prefix],
        "method": "POST",
        "path": "/items",
        "body": '{"quantity": 2}',
    }


@pytest.mark.parametrize("prefix", sorted(ROUTES))
def test_the_prefix_without_its_slash_redirects_to_a_url_that_works_behind_the_node_port(
    gateway: Gateway, prefix: str
) -> None:
    response = gateway.request("GET", prefix.rstrip("/"), headers={"Host": NODE_PORT_HOST})

    assert response.status == 301
    # Relative, or absolute with the address the user typed: never the pod's own port 8080.
    assert response.headers["location"] in {prefix, f"http://{NODE_PORT_HOST}{prefix}"}


def test_backends_learn_who_asked_and_how(gateway: Gateway) -> None:
    response = gateway.request(
        "GET",
        "/pyxis/dispensers",
        headers={"Host": "asky.hospital.example", "X-Forwarded-For": "203.0.113.7"},
    )
    headers = response.echo["headers"]

    assert headers["host"] == "asky.hospital.example"
    assert headers["x-real-ip"] == "127.0.0.1"
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"


def test_upstream_connections_are_http11_and_reused(gateway: Gateway) -> None:
    connection = gateway.connection()
    echoes = []
    try:
        for _ in range(2):  # one client connection: one nginx worker, its keepalive pool
            connection.request("GET", "/auth/me")
            response = connection.getresponse()
            echoes.append(json.loads(response.read()))
    finally:
        connection.close()

    assert [e["version"] for e in echoes] == ["HTTP/1.1", "HTTP/1.1"]
    assert all("connection" not in e["headers"] for e in echoes)
    assert echoes[0]["peer_port"] == echoes[1]["peer_port"], (echoes, gateway.log()[-3000:])


def test_a_body_over_the_configured_limit_is_refused_by_the_gateway(gateway: Gateway) -> None:
    too_big = "x" * (10 * 1024 * 1024 + 1)  # client_max_body_size 10m

    refused = gateway.request("POST", "/requests/items", body=too_big, timeout=60)
    accepted = gateway.request("POST", "/requests/items", body=too_big[:-2], timeout=60)

    assert (refused.status, refused.echo) == (413, {})
    assert (accepted.status, len(accepted.echo["body"])) == (200, len(too_big) - 2)


@pytest.mark.parametrize("path", ["/", "/unknown", "/authx/", "/healthz/more", "/pyxisdispensers"])
def test_an_unknown_path_gets_404_from_the_gateway_itself(gateway: Gateway, path: str) -> None:
    response = gateway.request("GET", path)

    assert response.status == 404
    assert response.echo == {}
    assert response.headers["server"] == "nginx"  # server_tokens off: no version shown


def test_a_stopped_backend_gives_502_at_once_and_its_return_is_served(
    gateway: Gateway, stubs: dict[str, Stub]
) -> None:
    stubs["pyxis"].stop()
    try:
        started = time.monotonic()
        down = gateway.request("GET", "/pyxis/dispensers", timeout=15)
        waited = time.monotonic() - started
        others = [gateway.request("GET", p).status for p in ("/auth/", "/requests/")]
    finally:
        stubs["pyxis"].start()  # same port: the gateway's upstream address is unchanged
    back = gateway.request("GET", "/pyxis/dispensers")

    assert down.status == 502, (down.echo, stubs["pyxis"].port, gateway.port)
    assert waited < 15  # the client's timeout: an answer, not a hang
    assert others == [200, 200]
    assert (back.status, back.echo.get("service")) == (200, "pyxis")


# -- each check can fail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mistake", "right", "wrong", "prefix", "seen"),
    [
        ("sent to another upstream", "http://pyxis/;", "http://auth/;", "/pyxis/", "'auth'"),
        ("prefix not stripped", "http://auth/;", "http://auth;", "/auth/", "'/auth/"),
    ],
)
def test_the_routing_check_catches(
    new_gateway: Callable[[str], Gateway],
    gateway_config: str,
    mistake: str,
    right: str,
    wrong: str,
    prefix: str,
    seen: str,
) -> None:
    broken = gateway_config.replace(f"proxy_pass {right}", f"proxy_pass {wrong}")
    assert broken != gateway_config, mistake

    problems = misrouted(new_gateway(broken))

    assert len(problems) == len(SUBPATHS)
    assert all(p.startswith(prefix) and seen in p for p in problems)


def test_nginx_refuses_to_start_on_a_broken_directive_and_says_where(
    new_gateway: Callable[[str], Gateway], gateway_config: str
) -> None:
    broken = gateway_config.replace("proxy_connect_timeout 5s;", "proxy_connect_timeout;")
    assert broken != gateway_config

    with pytest.raises(GatewayError) as failure:
        new_gateway(broken)

    assert 'invalid number of arguments in "proxy_connect_timeout" directive' in str(failure.value)
