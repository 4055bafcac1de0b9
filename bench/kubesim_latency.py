"""How fast kubesim answers: median and p95 latency of single API requests over a kept-alive
connection, and wall time of whole kubectl commands against it.

Run: ``python bench/kubesim_latency.py [--kubectl PATH] [--rounds N]`` (standard library and
kubesim only).  End-to-end tests spend most of their time in kubectl round trips, so these
numbers say what a test costs and whether a change to the server slowed every test down.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kubesim import KubeSim

SIX_DOCUMENTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: bench}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: bench}
data: {mode: fast}
---
apiVersion: v1
kind: Secret
metadata: {name: credentials, namespace: bench}
stringData: {password: bench}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: bench}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: bench}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "web:1", ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: bench}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

APPLY_BODY = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": "default"},
        "data": {"key": "value"},
    }
)


def timed(action: Callable[[], object], rounds: int) -> list[float]:
    action()  # warm-up: first-use costs (caches, imports) are not what is measured
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


def request(connection: http.client.HTTPConnection, method: str, path: str, **kw: str) -> None:
    body = kw.pop("body", None)
    connection.request(method, path, body=body, headers=kw)
    answer = connection.getresponse()
    answer.read()
    if answer.status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {answer.status}")


def kubectl_command(kubectl: str, sim: KubeSim, *args: str, stdin: str = "") -> Callable[[], None]:
    def run() -> None:
        subprocess.run(
            [kubectl, *args], input=stdin, env=sim.env, capture_output=True, text=True, check=True
        )

    return run


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_kubectl = Path(sys.executable).parent / "kubectl"
    parser.add_argument("--kubectl", default=str(default_kubectl))
    parser.add_argument("--rounds", type=int, default=200, help="rounds per API request")
    parser.add_argument("--kubectl-rounds", type=int, default=20)
    args = parser.parse_args()
    results: list[tuple[str, list[float]]] = []
    with KubeSim() as sim:
        connection = http.client.HTTPConnection("127.0.0.1", sim.port)
        api = [
            ("GET object", "GET", "/api/v1/namespaces/default", {}),
            ("LIST", "GET", "/api/v1/namespaces", {}),
            (
                "SSA PATCH",
                "PATCH",
                "/api/v1/namespaces/default/configmaps/applied?fieldManager=bench",
                {"Content-Type": "application/apply-patch+yaml", "body": APPLY_BODY},
            ),
        ]
        for label, method, path, headers in api:
            call = functools.partial(request, connection, method, path, **headers)
            results.append((label, timed(call, args.rounds)))
        connection.close()
        commands = [
            ("kubectl get ns", kubectl_command(args.kubectl, sim, "get", "ns")),
            (
                "kubectl apply --server-side (6 docs)",
                kubectl_command(
                    args.kubectl, sim, "apply", "--server-side", "-f", "-", stdin=SIX_DOCUMENTS
                ),
            ),
        ]
        for label, command in commands:
            results.append((label, timed(command, args.kubectl_rounds)))
    version = subprocess.run(
        [args.kubectl, "version", "--client", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    client = json.loads(version.stdout)["clientVersion"]["gitVersion"]
    rounds = f"{args.rounds} rounds per request, {args.kubectl_rounds} per command"
    print(f"kubesim latency (kubectl {client}; {rounds})")
    print(f"{'measure':<40} {'median ms':>10} {'p95 ms':>10}")
    for label, samples in results:
        median = statistics.median(samples) * 1000
        p95 = percentile(samples, 0.95) * 1000
        print(f"{label:<40} {median:>10.2f} {p95:>10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
