"""The closing summary and the generated Secrets, as a user would see or rely on them."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

from asky_scripts.cli.output import JsonReport, TextReport, wants_color
from asky_scripts.deploy.summary import build
from asky_scripts.errors import FailureReport, WorkloadFailedError
from asky_scripts.model.secrets import GENERATED_SECRETS, missing_secrets

RECORDED = Path(__file__).parents[1] / "recorded"


def recorded(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((RECORDED / name).read_text())  # type: ignore[no-any-return]


NODE = {
    "kind": "Node",
    "status": {
        "addresses": [
            {"type": "InternalIP", "address": "192.168.49.2"},
            {"type": "Hostname", "address": "minikube"},
        ]
    },
}


def test_summary_gives_gateway_url_from_node_address_and_node_port() -> None:
    deployment = recorded("deployment-auth-ready.json")
    deployment["metadata"]["name"] = "gateway"
    summary = build("asky", [deployment], [recorded("service-gateway-nodeport.json")], [NODE])
    assert summary.gateway_url == "http://192.168.49.2:30080"
    assert summary.rows[0].ready == "2/2"
    assert summary.rows[0].ports == "80:30080"
    assert summary.minikube_hint == "minikube service gateway -n asky --url"


def test_load_balancer_url_uses_its_ingress_address() -> None:
    svc = recorded("service-gateway-nodeport.json")
    svc["spec"]["type"] = "LoadBalancer"
    svc["status"]["loadBalancer"] = {"ingress": [{"ip": "203.0.113.7"}]}
    assert build("asky", [], [svc], [NODE]).gateway_url == "http://203.0.113.7:80"


def test_missing_secrets_are_random_and_existing_ones_are_kept() -> None:
    first = missing_secrets(set(), "asky")
    second = missing_secrets(set(), "asky")
    assert [s["metadata"]["name"] for s in first] == [g.name for g in GENERATED_SECRETS]
    password = base64.b64decode(first[0]["data"]["password"]).decode()
    assert len(password) >= 40
    assert first[0]["data"]["password"] != second[0]["data"]["password"]
    assert base64.b64decode(first[0]["data"]["username"]).decode() == "postgres"
    kept = missing_secrets({"postgres-superuser", "auth-db"}, "asky")
    assert {s["metadata"]["name"] for s in kept}.isdisjoint({"postgres-superuser", "auth-db"})
    assert first[0]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "asky-scripts"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color() -> None:
    assert wants_color(Tty(), {})
    assert not wants_color(Tty(), {"NO_COLOR": "1"})
    assert not wants_color(io.StringIO(), {})


def failure() -> WorkloadFailedError:
    report = FailureReport(
        subject="Deployment/auth",
        cause='auth: pod auth-1: ImagePullBackOff — image "asky-auth:1.0" not found',
        hint="check the image",
        events=("Failed (x3) on auth-1: Failed to pull image",),
        logs=(("auth-1/auth (previous log)", "boom"),),
    )
    return WorkloadFailedError("stage services failed: auth: ...", "check the image", (report,))


def test_text_failure_report_has_cause_events_logs_and_hint() -> None:
    out, err = io.StringIO(), io.StringIO()
    TextReport(out, err, color=False, live=False, verbosity=0).failure(failure(), "services", 3.0)
    text = err.getvalue()
    assert 'ImagePullBackOff — image "asky-auth:1.0" not found' in text
    assert "Failed (x3) on auth-1" in text
    assert "    | boom" in text
    assert "hint: check the image" in text
    assert "\033[" not in text


def test_json_failure_is_one_parseable_line() -> None:
    out = io.StringIO()
    JsonReport(out, verbosity=0).failure(failure(), "services", 3.0)
    record = json.loads(out.getvalue())
    assert record["exit_code"] == 1
    assert record["reports"][0]["logs"][0]["text"] == "boom"
