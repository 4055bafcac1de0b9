"""How every run of run.py and terminate.py ends: the one place that turns an error into what
the user reads and the exit code scripts rely on (pre-commit's ``error_handler`` in shape).

- A typed error (AskyError and its kinds: bad input, cluster refused, timeout, kubectl itself
  failed, ...) is one paragraph from the report (``failure``) and its own exit code (ExitCode).
- Ctrl-C and SIGTERM take the same path: kubectl children are killed (the Kubectl wrapper does
  that on any BaseException), one line says the command is safe to run again, exit 130 or 143.
- Output closed early (``python run.py | head -1``): no traceback, nothing more written, exit
  141 like a Unix tool killed by SIGPIPE (Python ignores SIGPIPE and raises BrokenPipeError
  instead, and would print a traceback and "Exception ignored" at exit).

Anything else is a defect and keeps its traceback.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Protocol, TextIO

from asky_scripts.errors import AskyError, ExitCode, Interrupted

#: What a shell reports for a process killed by SIGPIPE: 128 + 13.
OUTPUT_CLOSED = 128 + signal.SIGPIPE


class ReportsEndings(Protocol):
    """The part of a report that says how a run ended badly."""

    def failure(self, error: AskyError, stage: str, elapsed: float) -> None: ...

    def interrupted(self, stage: str, exit_code: int) -> None: ...


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """SIGTERM takes the same path as Ctrl-C, raised as Interrupted in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def interrupted_exit_code(exc: BaseException) -> ExitCode:
    """143 for SIGTERM, 130 for Ctrl-C (and for a kubectl child killed from outside)."""
    if isinstance(exc, Interrupted) and exc.signal_number == signal.SIGTERM:
        return ExitCode.TERMINATED
    return ExitCode.INTERRUPTED


def run_reported(
    task: Callable[[], int],
    report: ReportsEndings,
    stage: Callable[[], str],
    started: float,
) -> int:
    """Runs a command's task; a typed error or an interruption is reported as happening in
    ``stage()`` and becomes the exit code.  The only ``except`` of the commands."""
    try:
        with sigterm_raises():
            return task()
    except AskyError as exc:
        report.failure(exc, stage(), time.monotonic() - started)
        return int(exc.exit_code)
    except (KeyboardInterrupt, Interrupted) as exc:
        code = interrupted_exit_code(exc)
        report.interrupted(stage(), int(code))
        return int(code)


def quiet_when_output_closed(main: Callable[[], int], *streams: TextIO) -> int:
    """Runs ``main``; when the reader of its output went away, ends quietly with 141."""
    try:
        code = main()
        for stream in streams:
            stream.flush()  # here, not at exit where a closed pipe could only be ignored noisily
        return code
    except BrokenPipeError:
        for stream in streams:
            _discard(stream)
        return OUTPUT_CLOSED


def _discard(stream: TextIO) -> None:
    """Points the stream's file at /dev/null, so what is still buffered is not flushed into the
    closed pipe at exit (the Python documentation's recipe for SIGPIPE)."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError):
        return  # not a file (a test's StringIO): nothing is flushed at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
