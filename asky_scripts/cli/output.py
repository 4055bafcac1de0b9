"""What run.py's and terminate.py's reports have in common: text for people, JSON lines for tools.

Text: one line per stage with its elapsed time, the kubectl commands with -v, retries, and the
failure paragraph on stderr so stdout stays the progress log; colour only on a terminal and never
with NO_COLOR.  JSON: one object per line, ``event`` saying which kind, so CI can follow a run
without parsing prose.  The deploy's and the teardown's own lines are in report.py and
teardown_report.py, as subclasses of these two.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from typing import Any, TextIO

from asky_scripts.cluster.kubectl import RetryNotice
from asky_scripts.cluster.kubectl_errors import KubectlError, KubectlFailedError
from asky_scripts.errors import AskyError, FailureReport

GREEN, RED, YELLOW, DIM, RESET = "\033[32m", "\033[31m", "\033[33m", "\033[2m", "\033[0m"


def wants_color(stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return stream.isatty() and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"


def command_line(argv: tuple[str, ...]) -> str:
    return "kubectl " + " ".join(a for a in argv if not a.startswith("--request-timeout"))


def interrupted_message(stage: str) -> str:
    return f"interrupted during stage {stage}; run again to continue"


def format_report(
    report: FailureReport,
    already_said: tuple[str, str] = ("", ""),
    states_title: str = "containers",
) -> list[str]:
    """The evidence block; the cause and fix are left out when the error line already said them."""
    message, hint = already_said
    lines = [
        f"{report.subject}:" if report.cause in message else f"{report.subject}: {report.cause}"
    ]
    for title, items in (
        ("conditions", report.conditions),
        (states_title, report.states),
        ("warning events", report.events),
    ):
        if items:
            lines.append(f"  {title}:")
            lines.extend(f"    {item}" for item in items)
    for title, text in report.logs:
        lines.append(f"  log {title}:")
        lines.extend(f"    | {line}" for line in text.splitlines())
    if report.hint and report.hint != hint:
        lines.append(f"  fix: {report.hint}")
    return lines


class TextReport:
    """Human output; the failure report goes to stderr so stdout stays the progress log."""

    #: The heading of FailureReport.states: containers for a deploy, objects for a teardown.
    states_title = "containers"

    def __init__(
        self, out: TextIO, err: TextIO, *, color: bool, live: bool, verbosity: int
    ) -> None:
        self._out, self._err = out, err
        self._color, self._live, self._verbosity = color, live, verbosity
        self._live_shown = False
        # The lock's renewal thread reports its kubectl commands too: one line at a time.
        self._mutex = threading.Lock()
        encoding = (getattr(out, "encoding", None) or "").lower()
        self._ok, self._bad = ("✓", "✗") if "utf" in encoding else ("ok", "FAILED")

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{RESET}" if self._color else text

    def _clear_live(self) -> None:
        if self._live_shown:
            self._out.write("\r\033[K")
            self._live_shown = False

    def _line(self, text: str, stream: TextIO | None = None) -> None:
        with self._mutex:
            self._clear_live()
            print(text, file=stream or self._out, flush=True)

    def _show_live(self, text: str) -> None:
        """The one line on a terminal that is overwritten by the next."""
        self._clear_live()
        self._out.write(self._paint(DIM, text))
        self._out.flush()
        self._live_shown = True

    def stage_started(self, stage: str) -> None:
        if self._live:
            self._show_live(f"… {stage}")

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None:
        if self._verbosity >= 0:
            mark = self._paint(GREEN, self._ok)
            self._line(f"{mark} {stage:<14} {elapsed:6.2f}s  {detail}".rstrip())

    def note(self, stage: str, message: str, *, warning: bool = False) -> None:
        if warning:
            self._line(self._paint(YELLOW, f"  warning: {message}"), self._err)
        elif self._verbosity >= 0:
            self._line(f"  {message}")

    def command(self, argv: tuple[str, ...]) -> None:
        if self._verbosity > 0:
            self._line(f"  $ {command_line(argv)}", self._err)

    def retry(self, notice: RetryNotice) -> None:
        if self._verbosity > 0:
            self._line(
                f"  retry {notice.attempt}: {command_line(notice.argv)[:100]}: "
                f"{notice.error.message.splitlines()[0] if notice.error.message else ''} "
                f"(again in {notice.delay:.1f}s)",
                self._err,
            )

    def failure(self, error: AskyError, stage: str, elapsed: float) -> None:
        self._line(self._paint(RED, f"{self._bad} {stage:<14} {elapsed:6.2f}s"), self._err)
        self._line(self._paint(RED, f"error: {error.message}"), self._err)
        for report in error.reports:
            for line in format_report(
                report, already_said=(error.message, error.hint), states_title=self.states_title
            ):
                self._line(line, self._err)
        if error.hint:
            self._line(f"hint: {error.hint}", self._err)
        # kubectl's own failure is always shown with its command: the user is asked to report it.
        if isinstance(error, KubectlFailedError) or (
            isinstance(error, KubectlError) and self._verbosity > 0
        ):
            self._line(f"  command: kubectl {' '.join(error.argv)}", self._err)

    def interrupted(self, stage: str, exit_code: int) -> None:
        self._line(interrupted_message(stage), self._err)


class JsonReport:
    """One JSON object per line on stdout; ``event`` says which kind of line it is."""

    def __init__(self, out: TextIO, *, verbosity: int) -> None:
        self._out = out
        self._verbosity = verbosity
        self._mutex = threading.Lock()

    def _emit(self, event: str, **fields: Any) -> None:
        record = {"event": event, "time": round(time.time(), 3), **fields}
        with self._mutex:
            print(json.dumps(record, sort_keys=False), file=self._out, flush=True)

    def command(self, argv: tuple[str, ...]) -> None:
        if self._verbosity > 0:
            self._emit("command", argv=["kubectl", *argv])

    def stage_started(self, stage: str) -> None:
        self._emit("stage", stage=stage, status="started")

    def stage_done(self, stage: str, elapsed: float, detail: str) -> None:
        self._emit("stage", stage=stage, status="done", elapsed=round(elapsed, 3), detail=detail)

    def note(self, stage: str, message: str, *, warning: bool = False) -> None:
        self._emit("note", stage=stage, level="warning" if warning else "info", message=message)

    def retry(self, notice: RetryNotice) -> None:
        self._emit(
            "retry",
            attempt=notice.attempt,
            delay=round(notice.delay, 3),
            argv=list(notice.argv),
            error=notice.error.message,
        )

    def failure(self, error: AskyError, stage: str, elapsed: float) -> None:
        self._emit(
            "failure",
            stage=stage,
            elapsed=round(elapsed, 3),
            exit_code=int(error.exit_code),
            message=error.message,
            hint=error.hint,
            **(
                {"command": ["kubectl", *error.argv]}
                if isinstance(error, KubectlFailedError)
                else {}
            ),
            reports=[
                {**vars(r), "logs": [{"title": t, "text": x} for t, x in r.logs]}
                for r in error.reports
            ],
        )

    def interrupted(self, stage: str, exit_code: int) -> None:
        self._emit(
            "interrupted", stage=stage, exit_code=exit_code, message=interrupted_message(stage)
        )
