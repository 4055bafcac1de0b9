"""Discovery fidelity: every resource kubesim serves is described exactly as a real
kube-apiserver describes it (the recorded documents in ``shared/k8s-api``), in both the legacy
per-group-version form and the aggregated ``apidiscovery.k8s.io/v2`` form kubectl asks first.

kubectl resolves short names, categories (``kubectl get all``), scope and verbs from these
documents, so a difference here is a difference in what the user's command does.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kubesim import KubeSim
from kubesim.discovery import AGGREGATED_CONTENT_TYPE
from kubesim.resources import RESOURCES

JSON = dict[str, Any]
REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("KUBESIM_SHARED") or REPO.parent / "shared")
RECORDED = SHARED / "k8s-api"

pytestmark = pytest.mark.skipif(
    not (RECORDED / "aggregated_v2.json").exists(),
    reason=f"real discovery documents not found at {RECORDED} (set KUBESIM_SHARED)",
)


# Subresources a real apiserver lists that kubesim does not serve (kubectl exec, attach,
# port-forward, proxy, eviction, token requests are outside our flows).  Listing them would
# send kubectl to endpoints that answer 404; leaving them out is the visible difference.
UNSERVED_SUBRESOURCES = {
    "nodes/proxy",
    "pods/attach",
    "pods/binding",
    "pods/ephemeralcontainers",
    "pods/eviction",
    "pods/exec",
    "pods/portforward",
    "pods/proxy",
    "pods/resize",
    "serviceaccounts/token",
    "services/proxy",
}


def recorded(name: str) -> JSON:
    loaded: JSON = json.loads((RECORDED / name).read_text())
    return loaded


def served(sim: KubeSim, path: str, accept: str = "application/json") -> tuple[str, JSON]:
    request = urllib.request.Request(sim.url + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return answer.headers["Content-Type"], json.loads(answer.read())


def legacy_file(group: str, version: str) -> str:
    return f"apis__{group}__{version}.json" if group else "api__v1.json"


def by_key(entries: list[JSON], key: str) -> dict[str, JSON]:
    return {entry[key]: entry for entry in entries}


def assert_same_order(ours: list[str], real: list[str]) -> None:
    """Ours must list its entries in the real document's order (a subsequence of it)."""
    assert ours == [name for name in real if name in set(ours)]


def aggregated_from_legacy(listing: JSON) -> list[JSON]:
    """The aggregated entries an APIResourceList corresponds to (the apiserver builds both from
    the same handlers); checked against the real apps/v1 pair before it is trusted for core."""
    main = [r for r in listing["resources"] if "/" not in r["name"]]
    entries = []
    for resource in main:
        entry: JSON = {
            "resource": resource["name"],
            "responseKind": {"group": "", "version": "", "kind": resource["kind"]},
            "scope": "Namespaced" if resource["namespaced"] else "Cluster",
            "singularResource": resource["singularName"],
            "verbs": resource["verbs"],
        }
        for optional in ("shortNames", "categories"):
            if optional in resource:
                entry[optional] = resource[optional]
        subresources = [
            {
                "subresource": sub["name"].split("/", 1)[1],
                "responseKind": {
                    "group": sub.get("group", ""),
                    "version": sub.get("version", ""),
                    "kind": sub["kind"],
                },
                "verbs": sub["verbs"],
            }
            for sub in listing["resources"]
            if sub["name"].startswith(resource["name"] + "/")
        ]
        if subresources:
            entry["subresources"] = subresources
        entries.append(entry)
    return entries


def test_the_legacy_to_aggregated_translation_holds_for_real_documents() -> None:
    real = aggregated_from_legacy(recorded("apis__apps__v1.json"))
    assert real == real_aggregated("apps", "v1")


def test_every_served_resource_exists_in_a_real_apiserver() -> None:
    for resource in RESOURCES:
        real = by_key(
            [
                r
                for g in recorded("aggregated_v2.json")["items"]
                for v in g["versions"]
                if v["version"] == resource.version
                for r in v["resources"]
                if g["metadata"]["name"] == resource.group
            ]
            if resource.group
            else aggregated_from_legacy(recorded("api__v1.json")),
            "resource",
        )
        assert resource.plural in real, f"{resource.qualified} is not a real resource"


def real_aggregated(group: str, version: str) -> list[JSON]:
    for item in recorded("aggregated_v2.json")["items"]:
        if item["metadata"]["name"] == group:
            resources: list[JSON] = by_key(item["versions"], "version")[version]["resources"]
            return resources
    raise AssertionError(f"{group}/{version} is not in the real aggregated document")


def test_legacy_group_version_lists_match_the_real_ones(sim: KubeSim) -> None:
    for group_version in sorted({r.group_version for r in RESOURCES}):
        group, _, version = group_version.rpartition("/")
        path = f"/apis/{group_version}" if group else "/api/v1"
        _, ours = served(sim, path)
        if not (RECORDED / legacy_file(group, version)).exists():
            # No recorded legacy list (authorization.k8s.io): it must still say what the real
            # aggregated document says, minus the storage hash that form does not carry.
            mine = by_key(aggregated_from_legacy(ours), "resource")
            real_resources = by_key(real_aggregated(group, version), "resource")
            assert all(mine[name] == real_resources[name] for name in mine), path
            continue
        real = recorded(legacy_file(group, version))
        # Core's /api/v1 carries no apiVersion on a real apiserver; named groups' lists do.
        assert {k: v for k, v in ours.items() if k != "resources"} == {
            k: v for k, v in real.items() if k != "resources"
        }
        real_entries = by_key(
            [r for r in real["resources"] if r["name"] not in UNSERVED_SUBRESOURCES], "name"
        )
        # storageVersionHash included: it is derived from group/version/kind as the apiserver does.
        for entry in ours["resources"]:
            assert entry == real_entries[entry["name"]], f"{path} {entry['name']}"
        assert_same_order([e["name"] for e in ours["resources"]], list(real_entries))


def test_aggregated_named_groups_match_the_real_document(sim: KubeSim) -> None:
    content_type, ours = served(sim, "/apis", AGGREGATED_CONTENT_TYPE + ",application/json")
    assert content_type == AGGREGATED_CONTENT_TYPE
    real = recorded("aggregated_v2.json")
    assert {k: v for k, v in ours.items() if k != "items"} == {
        k: v for k, v in real.items() if k != "items"
    }
    real_groups = {g["metadata"]["name"]: g for g in real["items"]}
    assert_same_order([g["metadata"]["name"] for g in ours["items"]], list(real_groups))
    for group in ours["items"]:
        name = group["metadata"]["name"]
        assert group["metadata"] == real_groups[name]["metadata"]
        real_versions = by_key(real_groups[name]["versions"], "version")
        for version in group["versions"]:
            real_version = real_versions[version["version"]]
            assert version["freshness"] == real_version["freshness"]
            real_resources = by_key(real_version["resources"], "resource")
            for resource in version["resources"]:
                assert resource == real_resources[resource["resource"]], f"{name} {resource}"
            assert_same_order([r["resource"] for r in version["resources"]], list(real_resources))


def test_only_the_documented_subresources_are_left_out(sim: KubeSim) -> None:
    _, ours = served(sim, "/api/v1")
    names = {entry["name"] for entry in ours["resources"]}
    real_core = [r["name"] for r in recorded("api__v1.json")["resources"]]
    missing_from_served = {
        name
        for name in real_core
        if "/" in name and name.split("/")[0] in names and name not in names
    }
    assert missing_from_served == UNSERVED_SUBRESOURCES


def test_aggregated_core_group_matches_the_real_v1_list(sim: KubeSim) -> None:
    content_type, ours = served(sim, "/api", AGGREGATED_CONTENT_TYPE + ",application/json")
    assert content_type == AGGREGATED_CONTENT_TYPE
    (core,) = ours["items"]
    assert core["metadata"] == {}
    (version,) = core["versions"]
    assert version["version"] == "v1"
    listing = recorded("api__v1.json")
    listing["resources"] = [
        r for r in listing["resources"] if r["name"] not in UNSERVED_SUBRESOURCES
    ]
    real = by_key(aggregated_from_legacy(listing), "resource")
    for resource in version["resources"]:
        assert resource == real[resource["resource"]], resource["resource"]


def test_group_list_and_core_versions_match_the_real_ones(sim: KubeSim) -> None:
    _, ours = served(sim, "/apis")
    real = recorded("apis.json")
    assert (ours["kind"], ours["apiVersion"]) == (real["kind"], real["apiVersion"])
    real_groups = by_key(real["groups"], "name")
    for group in ours["groups"]:
        assert group == real_groups[group["name"]]
    assert_same_order([g["name"] for g in ours["groups"]], list(real_groups))
    _, core = served(sim, "/api")
    real_core = recorded("api.json")
    assert core["kind"] == real_core["kind"]
    assert core["versions"] == real_core["versions"]
    assert core["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{sim.port}"}
    ]
