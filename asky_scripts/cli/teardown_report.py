"""terminate.py's output: run.py's reports (stages, retries, failures, colour rules) plus the
lines only a teardown has: the plan, one line per object as it disappears, what holds the rest.
"""

from __future__ import annotations

import textwrap

from asky_scripts.cli.output import GREEN, YELLOW, JsonReport, TextReport, format_report
from asky_scripts.errors import FailureReport
from asky_scripts.teardown.plan import Target, TeardownPlan


def plan_lines(plan: TeardownPlan) -> list[tuple[str, str]]:
    """(label, text) pairs describing the plan, shared by the text and JSON forms."""
    lines: list[tuple[str, str]] = []
    contents = f" ({plan.contents[0]})" if plan.contents else ""
    for target in plan.delete:
        if target.kind == "Namespace":
            lines.append(("delete", f"{target.ref} with everything in it{contents}"))
        elif not plan.keep_data:
            lines.append(("delete", target.ref))
    if plan.keep_data and plan.wait:
        lines.append(("delete", f"{len(plan.wait)} objects of ours{contents}"))
    lines.extend(("wait", f"{ref} (already being deleted)") for ref in plan.terminating)
    lines.extend(("not ours", f"{ref} (in the namespace, deleted with it)") for ref in plan.foreign)
    lines.extend(("keep", text) for text in plan.kept)
    lines.extend(("note", text) for text in plan.notes)
    if plan.data_warning:
        lines.append(("data", plan.data_warning))
    return lines


class TeardownTextReport(TextReport):
    """Text for people: the plan first, then a line per object gone, then the summary."""

    states_title = "objects"

    def plan(self, plan: TeardownPlan, context: str) -> None:
        quiet = self._verbosity < 0
        if not quiet:
            self._line(f"terminate: namespace {plan.namespace} in context {context}")
        for label, text in plan_lines(plan):
            if quiet and label != "data":
                continue  # even -q says what happens to the data
            line = textwrap.fill(
                text, width=100, initial_indent=f"  {label + ':':<9} ", subsequent_indent=" " * 12
            )
            self._line(self._paint(YELLOW, line) if label == "data" else line)

    def dry_run_done(self) -> None:
        self._line("dry run: nothing was deleted")

    def nothing_left(self, plan: TeardownPlan, context: str) -> None:
        self._line(
            f"nothing of asky-scripts is left to delete for namespace {plan.namespace} "
            f"in context {context}"
        )
        for text in plan.kept:
            self._line(f"  kept: {text}")

    def gone(self, target: Target, elapsed: float) -> None:
        if self._verbosity >= 0:
            self._line(f"{self._paint(GREEN, self._ok)} deleted {target.ref} ({elapsed:.1f}s)")

    def holding(self, reports: tuple[FailureReport, ...]) -> None:
        if self._verbosity < 0:
            return
        self._line("  still waiting for:")
        for report in reports:
            for line in format_report(report, states_title=self.states_title):
                self._line(f"    {line}")

    def finished(self, plan: TeardownPlan, deleted: int, elapsed: float) -> None:
        self._line(
            self._paint(
                GREEN,
                f"{plan.namespace} terminated in {elapsed:.1f}s: {deleted} "
                f"object{'s' * (deleted != 1)} deleted" + (", data kept" if plan.keep_data else ""),
            )
        )
        if plan.keep_data and self._verbosity >= 0:
            for text in plan.kept:
                self._line(f"  kept: {text}")


class TeardownJsonReport(JsonReport):
    """One JSON object per line, like run.py's ``--output json``."""

    def plan(self, plan: TeardownPlan, context: str) -> None:
        self._emit(
            "plan",
            namespace=plan.namespace,
            context=context,
            keep_data=plan.keep_data,
            delete=[t.ref for t in plan.delete],
            wait=[t.ref for t in plan.wait],
            already_terminating=list(plan.terminating),
            keep=list(plan.kept),
            not_ours=list(plan.foreign),
            notes=list(plan.notes),
            data_warning=plan.data_warning,
        )

    def dry_run_done(self) -> None:
        self._emit("dry_run", message="nothing was deleted")

    def nothing_left(self, plan: TeardownPlan, context: str) -> None:
        self._emit("nothing_left", namespace=plan.namespace, context=context, keep=list(plan.kept))

    def gone(self, target: Target, elapsed: float) -> None:
        self._emit(
            "deleted",
            kind=target.kind,
            name=target.name,
            namespace=target.namespace,
            uid=target.uid,
            elapsed=round(elapsed, 3),
        )

    def holding(self, reports: tuple[FailureReport, ...]) -> None:
        self._emit("holding", reports=[{**vars(r), "logs": []} for r in reports])

    def finished(self, plan: TeardownPlan, deleted: int, elapsed: float) -> None:
        self._emit(
            "summary",
            namespace=plan.namespace,
            deleted=deleted,
            elapsed=round(elapsed, 3),
            keep=list(plan.kept),
        )
