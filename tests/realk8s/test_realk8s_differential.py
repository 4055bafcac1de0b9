"""Differential conformance: the kubectl flows of tests/kubesim/test_kubesim_conformance.py, run
by the pinned kubectl against kubesim and against the real control plane, must print the same,
exit the same, and be answered the same (each request's method, path, query keys and HTTP status:
kubesim's request log against the API server's audit log) once names, uids, timestamps, ages,
addresses and ports are normalised.

Real Kubernetes is the oracle: a divergence is fixed in kubesim, or marked here as a known
difference (xfail, strict) and listed in kubesim/README.md with the reason.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubesim import KubeSim
from realk8s import RealCluster
from tests.conftest import Kubectl
from tests.kubesim.test_kubesim_conformance import (
    CONFIGMAP,
    POD_WITH_CLAIM,
    PROGRESSING_REASON,
    PV_AND_CLAIM,
    manifest,
)

KUBECTL = shutil.which("kubectl", path=str(Path(sys.executable).parent))

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(KUBECTL is None, reason="the pinned kubectl is not installed"),
]

Backend = KubeSim | RealCluster


@dataclass(frozen=True)
class Step:
    args: tuple[str, ...]
    stdin: str | None = None
    compare: bool = True  # False: a set-up step, only its exit code must be 0 on both


def step(*args: str, stdin: str | None = None, compare: bool = True) -> Step:
    return Step(args, stdin, compare)


def setup(*args: str, stdin: str | None = None) -> Step:
    return Step(args, stdin, compare=False)


DEMO = setup("create", "namespace", "demo")
ROLLED_OUT = setup("-n", "demo", "rollout", "status", "deploy/web", "--timeout=60s")
SSA = ("apply", "--server-side", "--field-manager=asky-scripts", "-f", "-")
NO_FINALIZERS = '{"metadata":{"finalizers":null}}'
BOUND = "--for=jsonpath={.status.phase}=Bound"
HELD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: held, namespace: demo, finalizers: [example.com/hold]}
"""

CASES: dict[str, list[Step]] = {
    "create-namespace": [
        step("create", "namespace", "demo"),
        step("get", "ns", "demo", "-o", "jsonpath={.status.phase}"),
        step("create", "namespace", "demo"),
    ],
    "configmap-from-literal": [
        DEMO,
        step("-n", "demo", "create", "configmap", "cm1", "--from-literal=a=1"),
        step("-n", "demo", "get", "cm", "cm1", "-o", "jsonpath={.data.a}"),
    ],
    "client-side-apply": [
        DEMO,
        step("apply", "-f", "-", stdin=manifest()),
        step("apply", "-f", "-", stdin=manifest()),
        step("apply", "-f", "-", stdin=manifest("web:2.0")),
        step("-n", "demo", "get", "deploy", "web", "-o", "jsonpath={.metadata.generation}"),
    ],
    "server-side-apply-and-conflict": [
        DEMO,
        step(*SSA, stdin=manifest()),
        step(*SSA, stdin=manifest()),
        step(*SSA, stdin=CONFIGMAP),
        step("-n", "demo", "patch", "cm", "settings", "-p", '{"data":{"mode":"two"}}'),
        step(*SSA, stdin=CONFIGMAP.replace("mode: one", "mode: three")),
        step(*SSA[:2], "--force-conflicts", *SSA[2:], stdin=CONFIGMAP.replace("one", "three")),
        step("-n", "demo", "get", "cm", "settings", "-o", "jsonpath={.data.mode}"),
    ],
    "diff": [
        DEMO,
        setup("apply", "--server-side", "-f", "-", stdin=manifest()),
        ROLLED_OUT,  # the deployment controller has annotated the revision, on both
        step("diff", "--server-side", "-f", "-", stdin=manifest()),
        step("diff", "--server-side", "-f", "-", stdin=manifest("web:9.9")),
        step("diff", "-f", "-", stdin="kind: Nope\napiVersion: v9\nmetadata: {name: x}\n"),
    ],
    "server-dry-run": [
        DEMO,
        step("apply", "--server-side", "--dry-run=server", "-f", "-", stdin=manifest()),
        step("-n", "demo", "get", "deploy"),
    ],
    "get-outputs": [
        DEMO,
        setup("apply", "-f", "-", stdin=manifest()),
        ROLLED_OUT,
        step("-n", "demo", "get", "deploy"),
        step("-n", "demo", "get", "deploy", "-o", "jsonpath={.items[0].status.readyReplicas}"),
        step("-n", "demo", "get", "pods"),
        step("-n", "demo", "get", "svc", "web"),
        step("-n", "demo", "get", "deploy", "-o", "name"),
    ],
    "selectors": [
        DEMO,
        setup("apply", "-f", "-", stdin=manifest()),
        step("-n", "demo", "get", "deploy", "-l", "tier in (front,back)", "-o", "name"),
        step("-n", "demo", "get", "deploy", "-l", "tier!=front", "-o", "name"),
        step("-n", "demo", "get", "deploy", "--field-selector", "metadata.name=web", "-o", "name"),
        step("-n", "demo", "get", "deploy", "--field-selector", "spec.replicas=2"),
    ],
    "wait": [
        DEMO,
        setup("apply", "-f", "-", stdin=manifest()),
        step("-n", "demo", "wait", "--for=condition=Available", "deploy/web", "--timeout=60s"),
        step(
            "-n",
            "demo",
            "wait",
            "--for=jsonpath={.status.readyReplicas}=2",
            "deploy/web",
            "--timeout=60s",
        ),
        step("-n", "demo", "delete", "deploy/web", "--wait=false"),
        step("-n", "demo", "wait", "--for=delete", "deploy/web", "--timeout=60s"),
        step("-n", "demo", "wait", "--for=condition=Ready", "pod", "-l", "app=none"),
    ],
    "rollout-progress-deadline": [
        DEMO,
        setup(
            "apply",
            "-f",
            "-",
            stdin=manifest("faults.realk8s.invalid/never-ready:1").replace(
                "progressDeadlineSeconds: 600", "progressDeadlineSeconds: 2"
            ),
        ),
        step("-n", "demo", "rollout", "status", "deploy/web", "--timeout=60s"),
        step(*PROGRESSING_REASON),
    ],
    "delete-namespace": [
        DEMO,
        setup("apply", "-f", "-", stdin=manifest()),
        ROLLED_OUT,
        step("delete", "namespace", "demo", "--wait", "--timeout=60s"),
        step("get", "ns", "demo"),
        step("-n", "demo", "get", "pods"),
    ],
    "terminating-namespace": [
        DEMO,
        setup("apply", "-f", "-", stdin=HELD),
        step("delete", "namespace", "demo", "--wait=false"),
        step("apply", "-f", "-", stdin=CONFIGMAP),
        step("get", "ns", "demo", "-o", "jsonpath={.status.phase}"),
        # The real namespace controller starts 5 s after the delete (namespaceDeletionGracePeriod
        # in pkg/controller/namespace/namespace_controller.go): wait for its verdict.
        setup(
            "wait",
            "ns/demo",
            '--for=jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].status}=True',
            "--timeout=60s",
        ),
        step(
            "get",
            "ns",
            "demo",
            "-o",
            'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}',
        ),
        setup(
            "-n",
            "demo",
            "patch",
            "cm",
            "held",
            "--type=merge",
            "-p",
            '{"metadata":{"finalizers":null}}',
        ),
    ],
    "claim-protection": [
        DEMO,
        setup("apply", "-f", "-", stdin=PV_AND_CLAIM + "---\n" + POD_WITH_CLAIM),
        step("-n", "demo", "wait", BOUND, "pvc/data", "--timeout=60s"),
        step("-n", "demo", "wait", "--for=condition=Ready", "pod/user", "--timeout=60s"),
        step("-n", "demo", "delete", "pvc", "data", "--wait=false"),
        step("-n", "demo", "get", "pvc", "data", "-o", "jsonpath={.metadata.finalizers}"),
        step("-n", "demo", "get", "pvc", "data"),
        step("-n", "demo", "delete", "pod", "user", "--wait", "--timeout=60s"),
        step("-n", "demo", "wait", "--for=delete", "pvc/data", "--timeout=60s"),
        step("wait", "--for=jsonpath={.status.phase}=Released", "pv/data-pv", "--timeout=60s"),
        step("delete", "pv", "data-pv", "--wait", "--timeout=60s"),
    ],
    "strict-validation": [
        DEMO,
        step(
            "apply",
            "-f",
            "-",
            stdin=manifest().replace(
                "image: web:1.0", "image: web:1.0\n        imagePullPolcy: Always"
            ),
        ),
    ],
    "invalid-selector": [
        DEMO,
        step(
            "apply",
            "--server-side",
            "-f",
            "-",
            stdin=manifest().replace(
                "labels: {app: web}\n    spec:", "labels: {app: x}\n    spec:"
            ),
        ),
    ],
    "auth-can-i": [
        step("auth", "can-i", "create", "namespaces"),
        step("auth", "can-i", "delete", "persistentvolumes"),
    ],
}

# Known differences: the case, and why kubesim cannot (or does not yet) match the real output.
KNOWN_DIFFERENCES: dict[str, str] = {}

_NORMALISE = [
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"), "<TIME>"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+ [+-]\d{4}"), "<TIME>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<UID>"),
    (re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(:\d+)?\b"), "<IP>"),
    (re.compile(r"\b3\d{4}/TCP"), "<NODEPORT>/TCP"),
    (re.compile(r"\b([a-z][a-z0-9-]*?)-[a-z0-9]{8,10}-[a-z0-9]{5}\b"), r"\1-<RS>-<POD>"),
    (re.compile(r"(?<=\s)(\d+[smhd])+(?=\s|$)"), "<AGE>"),
    (re.compile(r"/tmp/[^\s]+"), "<TMP>"),
    (re.compile(r"resourceVersion: \"?\d+\"?"), "resourceVersion: <RV>"),
    (re.compile(r"[ \t]+"), " "),
]


# client-go's reflector (tools/cache/reflector.go) logs this when ``kubectl wait`` stops its
# informer right after the condition was met and the cancelled watch races the log line: a
# timing of kubectl's own shutdown, seen now and then against the real server, not a difference
# of the server's.
_WATCH_CANCELLED = re.compile(
    r'^[IWEF]\d{4} [\d:.]+\s+\d+ reflector\.go:\d+\] "Warning: watch ended with error".*'
    r"context canceled.*$\n?",
    re.MULTILINE,
)


def normalise(text: str) -> str:
    text = _WATCH_CANCELLED.sub("", text)
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


# Discovery is cached in kubectl's HOME, which the session's real cluster keeps across tests and
# each kubesim starts empty: which discovery documents a step fetches says nothing of the server.
_DISCOVERY = re.compile(r"^/(api|apis|version|openapi)(/[^/]+){0,2}$|^/openapi/")
# Steps whose requests depend on timing (polls, watches re-opened, deletions awaited): their
# output and exit code are compared, their requests not.
_TIMED = frozenset({"wait", "rollout", "--wait", "--wait=true"})


def answered(backend: Backend) -> list[tuple[str, str, str, int]]:
    """Every request kubectl made so far, with the status it was answered."""
    if isinstance(backend, KubeSim):
        requests: list[Any] = list(backend.requests)
    else:
        requests = backend.requests()
    return [(r.method, r.path, r.query, r.status) for r in requests]


def requests_of_step(requests: list[tuple[str, str, str, int]]) -> list[str]:
    """One step's requests, normalised: method, path (names normalised), query keys, status."""
    shown = set()
    for method, path, query, status in requests:
        keys = ",".join(sorted({part.split("=")[0] for part in query.split("&") if part}))
        # A watch is logged when it ends, which may be during a later step (as in kubesim), and
        # is made only by the timed steps.
        if _DISCOVERY.match(path) or "watch" in keys.split(","):
            continue
        shown.add(f"{method} {normalise(path)}?{keys} -> {status}")
    return sorted(shown)


def run_steps(backend: Backend, steps: list[Step]) -> list[tuple[str, int, str, str]]:
    """Each compared step's command, exit code, output, errors and the requests it made."""
    assert KUBECTL is not None
    results = []
    for one in steps:
        before = len(answered(backend))
        done = Kubectl(Path(KUBECTL), backend)(*one.args, stdin=one.stdin, timeout=120)
        command = " ".join(one.args)
        if not one.compare:
            assert done.returncode == 0, f"set-up step {command}: {done.stderr}"
            continue
        timed = _TIMED.intersection(one.args)
        made = [] if timed else requests_of_step(answered(backend)[before:])
        errors = "\n".join([normalise(done.stderr), *made])
        results.append((command, done.returncode, normalise(done.stdout), errors))
    return results


@pytest.fixture
def both(real_cluster: RealCluster, fault_images_sim: KubeSim) -> tuple[KubeSim, RealCluster]:
    real_cluster.reset()
    return fault_images_sim, real_cluster


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(reason=KNOWN_DIFFERENCES[name], strict=True)]
            if name in KNOWN_DIFFERENCES
            else [],
        )
        for name in CASES
    ],
)
def test_kubesim_prints_and_exits_as_the_real_control_plane(
    case: str, both: tuple[KubeSim, RealCluster]
) -> None:
    sim, real = both
    started = time.monotonic()
    real_results = run_steps(real, CASES[case])
    sim_results = run_steps(sim, CASES[case])
    divergences = [
        f"$ kubectl {command}\n  real:    exit {r_code}\n{r_out}\n{r_err}\n"
        f"  kubesim: exit {s_code}\n{s_out}\n{s_err}"
        for (command, r_code, r_out, r_err), (_, s_code, s_out, s_err) in zip(
            real_results, sim_results, strict=True
        )
        if (r_code, r_out, r_err) != (s_code, s_out, s_err)
    ]
    assert not divergences, f"{case} ({time.monotonic() - started:.0f}s):\n" + "\n\n".join(
        divergences
    )
