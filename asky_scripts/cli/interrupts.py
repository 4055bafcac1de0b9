"""Ctrl-C and SIGTERM end run.py and terminate.py the same way: kubectl children killed (the
Kubectl wrapper does that on any BaseException), one clear line, exit 130 or 143.

Both commands are safe to run again after an interruption, which is what the line says.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from asky_scripts.errors import ExitCode, Interrupted


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
