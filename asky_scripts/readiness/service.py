"""A Service is ready with a cluster IP (and node ports), and ready endpoints when it selects
the pods of a Deployment of its name.

Its endpoints are those pods, so its evidence is the Deployment's, and a Service whose
Deployment is still waiting says nothing more in a timeout's headline.  Ready pods that no
endpoint follows past ``NO_ENDPOINTS_GRACE_SECONDS`` mean a selector matching none of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from asky_scripts.cluster.objects import Obj, field, labels_of, name_of, spec, status, uid_of
from asky_scripts.readiness import base
from asky_scripts.readiness.deployment import workload_evidence
from asky_scripts.readiness.verdict import Failed, Ready, Stopwatch, Verdict, Waiting

NO_ENDPOINTS_GRACE_SECONDS = 10.0


def service_verdict(
    service: Obj,
    endpoint_slices: Iterable[Obj],
    *,
    expect_endpoints: bool,
    workload_ready: bool,
    stopwatch: Stopwatch,
    now: float,
) -> Verdict:
    gate = base.lifecycle_gate(service)
    if gate:
        return gate
    service_spec = spec(service)
    name = name_of(service)
    if not service_spec.get("clusterIP"):
        return Waiting("no cluster IP yet")
    if service_spec.get("type") in ("NodePort", "LoadBalancer"):
        missing = [
            str(p.get("port")) for p in service_spec.get("ports") or [] if not p.get("nodePort")
        ]
        if missing:
            return Waiting(f"no nodePort yet for port {', '.join(missing)}")
    detail = f"{service_spec.get('type', 'ClusterIP')} {service_spec['clusterIP']}"
    if service_spec.get("selector") and expect_endpoints:
        count = ready_endpoints(name, endpoint_slices)
        if count == 0:
            if not workload_ready:
                return Waiting("no ready endpoint yet")
            waited = stopwatch.seen_for(f"{uid_of(service)}/no-endpoints", now)
            if waited > NO_ENDPOINTS_GRACE_SECONDS:
                return Failed(
                    f"service {name} has no ready endpoint although its pods are ready",
                    hint=f"its selector {service_spec['selector']} matches none of them: compare "
                    "it with the pod template labels of the Deployment",
                )
            return Waiting("no ready endpoint yet")
        detail += f", {count} ready endpoint(s)"
    if service_spec.get("type") == "LoadBalancer":
        ingress = field(status(service), "loadBalancer").get("ingress")
        if not ingress:
            detail += " (external address pending; on minikube run `minikube tunnel`)"
    return Ready(detail)


def ready_endpoints(service_name: str, endpoint_slices: Iterable[Obj]) -> int:
    """Ready endpoints of a Service; a missing ``ready`` condition means ready (API contract)."""
    count = 0
    for eps in endpoint_slices:
        if labels_of(eps).get("kubernetes.io/service-name") != service_name:
            continue
        for endpoint in eps.get("endpoints") or []:
            if field(endpoint, "conditions").get("ready") is not False:
                count += 1
    return count


class ServiceReadiness(base.KindReadiness):
    explained_on_timeout = True

    def watches(self, setting: base.Setting) -> tuple[str, ...]:
        return ("Deployment", "EndpointSlice")

    def verdict(self, obj: Obj, observed: base.Observed, context: base.Context) -> Verdict:
        name = name_of(obj)
        workload = observed.find("Deployment", name)
        wanted = int(spec(workload or {}).get("replicas", 1))
        return service_verdict(
            obj,
            observed.of("EndpointSlice"),
            expect_endpoints=workload is not None and wanted > 0,
            workload_ready=isinstance(context.judged.get(("Deployment", name)), Ready),
            stopwatch=context.stopwatch,
            now=context.now,
        )

    def evidence(self, subject: Obj, observed: base.Observed) -> base.Evidence:
        workload = observed.find("Deployment", name_of(subject))
        if workload is None:
            return base.Evidence(subject)
        return workload_evidence(workload, observed, (subject,))

    def said_by(self, name: str) -> base.Key | None:
        return ("Deployment", name)
