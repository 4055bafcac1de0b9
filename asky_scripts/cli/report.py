"""run.py's output: the shared reports of output.py plus the lines only a deploy has.

Text: on a terminal, one live line showing the resource being waited for; the summary table
and the gateway's address at the end.  JSON: one line per resource change, the diff, the
dry run's objects and the summary.
"""

from __future__ import annotations

from asky_scripts.cli.output import GREEN, YELLOW, JsonReport, TextReport
from asky_scripts.deploy.summary import Summary
from asky_scripts.readiness.verdict import Failed, Ready, Verdict, Waiting


def _state(verdict: Verdict) -> tuple[str, str]:
    if isinstance(verdict, Ready):
        return "ready", verdict.detail
    if isinstance(verdict, Waiting):
        return "waiting", verdict.reason
    return "failed", verdict.cause


class DeployTextReport(TextReport):
    """Text for people: a line per stage, the resource waited for, the summary table."""

    def resource(self, stage: str, kind: str, name: str, verdict: Verdict) -> None:
        state, detail = _state(verdict)
        text = f"  {stage}: {kind}/{name} {state}" + (f": {detail}" if detail else "")
        if isinstance(verdict, Waiting) and verdict.warning:
            self._line(self._paint(YELLOW, f"  warning: {name}: {verdict.warning}"))
        if self._live and not isinstance(verdict, Failed):
            self._show_live(text[:150])
        elif self._verbosity > 0:
            self._line(text)

    def diff(self, text: str, changed: bool) -> None:
        if text:
            self._line(text)
        self._line("differences found" if changed else "no differences")

    def dry_run(self, stages: list[tuple[str, list[str]]]) -> None:
        self._line("dry run: every object validated by the server; nothing was changed")
        for stage, objects in stages:
            self._line(f"  {stage}: {', '.join(objects) or '-'}")

    def summary(self, summary: Summary, elapsed: float) -> None:
        ready = f"asky is ready in namespace {summary.namespace} ({elapsed:.1f}s)"
        if self._verbosity < 0:
            self._line(ready)
            return
        rows = [("NAME", "READY", "TYPE", "PORTS")] + [
            (r.name, r.ready, r.service_type, r.ports) for r in summary.rows
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
            self._line("  " + "  ".join(cells).rstrip())
        if summary.load_balancer_pending:
            via = (
                f"; meanwhile via the node port: {summary.gateway_url}"
                if summary.gateway_url
                else ""
            )
            self._line(
                self._paint(
                    YELLOW,
                    "gateway: LoadBalancer external address pending (on minikube, run "
                    "`minikube tunnel` in another terminal)" + via,
                )
            )
        elif summary.gateway_url:
            self._line(f"gateway: {summary.gateway_url}")
        self._line(f"on minikube: {summary.minikube_hint}")
        self._line(self._paint(GREEN, ready))


class DeployJsonReport(JsonReport):
    """One JSON object per line on stdout, like the teardown's ``--output json``."""

    def resource(self, stage: str, kind: str, name: str, verdict: Verdict) -> None:
        state, detail = _state(verdict)
        extra = (
            {"warning": verdict.warning} if isinstance(verdict, Waiting) and verdict.warning else {}
        )
        self._emit(
            "resource", stage=stage, kind=kind, name=name, status=state, detail=detail, **extra
        )

    def diff(self, text: str, changed: bool) -> None:
        self._emit("diff", changed=changed, diff=text)

    def dry_run(self, stages: list[tuple[str, list[str]]]) -> None:
        self._emit("dry_run", stages={stage: objects for stage, objects in stages})

    def summary(self, summary: Summary, elapsed: float) -> None:
        self._emit(
            "summary",
            namespace=summary.namespace,
            elapsed=round(elapsed, 3),
            workloads=[vars(row) for row in summary.rows],
            gateway_url=summary.gateway_url,
            load_balancer_pending=summary.load_balancer_pending,
            minikube_hint=summary.minikube_hint,
        )
