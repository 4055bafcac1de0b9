"""Gathers the evidence for a failure: conditions, container states, Warning events, logs.

Collected once, right when the failure is seen and before anything else happens, so the report
shows the state that caused it; each piece is best-effort, because a report that fails to build
must never hide the failure it is about.
"""

from __future__ import annotations

from collections.abc import Iterable

from asky_scripts.cluster.kubectl import Kubectl
from asky_scripts.cluster.kubectl_errors import KubectlError
from asky_scripts.cluster.objects import Obj, field, kind_of, name_of, status
from asky_scripts.errors import FailureReport
from asky_scripts.readiness.accessors import container_statuses
from asky_scripts.readiness.base import Evidence
from asky_scripts.readiness.events import event_count, event_message, event_time, events_about

LOG_TAIL_LINES = 20
MAX_PODS_REPORTED = 3


def describe_conditions(obj: Obj) -> tuple[str, ...]:
    lines = []
    for cond in status(obj).get("conditions") or []:
        text = f"{cond.get('type')}={cond.get('status')}"
        if cond.get("reason"):
            text += f" {cond['reason']}"
        if cond.get("message"):
            text += f": {cond['message']}"
        lines.append(text)
    return tuple(lines)


def describe_containers(pod: Obj) -> tuple[str, ...]:
    lines = []
    for cs in container_statuses(pod):
        prefix = f"{name_of(pod)}/{cs.get('name')}"
        for label, state in (
            ("", field(cs, "state")),
            ("last ", field(cs, "lastState")),
        ):
            if "waiting" in state:
                w = state["waiting"]
                text = f"{prefix}: {label}waiting {w.get('reason', '')}: {w.get('message', '')}"
                lines.append(text.rstrip(": "))
            if "terminated" in state:
                t = state["terminated"]
                lines.append(
                    f"{prefix}: {label}terminated with exit code {t.get('exitCode')} "
                    f"({t.get('reason', '')}) at {t.get('finishedAt', '?')}"
                )
            if "running" in state and not label:
                lines.append(
                    f"{prefix}: running since {state['running'].get('startedAt', '?')}, "
                    f"ready={cs.get('ready')}, restarts={cs.get('restartCount', 0)}"
                )
    return tuple(lines)


def warning_events(events: Iterable[Obj], subjects: Iterable[Obj]) -> tuple[str, ...]:
    """Warning events about the subjects, de-duplicated by reason and message, oldest first."""
    merged: dict[tuple[str, str], tuple[str, int, str]] = {}
    for subject in subjects:
        for event in events_about(events, subject):
            if event.get("type") != "Warning":
                continue
            key = (str(event.get("reason", "")), event_message(event))
            when, count, _ = merged.get(key, ("", 0, ""))
            merged[key] = (
                max(when, event_time(event)),
                count + event_count(event),
                name_of(subject),
            )
    ordered = sorted(merged.items(), key=lambda item: item[1][0])
    return tuple(
        f"{reason}{f' (x{count})' if count > 1 else ''} on {who}: {message}"
        for (reason, message), (_, count, who) in ordered
    )


def collect(
    kubectl: Kubectl, namespace: str, evidence: Evidence, *, cause: str, hint: str
) -> FailureReport:
    """The full report for one failing object, its related objects (ReplicaSet) and pods."""
    subject, related = evidence.subject, evidence.related
    reported_pods = sorted(evidence.pods, key=name_of)[:MAX_PODS_REPORTED]
    try:
        events = kubectl.get_items(["get", "events", "-n", namespace])
    except KubectlError as exc:
        events = []
        event_lines: tuple[str, ...] = (f"(events unavailable: {exc.message})",)
    else:
        event_lines = warning_events(events, [subject, *related, *reported_pods])
    states: list[str] = []
    logs: list[tuple[str, str]] = []
    for pod in reported_pods:
        states.extend(describe_containers(pod))
        logs.extend(_logs(kubectl, namespace, pod))
    conditions = describe_conditions(subject) + tuple(
        f"{name_of(pod)}: {line}"
        for pod in reported_pods
        for line in describe_conditions(pod)
        if not line.split(" ", 1)[0].endswith("=True")  # healthy conditions say nothing
    )
    return FailureReport(
        subject=f"{kind_of(subject)}/{name_of(subject)}",
        cause=cause,
        hint=hint,
        conditions=conditions,
        states=tuple(states),
        events=event_lines,
        logs=tuple(logs),
    )


def _logs(kubectl: Kubectl, namespace: str, pod: Obj) -> list[tuple[str, str]]:
    """``logs --previous`` of crashed containers and the current tail of started ones."""
    found: list[tuple[str, str]] = []
    for cs in container_statuses(pod):
        container = str(cs.get("name"))
        state = field(cs, "state")
        wanted = []
        if int(cs.get("restartCount") or 0) > 0 or field(cs, "lastState").get("terminated"):
            wanted.append(("previous", ["--previous"]))
        if "running" in state or "terminated" in state:
            wanted.append(("current", []))
        for label, extra in wanted:
            args = ["logs", name_of(pod), "-n", namespace, "-c", container]
            args += [*extra, f"--tail={LOG_TAIL_LINES}"]
            try:
                text = kubectl.run(args).rstrip()
            except KubectlError as exc:
                text = f"(log unavailable: {exc.message})"
            found.append((f"{name_of(pod)}/{container} ({label} log)", text or "(empty)"))
    return found
