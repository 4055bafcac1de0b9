"""Conformance: each kubectl command of our flows, run by every kubectl in asky-scripts'
supported range that this machine has (1.28 to 1.37) against kubesim, must print and exit as
it would against a real cluster."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kubesim import KubeSim
from tests.conftest import SUPPORTED_KUBECTLS

pytestmark = pytest.mark.e2e


@pytest.fixture(params=list(SUPPORTED_KUBECTLS), ids=lambda v: f"kubectl-{v}")
def kubectl_bin(request: pytest.FixtureRequest) -> Path:
    """Every supported kubectl here, not only the two the rest of the kubesim suite runs."""
    return SUPPORTED_KUBECTLS[request.param]


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels: {app: web, tier: front}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: IMAGE
        ports:
        - containerPort: 8080
        env:
        - {name: MODE, value: "one"}
        readinessProbe:
          tcpSocket: {port: 8080}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: demo
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {port: 80, targetPort: 8080}
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: demo}
data: {mode: one}
"""


# The reason of Deployment web's Progressing condition (why a rollout stopped or goes on).
PROGRESSING_REASON = (
    "-n",
    "demo",
    "get",
    "deploy",
    "web",
    "-o",
    'jsonpath={.status.conditions[?(@.type=="Progressing")].reason}',
)


def manifest(image: str = "web:1.0") -> str:
    return DEPLOYMENT.replace("IMAGE", image) + "---\n" + SERVICE


@pytest.fixture
def demo(kubectl, sim: KubeSim) -> None:
    """Namespace demo, once its controllers filled it (as a real one's do, a moment later), so
    tests comparing snapshots do not see the default ServiceAccount or root CA arrive."""
    kubectl.ok("create", "namespace", "demo")
    wait_until(
        lambda: (
            sim.get("serviceaccounts", "default", "demo") is not None
            and sim.get("configmaps", "kube-root-ca.crt", "demo") is not None
        )
    )


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_create_namespace_is_active_in_the_encoding_of_its_kubectl(kubectl, sim: KubeSim) -> None:
    assert kubectl.ok("create", "namespace", "demo").strip() == "namespace/demo created"
    assert kubectl.ok("get", "ns", "demo", "-o", "jsonpath={.status.phase}") == "Active"
    posts = [r for r in sim.requests if r.method == "POST" and r.path == "/api/v1/namespaces"]
    # kubectl's typed clients send protobuf from 1.32 on; 1.28 to 1.31 send JSON.
    client = json.loads(kubectl.ok("version", "--client", "-o", "json"))["clientVersion"]
    protobuf = int(client["minor"].rstrip("+")) >= 32
    assert posts[0].content_type == (
        "application/vnd.kubernetes.protobuf" if protobuf else "application/json"
    )


def test_create_configmap_from_literal(kubectl, demo) -> None:
    kubectl.ok("-n", "demo", "create", "configmap", "cm1", "--from-literal=a=1")
    assert kubectl.ok("-n", "demo", "get", "cm", "cm1", "-o", "jsonpath={.data.a}") == "1"


def test_client_side_apply_twice_reports_unchanged(kubectl, demo, sim: KubeSim) -> None:
    first = kubectl.ok("apply", "-f", "-", stdin=manifest())
    assert "deployment.apps/web created" in first
    assert "service/web created" in first
    version = sim.get("deployments", "web", "demo", "apps")["metadata"]["resourceVersion"]
    generation = sim.get("deployments", "web", "demo", "apps")["metadata"]["generation"]
    second = kubectl.ok("apply", "-f", "-", stdin=manifest())
    assert "deployment.apps/web unchanged" in second
    assert "service/web unchanged" in second
    after = sim.get("deployments", "web", "demo", "apps")["metadata"]
    assert after["generation"] == generation
    assert after["resourceVersion"] >= version


def test_client_side_apply_change_bumps_generation(kubectl, demo, sim: KubeSim) -> None:
    kubectl.ok("apply", "-f", "-", stdin=manifest())
    out = kubectl.ok("apply", "-f", "-", stdin=manifest("web:2.0"))
    assert "deployment.apps/web configured" in out
    deployment = sim.get("deployments", "web", "demo", "apps")
    assert deployment["metadata"]["generation"] == 2
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["web:2.0"]
    assert [p["containerPort"] for p in containers[0]["ports"]] == [8080]


def test_server_side_apply_is_idempotent(kubectl, demo, sim: KubeSim) -> None:
    args = ("apply", "--server-side", "--field-manager=asky-scripts", "-f", "-")
    assert "serverside-applied" in kubectl.ok(*args, stdin=manifest())
    kubectl.ok("-n", "demo", "rollout", "status", "deploy/web", "--timeout=30s")
    before = sim.snapshot()
    kubectl.ok(*args, stdin=manifest())
    after = sim.snapshot()
    changed = {k for k in after if before.get(k) != after[k]}
    assert not {k for k in changed if k[0] in ("deployments.apps", "services")}


def test_server_side_apply_conflict_is_409_with_field_and_manager(kubectl, demo) -> None:
    kubectl.ok("apply", "--server-side", "--field-manager=asky-scripts", "-f", "-", stdin=CONFIGMAP)
    kubectl.ok("-n", "demo", "patch", "cm", "settings", "-p", '{"data":{"mode":"two"}}')
    result = kubectl(
        "apply",
        "--server-side",
        "--field-manager=asky-scripts",
        "-f",
        "-",
        stdin=CONFIGMAP.replace("mode: one", "mode: three"),
    )
    assert result.returncode == 1
    assert "Apply failed with 1 conflict" in result.stderr
    assert 'conflict with "kubectl-patch"' in result.stderr
    assert ".data.mode" in result.stderr
    forced = kubectl.ok(
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=asky-scripts",
        "-f",
        "-",
        stdin=CONFIGMAP.replace("mode: one", "mode: three"),
    )
    assert "serverside-applied" in forced
    assert (
        kubectl.ok("-n", "demo", "get", "cm", "settings", "-o", "jsonpath={.data.mode}") == "three"
    )


def test_diff_exit_codes(kubectl, demo) -> None:
    kubectl.ok("apply", "--server-side", "-f", "-", stdin=manifest())
    same = kubectl("diff", "--server-side", "-f", "-", stdin=manifest())
    assert same.returncode == 0, same.stderr
    assert same.stdout == ""
    changed = kubectl("diff", "--server-side", "-f", "-", stdin=manifest("web:9.9"))
    assert changed.returncode == 1, changed.stderr
    assert "+        image: web:9.9" in changed.stdout
    broken = kubectl("diff", "-f", "-", stdin="kind: Nope\napiVersion: v9\nmetadata: {name: x}\n")
    assert broken.returncode > 1


def test_server_dry_run_changes_nothing(kubectl, demo, sim: KubeSim) -> None:
    before = sim.snapshot()
    out = kubectl.ok("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=manifest())
    assert "(server dry run)" in out
    assert sim.snapshot() == before
    assert sim.get("deployments", "web", "demo", "apps") is None


def test_get_outputs_json_jsonpath_and_table(kubectl, demo) -> None:
    kubectl.ok("apply", "-f", "-", stdin=manifest())
    kubectl.ok("-n", "demo", "rollout", "status", "deploy/web", "--timeout=30s")
    listed = json.loads(kubectl.ok("-n", "demo", "get", "deploy", "-o", "json"))
    assert listed["kind"] == "List"
    assert listed["items"][0]["status"]["readyReplicas"] == 2
    names = kubectl.ok("-n", "demo", "get", "pods", "-o", "jsonpath={.items[*].metadata.name}")
    assert len(names.split()) == 2
    table = kubectl.ok("-n", "demo", "get", "deploy")
    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert row.split()[:4] == ["web", "2/2", "2", "2"]
    pods = kubectl.ok("-n", "demo", "get", "pods").splitlines()
    assert pods[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert all(line.split()[1:3] == ["1/1", "Running"] for line in pods[1:])
    service = kubectl.ok("-n", "demo", "get", "svc", "web").splitlines()
    assert service[0].split()[:4] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP"]
    assert "80:3" in service[1] and "/TCP" in service[1]


def test_label_and_field_selectors(kubectl, demo) -> None:
    kubectl.ok("apply", "-f", "-", stdin=manifest())
    assert (
        kubectl.ok(
            "-n", "demo", "get", "deploy", "-l", "tier in (front,back)", "-o", "name"
        ).strip()
        == "deployment.apps/web"
    )
    assert kubectl.ok("-n", "demo", "get", "deploy", "-l", "tier!=front", "-o", "name") == ""
    assert (
        kubectl.ok(
            "-n", "demo", "get", "deploy", "--field-selector", "metadata.name=web", "-o", "name"
        ).strip()
        == "deployment.apps/web"
    )
    bad = kubectl("-n", "demo", "get", "deploy", "--field-selector", "spec.replicas=2")
    assert bad.returncode == 1
    assert "BadRequest" in bad.stderr


def test_wait_condition_jsonpath_and_delete(kubectl, demo) -> None:
    kubectl.ok("apply", "-f", "-", stdin=manifest())
    out = kubectl.ok(
        "-n", "demo", "wait", "--for=condition=Available", "deploy/web", "--timeout=30s"
    )
    assert out.strip() == "deployment.apps/web condition met"
    out = kubectl.ok(
        "-n",
        "demo",
        "wait",
        "--for=jsonpath={.status.readyReplicas}=2",
        "deploy/web",
        "--timeout=30s",
    )
    assert "condition met" in out
    kubectl.ok("-n", "demo", "delete", "deploy/web", "--wait=false")
    kubectl.ok("-n", "demo", "wait", "--for=delete", "deploy/web", "--timeout=30s")


def test_wait_on_pods_that_do_not_exist_yet_fails_at_once(kubectl, demo) -> None:
    result = kubectl(
        "-n",
        "demo",
        "wait",
        "--for=condition=Ready",
        "pod",
        "-l",
        "app=none",
        "--timeout=30s",
        timeout=20,
    )
    assert result.returncode == 1
    assert "no matching resources found" in result.stderr


def test_rollout_status_reports_progress_deadline(kubectl_on, start_sim) -> None:
    sim = start_sim("images:\n- match: 'stuck:*'\n  neverReady: true\n")
    kubectl = kubectl_on(sim)
    kubectl.ok("create", "namespace", "demo")
    stuck = manifest("stuck:1").replace(
        "progressDeadlineSeconds: 600", "progressDeadlineSeconds: 2"
    )
    kubectl.ok("apply", "-f", "-", stdin=stuck)
    result = kubectl("-n", "demo", "rollout", "status", "deploy/web", "--timeout=30s")
    assert result.returncode == 1
    assert 'deployment "web" exceeded its progress deadline' in result.stderr
    assert kubectl.ok(*PROGRESSING_REASON) == "ProgressDeadlineExceeded"


def test_logs_by_label_and_previous_after_crash(kubectl_on, start_sim) -> None:
    sim = start_sim(
        "images:\n- match: 'crash:*'\n  logs: [booting, 'fatal: no config']\n"
        "  crash: {exitCode: 3, after: 0.1}\n"
    )
    kubectl = kubectl_on(sim)
    kubectl.ok("create", "namespace", "demo")
    kubectl.ok("apply", "-f", "-", stdin=manifest("crash:1").replace("replicas: 2", "replicas: 1"))

    def crashed() -> bool:
        """Backing off: the second exit (the first is restarted at once, as doBackOff does)."""
        pods = sim.objects("pods", "demo")
        return bool(pods) and any(
            s.get("state", {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
            for s in pods[0].get("status", {}).get("containerStatuses", [])
        )

    wait_until(crashed)
    pod = sim.objects("pods", "demo")[0]["metadata"]["name"]
    previous = kubectl.ok("-n", "demo", "logs", pod, "--previous", "--tail=1")
    assert previous == "fatal: no config\n"
    state = json.loads(kubectl.ok("-n", "demo", "get", "pod", pod, "-o", "json"))
    status = state["status"]["containerStatuses"][0]
    assert status["lastState"]["terminated"]["exitCode"] == 3
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    by_label = kubectl.ok("-n", "demo", "logs", "-l", "app=web", "--tail=5")
    assert "fatal: no config" in by_label


def test_delete_namespace_waits_and_cascades(kubectl, demo, sim: KubeSim) -> None:
    kubectl.ok("apply", "-f", "-", stdin=manifest())
    kubectl.ok("-n", "demo", "rollout", "status", "deploy/web", "--timeout=30s")
    out = kubectl.ok("delete", "namespace", "demo", "--wait", "--timeout=30s")
    assert out.strip() == 'namespace "demo" deleted'
    assert sim.get("namespaces", "demo") is None
    assert sim.objects("pods", "demo") == []
    assert sim.objects("replicasets", "demo", "apps") == []
    gone = kubectl("get", "ns", "demo")
    assert gone.returncode == 1
    assert 'namespaces "demo" not found' in gone.stderr


def test_namespace_terminating_refuses_new_content(kubectl_on, start_sim) -> None:
    sim = start_sim(
        "objects:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: demo}\n"
        "- apiVersion: v1\n  kind: ConfigMap\n"
        "  metadata: {name: held, namespace: demo, finalizers: [example.com/hold]}\n"
    )
    kubectl = kubectl_on(sim)
    kubectl.ok("delete", "namespace", "demo", "--wait=false")
    result = kubectl("apply", "-f", "-", stdin=CONFIGMAP)
    assert result.returncode == 1
    assert (
        "unable to create new content in namespace demo because it is being terminated"
        in result.stderr
    )
    conditions = json.loads(kubectl.ok("get", "ns", "demo", "-o", "json"))["status"]
    assert conditions["phase"] == "Terminating"
    remaining = {c["type"]: c for c in conditions["conditions"]}
    assert remaining["NamespaceFinalizersRemaining"]["status"] == "True"
    assert (
        "example.com/hold in 1 resource instances"
        in remaining["NamespaceFinalizersRemaining"]["message"]
    )


PV_AND_CLAIM = """\
apiVersion: v1
kind: PersistentVolume
metadata: {name: data-pv}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  hostPath: {path: /data/demo}
  claimRef: {namespace: demo, name: data}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: demo}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: ""
  volumeName: data-pv
  resources: {requests: {storage: 1Gi}}
"""

POD_WITH_CLAIM = """\
apiVersion: v1
kind: Pod
metadata: {name: user, namespace: demo}
spec:
  containers:
  - {name: app, image: app:1}
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
"""


def test_claim_protection_and_retained_volume(kubectl, demo, sim: KubeSim) -> None:
    kubectl.ok("apply", "-f", "-", stdin=PV_AND_CLAIM + "---\n" + POD_WITH_CLAIM)
    kubectl.ok(
        "-n", "demo", "wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=30s"
    )
    kubectl.ok("-n", "demo", "wait", "--for=condition=Ready", "pod/user", "--timeout=30s")
    kubectl.ok("-n", "demo", "delete", "pvc", "data", "--wait=false")
    claim = sim.get("persistentvolumeclaims", "data", "demo")
    assert claim is not None
    assert claim["metadata"]["finalizers"] == ["kubernetes.io/pvc-protection"]
    assert "Terminating" in kubectl.ok("-n", "demo", "get", "pvc", "data")
    kubectl.ok("-n", "demo", "delete", "pod", "user", "--wait", "--timeout=30s")
    kubectl.ok("-n", "demo", "wait", "--for=delete", "pvc/data", "--timeout=30s")
    kubectl.ok("wait", "--for=jsonpath={.status.phase}=Released", "pv/data-pv", "--timeout=30s")
    kubectl.ok("delete", "pv", "data-pv", "--wait", "--timeout=30s")
    assert sim.get("persistentvolumes", "data-pv") is None


def test_strict_validation_names_the_unknown_field(kubectl, demo, sim: KubeSim) -> None:
    typo = manifest().replace("image: web:1.0", "image: web:1.0\n        imagePullPolcy: Always")
    result = kubectl("apply", "-f", "-", stdin=typo)
    assert result.returncode == 1
    assert (
        'strict decoding error: unknown field "spec.template.spec.containers[0].'
        'imagePullPolcy"' in result.stderr
    )
    assert sim.get("deployments", "web", "demo", "apps") is None


def test_invalid_selector_is_422(kubectl, demo) -> None:
    wrong = manifest().replace(
        "    metadata:\n      labels: {app: web}", "    metadata:\n      labels: {app: other}"
    )
    result = kubectl("apply", "--server-side", "-f", "-", stdin=wrong)
    assert result.returncode == 1
    assert 'The Deployment "web" is invalid' in result.stderr
    assert "selector" in result.stderr


def test_forbidden_verb_is_reported_like_rbac(kubectl_on, start_sim) -> None:
    sim = start_sim("faults:\n  forbidden:\n  - {verb: delete, resource: namespaces}\n")
    kubectl = kubectl_on(sim)
    kubectl.ok("create", "namespace", "demo")
    result = kubectl("delete", "namespace", "demo")
    assert result.returncode == 1
    assert "Error from server (Forbidden)" in result.stderr
    assert 'cannot delete resource "namespaces"' in result.stderr
    assert kubectl.ok("auth", "can-i", "create", "namespaces").strip() == "yes"
    denied = kubectl("auth", "can-i", "delete", "namespaces")
    assert denied.returncode == 1
    assert denied.stdout.strip() == "no"


def test_create_conflict_already_exists(kubectl, demo) -> None:
    result = kubectl("create", "namespace", "demo")
    assert result.returncode == 1
    assert 'namespaces "demo" already exists' in result.stderr


def test_min_ready_seconds_holds_availability_back_as_the_replicaset_controller_does(
    kubectl, demo, sim: KubeSim
) -> None:
    """pkg/api/v1/pod IsPodAvailable: Ready for minReadySeconds (from the Ready condition's
    lastTransitionTime) before a pod counts as available; `rollout status` waits for it."""
    with_min_ready = manifest().replace("  replicas: 2\n", "  replicas: 2\n  minReadySeconds: 2\n")
    started = time.monotonic()
    kubectl.ok("apply", "-f", "-", stdin=with_min_ready)

    def ready_not_available() -> bool:
        status = (sim.get("deployments", "web", "demo", "apps") or {}).get("status", {})
        return status.get("readyReplicas") == 2 and not status.get("availableReplicas")

    wait_until(ready_not_available)
    kubectl.ok("-n", "demo", "rollout", "status", "deploy/web", "--timeout=30s")
    assert time.monotonic() - started >= 1.0  # 2 s, less the Ready timestamp's truncation
    replica_set = sim.objects("replicasets", "demo", "apps")[0]
    assert replica_set["spec"]["minReadySeconds"] == 2
    assert replica_set["status"]["availableReplicas"] == 2
