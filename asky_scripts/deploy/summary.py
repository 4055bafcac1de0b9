"""The closing table of a deploy and where the gateway answers, built from one read of the cluster.

Pure over the objects, so what the person sees at the end is unit-tested like readiness.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asky_scripts.cluster.objects import Obj, field, name_of, spec, status
from asky_scripts.model.manifests import GATEWAY


@dataclass(frozen=True)
class Row:
    name: str
    ready: str
    service_type: str
    ports: str


@dataclass(frozen=True)
class Summary:
    namespace: str
    rows: tuple[Row, ...]
    gateway_url: str | None
    minikube_hint: str
    #: A LoadBalancer gateway still without an external address (normal on minikube until
    #: ``minikube tunnel`` runs): said, never failed on.
    load_balancer_pending: bool = False


def node_address(nodes: Sequence[Obj]) -> str | None:
    """The first node's InternalIP (what minikube and kind expose), else its ExternalIP."""
    for wanted in ("InternalIP", "ExternalIP"):
        for node in nodes:
            for address in status(node).get("addresses") or []:
                if address.get("type") == wanted and address.get("address"):
                    return str(address["address"])
    return None


def gateway_url(service: Obj | None, nodes: Sequence[Obj]) -> str | None:
    if service is None:
        return None
    service_spec = spec(service)
    ports = service_spec.get("ports") or []
    if not ports:
        return None
    if service_spec.get("type") == "LoadBalancer":
        for ingress in field(status(service), "loadBalancer").get("ingress") or []:
            host = ingress.get("ip") or ingress.get("hostname")
            if host:
                return f"http://{host}:{ports[0].get('port')}"
    node_port = ports[0].get("nodePort")
    address = node_address(nodes)
    if node_port and address:
        return f"http://{address}:{node_port}"
    return None


def load_balancer_pending(service: Obj | None) -> bool:
    if service is None or spec(service).get("type") != "LoadBalancer":
        return False
    ingress = field(status(service), "loadBalancer").get("ingress") or []
    return not any(i.get("ip") or i.get("hostname") for i in ingress)


def build(
    namespace: str, deployments: Sequence[Obj], services: Sequence[Obj], nodes: Sequence[Obj]
) -> Summary:
    by_service = {name_of(s): s for s in services}
    rows = []
    for dep in sorted(deployments, key=name_of):
        name = name_of(dep)
        wanted = int(spec(dep).get("replicas", 1))
        ready = int(status(dep).get("readyReplicas") or 0)
        service_spec = spec(by_service.get(name) or {})
        ports = ", ".join(
            f"{p.get('port')}" + (f":{p['nodePort']}" if p.get("nodePort") else "")
            for p in service_spec.get("ports") or []
        )
        row_type = str(service_spec.get("type", "-"))
        rows.append(Row(name, f"{ready}/{wanted}", row_type, ports or "-"))
    return Summary(
        namespace=namespace,
        rows=tuple(rows),
        gateway_url=gateway_url(by_service.get(GATEWAY), nodes),
        minikube_hint=f"minikube service {GATEWAY} -n {namespace} --url",
        load_balancer_pending=load_balancer_pending(by_service.get(GATEWAY)),
    )
