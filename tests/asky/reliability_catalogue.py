"""The bad-day catalogue: every way a user can give run.py or terminate.py bad input, as data.

One entry per case: how to provoke it, the exit code, what the user reads on stderr and the fix
they are told.  ``test_asky_reliability_catalogue.py`` provokes each case with the real kubectl
against kubesim and checks all of it; ``reliability_readme.py`` renders the same entries as the
README's "When things go wrong" table.  So the table cannot promise a message or a fix the tools
do not print.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from asky_scripts.errors import ExitCode


class KubectlGiven(enum.Enum):
    """Which kubectl the command is given."""

    PINNED = "the pinned kubectl, with --kubectl"
    ABSENT = "no --kubectl, and none on PATH"
    GARBAGE = "--kubectl naming a script that prints garbage and exits 0"
    FAILING = "--kubectl naming a script that prints a usage text and exits 1"
    NOT_EXECUTABLE = "--kubectl naming a file without the execute bit"


class KubeconfigGiven(enum.Enum):
    """Which kubeconfig the command is given."""

    EMULATOR = "kubesim's own"
    MISSING = "--kubeconfig naming a file that does not exist"
    MISSING_ENV = "KUBECONFIG naming a file that does not exist"
    DIRECTORY = "--kubeconfig naming a directory (unreadable as a file)"
    MALFORMED = "--kubeconfig naming a file that is not YAML"
    UNREACHABLE = "a kubeconfig whose server is a closed port"


class Concurrent(enum.Enum):
    """Another command already running on the same namespace when the case's command starts."""

    NONE = "nothing"
    RUN_PY = "a slow run.py holding the namespace's deploy lock"


@dataclass(frozen=True)
class Provocation:
    """What the test arranges before running the command; every field defaults to harmless.

    Cluster-side arrangements are made on an emulator shared by the cases, so each case that
    changes it works in a namespace of its own.
    """

    kubectl: KubectlGiven = KubectlGiven.PINNED
    kubeconfig: KubeconfigGiven = KubeconfigGiven.EMULATOR
    #: (file under manifests/, text, replacement): one edit of a copied tree (--manifests).
    edit: tuple[str, str, str] | None = None
    #: A kubesim ``faults:`` mapping (YAML), in force during the command only.
    faults: str = ""
    #: Objects created first, as an admin would (YAML stream, piped to kubectl create).
    objects: str = ""
    #: kubectl commands run after ``objects``, as an admin would.
    commands: tuple[tuple[str, ...], ...] = ()
    #: A namespace run.py deploys (once per emulator) before the case.
    deployed: str = ""
    concurrent: Concurrent = Concurrent.NONE


@dataclass(frozen=True)
class Case:
    """One bad-input case: what the user did, what they see, and what they are told to do."""

    id: str
    #: The situation, as a user would describe it.
    title: str
    script: str
    args: tuple[str, ...]
    provoke: Provocation
    exit_code: ExitCode
    #: A fragment of the error message on stderr; "…" stands for text that varies (paths,
    #: ports, pids) within the line.
    says: str
    #: A fragment of the fix printed on stderr (in the hint, or in the message itself).
    hint: str
    #: What to do, in the README's words.
    fix: str
    #: Arguments added to the same command that resolve the case (it then exits 0).
    resolved_by: tuple[str, ...] = ()
    #: Other tests that check more of this case.
    see_also: tuple[str, ...] = field(default=())
    #: What the tools still get wrong in this case; its test is an expected failure until fixed.
    known_gap: str = ""


def _run(
    case_id: str,
    title: str,
    args: tuple[str, ...],
    exit_code: ExitCode,
    says: str,
    hint: str,
    fix: str,
    provoke: Provocation | None = None,
    **more: Any,
) -> Case:
    return Case(
        case_id, title, "run.py", args, provoke or Provocation(), exit_code, says, hint, fix, **more
    )


def _terminate(
    case_id: str,
    title: str,
    args: tuple[str, ...],
    exit_code: ExitCode,
    says: str,
    hint: str,
    fix: str,
    provoke: Provocation | None = None,
    **more: Any,
) -> Case:
    return Case(
        case_id,
        title,
        "terminate.py",
        args,
        provoke or Provocation(),
        exit_code,
        says,
        hint,
        fix,
        **more,
    )


BAD = ExitCode.BAD_INPUT
REFUSED = ExitCode.CLUSTER_UNAVAILABLE
OURS = "{app.kubernetes.io/managed-by: asky-scripts, app.kubernetes.io/instance: %s}"
_PV_SPEC = (
    "{capacity: {storage: 1Gi}, accessModes: [ReadWriteOnce], persistentVolumeReclaimPolicy: "
    "Retain, storageClassName: '', hostPath: {path: /data/%s}}"
)
_CLAIM_SPEC = (
    "{accessModes: [ReadWriteOnce], storageClassName: '', volumeName: %s, "
    "resources: {requests: {storage: 1Gi}}}"
)

CASES: tuple[Case, ...] = (
    # -- the kubectl binary -------------------------------------------------------------------
    _run(
        "kubectl-not-found",
        "No kubectl on PATH",
        (),
        BAD,
        "kubectl was not found on PATH",
        "install kubectl",
        "Install kubectl, or point `--kubectl` or `KUBECTL` at it.",
        Provocation(kubectl=KubectlGiven.ABSENT),
    ),
    _run(
        "kubectl-prints-garbage",
        "`--kubectl` names a program that is not kubectl",
        (),
        BAD,
        "…/frobnicate does not answer `version -o json` like kubectl",
        "point --kubectl or KUBECTL at a real kubectl binary",
        "Point `--kubectl` or `KUBECTL` at a real kubectl binary.",
        Provocation(kubectl=KubectlGiven.GARBAGE),
    ),
    _run(
        "kubectl-fails",
        "`--kubectl` names a program that fails (a wrapper, a wrong binary)",
        (),
        BAD,
        "…/frobnicate does not answer `version -o json` like kubectl (it said: usage: "
        "frobnicate [options] FILE)",
        "point --kubectl or KUBECTL at a real kubectl binary",
        "Point `--kubectl` or `KUBECTL` at a real kubectl binary.",
        Provocation(kubectl=KubectlGiven.FAILING),
    ),
    _run(
        "kubectl-not-executable",
        "`--kubectl` names a file that cannot be run",
        (),
        BAD,
        "…/kubectl: not an executable file",
        "point --kubectl or KUBECTL at a kubectl binary",
        "Point `--kubectl` at the kubectl binary itself (`chmod +x` it if needed).",
        Provocation(kubectl=KubectlGiven.NOT_EXECUTABLE),
    ),
    # -- the kubeconfig and the context -------------------------------------------------------
    _run(
        "kubeconfig-missing",
        "`--kubeconfig` names a file that does not exist",
        (),
        BAD,
        "--kubeconfig …/no-such-kubeconfig: no such file",
        "point --kubeconfig or KUBECONFIG at your cluster's kubeconfig",
        "Point `--kubeconfig` or `KUBECONFIG` at your cluster's kubeconfig "
        "(on minikube: `minikube update-context`).",
        Provocation(kubeconfig=KubeconfigGiven.MISSING),
    ),
    _run(
        "kubeconfig-env-missing",
        "`KUBECONFIG` names a file that does not exist",
        (),
        BAD,
        "KUBECONFIG=…/no-such-kubeconfig: no such file",
        "point --kubeconfig or KUBECONFIG at your cluster's kubeconfig",
        "Fix `KUBECONFIG` (or unset it to use `~/.kube/config`).",
        Provocation(kubeconfig=KubeconfigGiven.MISSING_ENV),
    ),
    _run(
        "kubeconfig-unreadable",
        "The kubeconfig cannot be read (a directory, or no read permission)",
        (),
        BAD,
        "--kubeconfig …: a directory, not a file",
        "point --kubeconfig or KUBECONFIG at your cluster's kubeconfig",
        "Name the kubeconfig file itself, readable by you.",
        Provocation(kubeconfig=KubeconfigGiven.DIRECTORY),
    ),
    _run(
        "kubeconfig-malformed",
        "The kubeconfig is not valid YAML",
        (),
        BAD,
        'error loading config file "…/broken-kubeconfig": yaml: line 2: did not find expected '
        "node content",
        "check the kubeconfig",
        "Repair the file, or get a fresh one from your cluster (on minikube: "
        "`minikube update-context`).",
        Provocation(kubeconfig=KubeconfigGiven.MALFORMED),
    ),
    _run(
        "context-unknown",
        "`--context` names a context the kubeconfig does not have",
        ("--context", "prod-typo"),
        BAD,
        'context "prod-typo" does not exist',
        "kubectl config get-contexts",
        "Pick one of `kubectl config get-contexts`.",
    ),
    # -- the API server -----------------------------------------------------------------------
    _run(
        "server-unreachable",
        "The API server cannot be reached (cluster stopped, wrong address)",
        (),
        REFUSED,
        "The connection to the server 127.0.0.1:… was refused - did you specify the right host "
        "or port?",
        "minikube status",
        "Start the cluster (`minikube start`) or fix the context's server address.",
        Provocation(kubeconfig=KubeconfigGiven.UNREACHABLE),
    ),
    _run(
        "credentials-rejected",
        "The API server rejects the credentials (401, expired token)",
        (),
        REFUSED,
        "You must be logged in to the server",
        "log in again or refresh the kubeconfig",
        "Log in again or refresh the kubeconfig, then run again.",
        Provocation(faults="{unauthorized: true}"),
    ),
    _run(
        "forbidden-verb",
        "RBAC forbids one verb the deploy needs (patch deployments)",
        ("--namespace", "rbac-verb"),
        REFUSED,
        'deployments.apps "postgres" is forbidden: User "minikube-user" cannot patch resource '
        '"deployments"',
        "ask for these permissions",
        "Ask a cluster admin for the permission named in the message.",
        Provocation(faults="{forbidden: [{verb: patch, resource: deployments}]}"),
        see_also=("test_asky_e2e_run_more.py::test_forbidden_is_never_retried_and_fails_at_once",),
    ),
    _run(
        "forbidden-create-kind",
        "RBAC forbids creating one kind of object (preflight's `auth can-i`)",
        ("--namespace", "rbac-kind"),
        REFUSED,
        "not allowed to create networkpolicies.networking.k8s.io in namespace rbac-kind",
        "ask a cluster admin for the permissions listed",
        "Ask a cluster admin for the permission that preflight lists.",
        Provocation(faults="{forbidden: [{verb: create, resource: networkpolicies}]}"),
    ),
    _run(
        "admission-denies-object",
        "An admission webhook or quota denies one new object (403 with its message)",
        (),
        REFUSED,
        'configmaps "extra-settings" is forbidden',
        "if an admission webhook or a quota refused it, change what its message names",
        "Change what the denial's message names, or ask the cluster admin about the policy.",
        Provocation(
            deployed="asky",
            edit=(
                "config-maps/gateway.yaml",
                "---\n",
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra-settings\n"
                f"  labels: {OURS % 'asky'}\ndata: {{a: b}}\n---\n",
            ),
            faults="{forbidden: [{verb: create, resource: configmaps, namespace: asky}]}",
        ),
    ),
    # -- the manifests ------------------------------------------------------------------------
    _run(
        "manifest-yaml-syntax",
        "A manifest is not valid YAML",
        (),
        BAD,
        "services/auth.yaml:17: YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence that began at line 16)",
        "correct the manifest named above",
        "Fix the file at the line shown; nothing was applied.",
        Provocation(edit=("services/auth.yaml", "  type: ClusterIP\n", "  type: [ClusterIP\n")),
    ),
    _run(
        "manifest-unknown-field",
        "A manifest has a field Kubernetes does not know (a typo)",
        (),
        BAD,
        "deployments/gateway.yaml:8: Deployment gateway refused by the server: failed to create "
        "typed patch object (asky/gateway; apps/v1, Kind=Deployment): .spec.revisionHistoryLimt: "
        "field not declared in schema",
        "correct the manifest named above",
        "Fix the field the apiserver names, in the file shown; nothing was applied.",
        # Into the deployed namespace: a new one is validated in "default" instead.
        Provocation(
            edit=("deployments/gateway.yaml", "revisionHistoryLimit:", "revisionHistoryLimt:"),
            deployed="asky",
        ),
        see_also=("test_asky_e2e_run.py::test_typo_in_a_late_manifest_changes_nothing",),
    ),
    _run(
        "manifest-invalid-value",
        "A manifest has a value Kubernetes refuses (422 Invalid)",
        (),
        BAD,
        'services/auth.yaml:3: Service auth refused by the server: The Service "auth" is invalid: '
        "spec.ports[0].port: Invalid value: 80000: must be between 1 and 65535, inclusive",
        "correct the manifest named above",
        "Fix the value the apiserver names, in the file shown; nothing was applied.",
        Provocation(edit=("services/auth.yaml", "      port: 8000\n", "      port: 80000\n")),
    ),
    _run(
        "manifest-unknown-kind",
        "A manifest uses an apiVersion or kind the cluster does not serve",
        (),
        BAD,
        "disruption-budgets/auth.yaml:6: PodDisruptionBudget auth refused by the server: "
        'resource mapping not found for name: "auth" namespace: "asky" from "STDIN": no matches '
        'for kind "PodDisruptionBudget" in version "policy/v1beta1"',
        "correct the manifest named above",
        "Use an apiVersion the cluster serves (`kubectl api-resources`).",
        Provocation(
            edit=(
                "disruption-budgets/auth.yaml",
                "apiVersion: policy/v1\n",
                "apiVersion: policy/v1beta1\n",
            ),
            deployed="asky",
        ),
    ),
    _run(
        "manifest-without-name",
        "A manifest object has no metadata.name",
        (),
        BAD,
        "config-maps/gateway.yaml:14: object without metadata.name",
        "correct the manifest named above",
        "Give the object its name back.",
        Provocation(edit=("config-maps/gateway.yaml", "  name: gateway-config\n", "  nmae: x\n")),
    ),
    _run(
        "deployment-selector-mismatch",
        "A Deployment's selector does not match its pod template's labels",
        (),
        BAD,
        "deployments/auth.yaml:13: Deployment auth: spec.selector "
        "app.kubernetes.io/name=atuh,app.kubernetes.io/instance=asky does not match its pod "
        "template labels",
        "correct the manifest named above",
        "Make `spec.selector.matchLabels` a subset of `spec.template.metadata.labels`.",
        Provocation(
            edit=(
                "deployments/auth.yaml",
                "    matchLabels:\n      app.kubernetes.io/name: auth\n",
                "    matchLabels:\n      app.kubernetes.io/name: atuh\n",
            )
        ),
    ),
    _run(
        "service-selector-mismatch",
        "A Service's selector matches no Deployment's pods (a label typo)",
        (),
        BAD,
        "services/auth.yaml:3: Service auth: selector "
        "app.kubernetes.io/name=atuh,app.kubernetes.io/instance=asky matches no Deployment's pods",
        "compare it with spec.template.metadata.labels",
        "Fix the Service's selector to the labels of the pods it serves.",
        Provocation(
            edit=(
                "services/auth.yaml",
                "  selector:\n    app.kubernetes.io/name: auth\n",
                "  selector:\n    app.kubernetes.io/name: atuh\n",
            )
        ),
        see_also=(
            "test_asky_e2e_run_more.py::test_selector_typo_is_caught_before_anything_changes",
        ),
    ),
    # -- the command line ---------------------------------------------------------------------
    _run(
        "replicas-unknown-service",
        "`--replicas` names a service that does not exist",
        ("--replicas", "nginx=2"),
        BAD,
        "--replicas: unknown service nginx",
        "services are: auth, gateway, postgres, pyxis, request-management",
        "Use one of the service names listed.",
    ),
    _run(
        "set-image-unknown-service",
        "`--set-image` names a service that does not exist",
        ("--set-image", "gatewy=nginx:1.27"),
        BAD,
        "--set-image: unknown service gatewy",
        "services are: auth, gateway, postgres, pyxis, request-management",
        "Use one of the service names listed.",
    ),
    _run(
        "replicas-negative",
        "`--replicas` with a negative number",
        ("--replicas", "auth=-1"),
        BAD,
        "auth: replicas must be a whole number >= 0",
        "whole number >= 0",
        "Give a whole number, 0 or more.",
    ),
    _run(
        "replicas-not-a-number",
        "`--replicas` with something that is not a number",
        ("--replicas", "auth=two"),
        BAD,
        "auth: replicas must be a whole number >= 0",
        "whole number >= 0",
        "Give a whole number, 0 or more.",
    ),
    _run(
        "replicas-database",
        "`--replicas postgres=2` (the database is single-instance)",
        ("--replicas", "postgres=2"),
        BAD,
        "--replicas postgres: at most 1",
        "PostgreSQL runs as a single instance",
        "Keep postgres at 1 (or 0 to stop it).",
    ),
    _run(
        "image-invalid",
        "`--set-image` with a string that is not an image reference",
        ("--set-image", "auth=Asky Auth:latest"),
        BAD,
        "invalid image reference 'Asky Auth:latest'",
        "expected [registry[:port]/]name[:tag][@sha256:digest]",
        "Give `[registry[:port]/]name[:tag][@sha256:digest]`, e.g. `asky-auth:1.1`.",
    ),
    _run(
        "timeout-zero",
        "`--timeout 0`",
        ("--timeout", "0"),
        BAD,
        "argument --timeout: must be more than 0 seconds",
        "more than 0 seconds",
        "Give a number of seconds above 0 (default 300).",
    ),
    _run(
        "timeout-negative",
        "`--timeout -5`",
        ("--timeout=-5",),
        BAD,
        "argument --timeout: must be more than 0 seconds",
        "more than 0 seconds",
        "Give a number of seconds above 0 (default 300).",
    ),
    _run(
        "namespace-invalid",
        "`--namespace` that Kubernetes would refuse",
        ("--namespace", "Asky_Prod"),
        BAD,
        "invalid namespace name 'Asky_Prod'",
        "at most 63 lower-case letters, digits and '-'",
        "Use lower-case letters, digits and `-`.",
    ),
    # -- the cluster's state ------------------------------------------------------------------
    _run(
        "namespace-not-ours",
        "The namespace exists and was made by someone else",
        ("--namespace", "theirs"),
        REFUSED,
        "namespace theirs exists and was not created by asky-scripts",
        "choose another --namespace",
        "Deploy into another `--namespace`; run.py never takes over a namespace it did not make.",
        Provocation(
            objects="{apiVersion: v1, kind: Namespace, metadata: {name: theirs}}\n---\n"
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: app, namespace: theirs}}\n"
        ),
    ),
    _run(
        "namespace-terminating",
        "The namespace is still being deleted (Terminating)",
        ("--namespace", "dying"),
        REFUSED,
        "namespace dying is Terminating",
        "wait until it is gone (terminate.py waits for it)",
        "Wait until it is gone (`terminate.py` waits and says what holds it), then run again.",
        Provocation(
            objects=f"{{apiVersion: v1, kind: Namespace, metadata: {{name: dying, labels: "
            f"{OURS % 'dying'}}}}}\n---\n"
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: held, namespace: dying, "
            "finalizers: [example.com/hold]}}\n",
            commands=(("delete", "namespace", "dying", "--wait=false"),),
        ),
    ),
    _run(
        "volume-not-ours",
        "A PersistentVolume with our volume's name belongs to someone else",
        ("--namespace", "pvtaken"),
        REFUSED,
        "PersistentVolume pvtaken-postgres-data (Available) exists and is not ours",
        "remove or rename it, or deploy with another --namespace",
        "Remove or rename that volume, or deploy with another `--namespace`; it is never touched.",
        Provocation(
            objects="{apiVersion: v1, kind: PersistentVolume, metadata: "
            f"{{name: pvtaken-postgres-data}}, spec: {_PV_SPEC % 'other'}}}\n"
        ),
    ),
    _run(
        "released-volume-not-ours",
        "A Released PersistentVolume with our volume's name is not ours",
        ("--namespace", "pvreleased"),
        REFUSED,
        "PersistentVolume pvreleased-postgres-data (Released) exists and is not ours",
        "remove or rename it, or deploy with another --namespace",
        "Leave it to its owner: deploy with another `--namespace`, or have them remove it.",
        Provocation(
            objects="{apiVersion: v1, kind: Namespace, metadata: {name: elsewhere}}\n---\n"
            "{apiVersion: v1, kind: PersistentVolume, metadata: "
            f"{{name: pvreleased-postgres-data}}, spec: {_PV_SPEC % 'elsewhere'}}}\n---\n"
            "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: data, namespace: "
            f"elsewhere}}, spec: {_CLAIM_SPEC % 'pvreleased-postgres-data'}}}\n",
            commands=(
                ("wait", "pvc/data", "-n", "elsewhere", "--for=jsonpath={.status.phase}=Bound"),
                ("delete", "pvc/data", "-n", "elsewhere"),
                (
                    "wait",
                    "pv/pvreleased-postgres-data",
                    "--for=jsonpath={.status.phase}=Released",
                ),
            ),
        ),
        see_also=(
            "test_asky_e2e_run_more.py::"
            "test_released_volume_whose_secrets_are_gone_is_refused_and_left_alone",
        ),
    ),
    _run(
        "config-edited-by-hand",
        "A ConfigMap we manage was edited by hand (server-side apply conflict)",
        (),
        REFUSED,
        "fields we apply were changed by another field manager: .data.nginx.conf (owned by "
        "kubectl-edit)",
        "run again with --force-conflicts to take the fields back",
        "Put the change into the manifests, or run again with `--force-conflicts`.",
        Provocation(
            deployed="asky",
            commands=(
                (
                    "patch",
                    "configmap",
                    "gateway-config",
                    "-n",
                    "asky",
                    "--type=merge",
                    "--field-manager=kubectl-edit",
                    "-p",
                    '{"data":{"nginx.conf":"# edited by hand"}}',
                ),
            ),
        ),
        resolved_by=("--force-conflicts",),
    ),
    _run(
        "two-runs-at-once",
        "A second run.py on a namespace another run.py is deploying",
        ("--namespace", "busy-run", "--timeout", "2"),
        REFUSED,
        "namespace busy-run is being changed by another run: run.py pid … on … since …",
        "wait for that run to finish and run again",
        "Wait for the other run (this one waits up to `--timeout`); never interleaved.",
        Provocation(concurrent=Concurrent.RUN_PY),
        see_also=("test_asky_e2e_run_more.py::test_two_runs_at_once_take_turns",),
    ),
    # -- terminate.py -------------------------------------------------------------------------
    _terminate(
        "terminate-during-run",
        "terminate.py while run.py is deploying the namespace",
        ("--namespace", "busy-term", "--timeout", "2"),
        REFUSED,
        "namespace busy-term is being changed by another run: run.py pid … on … since …",
        "wait for that run to finish and run again",
        "Wait for run.py to finish (terminate.py waits up to `--timeout`), then run it again.",
        Provocation(concurrent=Concurrent.RUN_PY),
    ),
    _terminate(
        "terminate-namespace-not-ours",
        "terminate.py on a namespace someone else made",
        ("--namespace", "foreign"),
        REFUSED,
        "was not created by asky-scripts",
        "--force deletes it anyway",
        "Check `--namespace` and `--context`; `--force` deletes it anyway, with everything in it.",
        Provocation(
            objects="{apiVersion: v1, kind: Namespace, metadata: {name: foreign}}\n---\n"
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: app, namespace: foreign}}\n"
        ),
        resolved_by=("--force",),
        see_also=(
            "test_asky_terminate_e2e.py::test_a_namespace_someone_else_made_is_refused_and_unchanged",
        ),
    ),
    _terminate(
        "terminate-stuck-finalizer",
        "terminate.py on a namespace held by a finalizer nobody removes",
        ("--namespace", "stuck", "--timeout", "1"),
        ExitCode.TIMEOUT,
        "still present after 1s: Namespace/stuck",
        "--force-finalize",
        "Fix the controller that owns the finalizer, or run again with `--force-finalize`.",
        Provocation(
            objects=f"{{apiVersion: v1, kind: Namespace, metadata: {{name: stuck, labels: "
            f"{OURS % 'stuck'}}}}}\n---\n"
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: held, namespace: stuck, "
            "finalizers: [example.com/hold]}}\n",
            commands=(("delete", "namespace", "stuck", "--wait=false"),),
        ),
        see_also=(
            "test_asky_terminate_e2e.py::test_a_stuck_finalizer_is_explained_and_times_out_with_4",
        ),
    ),
    _terminate(
        "terminate-forbidden-delete",
        "terminate.py when RBAC forbids deleting the namespace",
        ("--namespace", "rbac-delete"),
        REFUSED,
        "nothing was deleted: not allowed to delete namespaces (kubectl auth can-i delete "
        "namespaces)",
        "ask a cluster admin for this permission",
        "Ask a cluster admin for the permission named in the message.",
        Provocation(
            objects=f"{{apiVersion: v1, kind: Namespace, metadata: {{name: rbac-delete, labels: "
            f"{OURS % 'rbac-delete'}}}}}\n---\n"
            "{apiVersion: v1, kind: PersistentVolume, metadata: {name: rbac-delete-postgres-data, "
            f"labels: {OURS % 'rbac-delete'}}}, spec: {_PV_SPEC % 'rbac-delete'}}}\n",
            faults="{forbidden: [{verb: delete, resource: namespaces}]}",
        ),
    ),
    _terminate(
        "terminate-server-unreachable",
        "terminate.py when the API server cannot be reached",
        (),
        REFUSED,
        "The connection to the server 127.0.0.1:… was refused - did you specify the right host "
        "or port?",
        "minikube status",
        "Start the cluster or fix the context's server address; nothing was deleted.",
        Provocation(kubeconfig=KubeconfigGiven.UNREACHABLE),
    ),
    _terminate(
        "terminate-context-unknown",
        "terminate.py with a `--context` the kubeconfig does not have",
        ("--context", "prod-typo"),
        BAD,
        "context was not found for specified context: prod-typo",
        "kubectl config get-contexts",
        "Pick one of `kubectl config get-contexts`.",
    ),
    _terminate(
        "terminate-timeout-zero",
        "terminate.py `--timeout 0`",
        ("--timeout", "0"),
        BAD,
        "argument --timeout: must be more than 0 seconds",
        "more than 0 seconds",
        "Give a number of seconds above 0 (default 300).",
    ),
    _terminate(
        "terminate-namespace-invalid",
        "terminate.py `--namespace` that Kubernetes would refuse",
        ("--namespace", "Asky_Prod"),
        BAD,
        "invalid namespace name 'Asky_Prod'",
        "at most 63 lower-case letters, digits and '-'",
        "Use lower-case letters, digits and `-`.",
    ),
)


@dataclass(frozen=True)
class Elsewhere:
    """A case another end-to-end test provokes and checks; listed so the README shows it too."""

    title: str
    says: str
    exit_codes: tuple[ExitCode, ...]
    fix: str
    #: ``file.py::test_name`` under tests/asky/.
    test: str


#: What the catalogue does not provoke itself (a deploy that fails, the data cycle, faults,
#: interruptions), with the test that checks it: not duplicated here.
COVERED_ELSEWHERE: tuple[Elsewhere, ...] = (
    Elsewhere(
        "A container crash-loops",
        "auth: … CrashLoopBackOff … 78",
        (ExitCode.WORKLOAD_FAILED,),
        "Read the `logs --previous` shown in the report.",
        "test_asky_e2e_run_more.py::test_crash_loop_names_the_exit_code_in_one_line",
    ),
    Elsewhere(
        "A container crashes once at start, then runs (a dependency answered late)",
        "asky is ready in namespace asky",
        (ExitCode.OK,),
        "Nothing: the kubelet restarts it at once, as on a real node; only a second exit "
        "(CrashLoopBackOff) fails the deploy.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_service_that_crashes_once_at_start_then_runs_deploys_with_exit_0",
    ),
    Elsewhere(
        "A container passes its probe, then crashes every time",
        "gateway: CrashLoopBackOff — container gateway exited with code 2",
        (ExitCode.WORKLOAD_FAILED,),
        "Read the `logs --previous` shown; `minReadySeconds: 5` keeps such a pod from counting "
        "as available.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_service_that_crashes_each_time_a_second_after_ready_is_not_called_done",
    ),
    Elsewhere(
        "A local image was never loaded into minikube",
        'auth: ErrImagePull — image "asky-auth:1.0.0" is in no registry the node can reach',
        (ExitCode.WORKLOAD_FAILED,),
        "`minikube image load asky-auth:1.0.0` (or `minikube image build -t asky-auth:1.0.0 "
        "DIR`), or fix `--set-image`.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_local_image_never_loaded_into_minikube_fails_at_once_with_minikube_image_load",
    ),
    Elsewhere(
        "An image tag does not exist",
        'image "asky-auth:… not found: the registry has no such tag',
        (ExitCode.WORKLOAD_FAILED,),
        "Fix the tag with `--set-image`, or load a local build with `minikube image load`.",
        "test_asky_e2e_run.py::test_image_not_found_fails_fast_with_its_cause",
    ),
    Elsewhere(
        "The registry refuses the credentials (401)",
        'the registry refused the credentials for image "asky-auth:1.0.0"',
        (ExitCode.WORKLOAD_FAILED,),
        "Add or fix the imagePullSecret for that registry.",
        "test_asky_e2e_diagnosis.py::"
        "test_refused_registry_credentials_fail_at_once_asking_for_a_pull_secret",
    ),
    Elsewhere(
        "The registry cannot be reached (i/o timeout)",
        'auth: 0/2 ready: ImagePullBackOff: Failed to pull image "asky-auth:1.0.0": … i/o timeout',
        (ExitCode.TIMEOUT,),
        "It may pass: the kubelet retries (10 s, doubling) and run.py waits until `--timeout`; "
        "check the node's network or registry mirror.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_registry_that_stays_unreachable_times_out_naming_the_pull_error",
    ),
    Elsewhere(
        "A readiness or startup probe never passes",
        "pyxis: 0/2 ready: Startup probe failed: dial tcp …:8000: connect: connection refused",
        (ExitCode.TIMEOUT,),
        "The service does not listen on the probed port: read its log in the report.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_probe_that_never_passes_times_out_naming_the_probe_once_per_workload",
    ),
    Elsewhere(
        "A volume names a Secret that does not exist",
        'auth: Secret auth-token-keys does not exist, needed by volume "credentials"',
        (ExitCode.WORKLOAD_FAILED,),
        "Fix the name in the Deployment's volume, or create the Secret.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_projected_secret_or_key_that_does_not_exist_is_named_with_its_volume",
    ),
    Elsewhere(
        "A volume names a Secret key that does not exist",
        'auth: Secret auth-db has no key passwd, needed by volume "credentials"',
        (ExitCode.WORKLOAD_FAILED,),
        "Fix the key in the volume's items, or add it to the Secret.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_projected_secret_or_key_that_does_not_exist_is_named_with_its_volume",
    ),
    Elsewhere(
        "`--replicas` more than the nodes can hold",
        "the stack requests 4672Mi memory (…) but the nodes have 3912Mi free …: short by 760Mi",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Refused before any change: lower `--replicas`, or add capacity.",
        "test_asky_e2e_diagnosis.py::test_replicas_the_node_cannot_hold_are_refused_before_any_change",
    ),
    Elsewhere(
        "A ResourceQuota or LimitRange in the namespace the stack does not fit",
        "ResourceQuota team allows 500m requests.cpu …: short by 150m",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Refused before any change: ask for a larger quota, or lower the requests.",
        "test_asky_e2e_diagnosis.py::"
        "test_a_quota_and_a_limit_range_added_to_the_namespace_are_both_reported",
    ),
    Elsewhere(
        "A container references a ConfigMap key that does not exist",
        "pyxis: … CreateContainerConfigError … couldn't find key log-level",
        (ExitCode.WORKLOAD_FAILED,),
        "Add the key, or fix the reference.",
        "test_asky_e2e_run_more.py::test_missing_config_key_fails_with_create_container_config_error",
    ),
    Elsewhere(
        "A pod, or the whole stack, is bigger than the nodes (or the namespace's quota)",
        "postgres: it requests 250m cpu but the largest node, minikube, has 100m allocatable",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Refused in preflight, before any change: give the node more resources, or lower the "
        "requests or `--replicas`.",
        "test_asky_e2e_run_more.py::"
        "test_a_pod_bigger_than_the_node_fails_at_once_with_the_node_allocatable",
    ),
    Elsewhere(
        "A Service selects pods of the wrong workload",
        "auth: service auth has no ready endpoint although its pods are ready",
        (ExitCode.WORKLOAD_FAILED,),
        "Compare the Service's selector with its Deployment's pod labels.",
        "test_asky_e2e_run_more.py::test_service_without_endpoints_is_caught_by_the_endpoint_check",
    ),
    Elsewhere(
        "A stage is still not ready at `--timeout`",
        "stage services not ready after 3s",
        (ExitCode.TIMEOUT,),
        "The report says what it was still waiting for; raise `--timeout` if it is only slow.",
        "test_asky_e2e_run.py::test_pod_never_ready_times_out_with_exit_4",
    ),
    Elsewhere(
        "A run that died left its deploy lock",
        "namespace asky is being changed by another run: run.py pid … on …",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Wait: a dead run's lock expires within 60 s. If you are sure nobody deploys: "
        "`kubectl delete configmap asky-scripts-lock -n asky`.",
        "test_asky_e2e_run_more.py::test_a_live_lock_makes_the_run_wait_then_refuse_naming_the_holder",
    ),
    Elsewhere(
        "`--kubectl` (or PATH) gives a kubectl older than 1.28",
        "…/kubectl.1.27 is kubectl v1.27.16, older than the kubectl versions asky-scripts "
        "supports and tests (1.28 to 1.37); nothing was changed",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Use a kubectl in the range, ideally your cluster's minor version: on minikube "
        "`minikube kubectl --` gets the matching one.",
        "test_asky_e2e_kubectl_versions.py::"
        "test_a_kubectl_older_than_the_range_is_refused_before_any_change",
    ),
    Elsewhere(
        "kubectl itself fails: it cannot parse what run.py piped, does not know a flag, "
        "crashes or is killed",
        "kubectl v1.30.13 (…) failed on the command asky-scripts gave it: … This is a defect "
        "of asky-scripts or an incompatibility with this kubectl version",
        (ExitCode.KUBECTL_FAILED,),
        "Report it with the command shown and `kubectl version --client`; meanwhile try "
        "another kubectl in the supported range.",
        "cluster/test_kubectl.py::"
        "test_real_kubectl_that_cannot_parse_our_stdin_is_reported_as_our_defect",
    ),
    Elsewhere(
        "A Released volume of ours whose Secrets were deleted by hand",
        "Secrets with that database's passwords are gone",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "Restore the Secrets from your backup, or start over: `kubectl delete pv …` and remove "
        "the host directory (both commands are printed).",
        "test_asky_e2e_run_more.py::"
        "test_released_volume_whose_secrets_are_gone_is_refused_and_left_alone",
    ),
    Elsewhere(
        "terminate.py on a namespace held by a pod that will not stop",
        "PersistentVolumeClaim/postgres-data: still mounted by pod postgres-…",
        (ExitCode.TIMEOUT,),
        "See which pod holds it; run terminate.py again to keep waiting.",
        "test_asky_terminate_e2e.py::test_a_claim_held_by_a_pod_is_explained",
    ),
    Elsewhere(
        "Ctrl-C or SIGTERM during run.py",
        "interrupted during stage services; run again to continue",
        (ExitCode.INTERRUPTED, ExitCode.TERMINATED),
        "Run again: no kubectl is left running and the deploy continues where it stopped.",
        "test_asky_e2e_run.py::test_interrupt_stops_cleanly_and_the_next_run_completes",
    ),
    Elsewhere(
        "Ctrl-C or SIGTERM during terminate.py",
        "run again to continue",
        (ExitCode.INTERRUPTED, ExitCode.TERMINATED),
        "Run terminate.py again: it finishes the teardown.",
        "test_asky_terminate_e2e.py::"
        "test_interrupt_while_waiting_stops_cleanly_and_the_next_run_finishes",
    ),
    Elsewhere(
        "A flaky API server (20 % errors, resets, latency, cut watches)",
        "retry 1: kubectl … (again in …s)",
        (ExitCode.OK,),
        "Nothing: run.py retries with a bounded backoff and `-v` shows each retry.",
        "test_asky_e2e_run_more.py::test_flaky_api_still_deploys_and_every_retry_is_shown",
    ),
    Elsewhere(
        "A flaky API server during terminate.py",
        "retry 1: kubectl … (again in …s)",
        (ExitCode.OK,),
        "Nothing: terminate.py retries the same way.",
        "test_asky_terminate_faults.py::test_flaky_api_still_tears_down_and_every_retry_is_shown",
    ),
    Elsewhere(
        "run.py after terminate.py --keep-data",
        "Skipping initialization",
        (ExitCode.OK,),
        "Nothing: the same volume (same uid), its data and the same Secrets are used again.",
        "test_asky_terminate_e2e.py::test_keep_data_then_run_binds_the_same_volume_with_its_data",
    ),
    Elsewhere(
        "run.py on a cluster where the original run.sh deployed Asky",
        "namespace asky holds a deployment made by the original run.sh",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "`python run.py --adopt` takes it over and keeps its database (see *Coming from run.sh*).",
        "test_asky_adopt_e2e.py::test_run_sh_deployment_is_refused_without_adopt_and_nothing_changes",
    ),
    Elsewhere(
        "run.py --adopt on run.sh's deployment",
        "Skipping initialization",
        (ExitCode.OK,),
        "Nothing: run.sh's database and password are used in place; nothing of run.sh is left.",
        "test_asky_adopt_e2e.py::"
        "test_adopt_takes_over_keeps_the_database_and_a_rerun_changes_nothing",
    ),
    Elsewhere(
        "terminate.py on run.sh's deployment",
        "holds a deployment made by the original run.sh",
        (ExitCode.CLUSTER_UNAVAILABLE,),
        "`python terminate.py --run-sh` removes it as terminate.sh did, or `python run.py "
        "--adopt` takes it over.",
        "test_asky_adopt_e2e.py::test_terminate_refuses_run_sh_deployment_without_the_flag",
    ),
)
