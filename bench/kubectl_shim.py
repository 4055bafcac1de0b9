"""A ``kubectl`` that runs the real one and logs each invocation: its start, end, exit code and
arguments.

kubesim's request log does not say which process sent a request, so the kubectl processes a
contender spawns are counted and timed here instead.  The shim is a bash script (``$EPOCHREALTIME``
is a builtin, so stamping forks nothing) that runs the real kubectl as its child, in the same
process group, so a caller's ``killpg`` still reaches it; stdin is passed through unchanged.  Its
cost is one bash start (a couple of milliseconds) per call, which is why only the figures that
report counts, and figure 1's separate traced runs, use it.  Stamps are wall-clock
(``time.time()``); ``Call.start``/``Call.end`` convert them to ``time.monotonic()``, the clock of
``processes.run_timed`` and the store recorder.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Call:
    """One finished kubectl process, stamped on the monotonic clock."""

    start: float
    end: float
    returncode: int
    args: tuple[str, ...]

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def verb(self) -> str:
        return self.args[0] if self.args else ""


class CountingKubectl:
    """Creates the shim in ``directory``; ``calls()`` reads the invocations finished since."""

    def __init__(self, real: Path, directory: Path) -> None:
        self.path = directory / "kubectl"
        self.log = directory / "kubectl-calls.log"
        self.log.write_text("")
        log = shlex.quote(str(self.log))
        # One printf per call (under PIPE_BUF, O_APPEND): lines of concurrent calls never mix.
        # Tabs separate the fields; arguments with a tab or newline would not, kubectl's don't.
        self.path.write_text(
            "#!/bin/bash\n"
            "start=$EPOCHREALTIME\n"
            f'{shlex.quote(str(real))} "$@"\n'
            "rc=$?\n"
            "IFS=$'\\t'\n"
            f'printf \'%s\\t%s\\t%s\\t%s\\n\' "$start" "$EPOCHREALTIME" "$rc" "$*" >> {log}\n'
            "exit $rc\n"
        )
        self.path.chmod(0o755)
        # Wall clock minus monotonic clock, to put the shim's stamps on the bench's clock.
        self._offset = time.time() - time.monotonic()

    def calls(self) -> list[str]:
        """The first argument (the verb) of every invocation, in the order they ended."""
        return [call.verb for call in self.timed_calls()]

    def timed_calls(self, origin: float = 0.0) -> list[Call]:
        """Every finished invocation, in the order they started, in seconds from ``origin`` (an
        instant of ``time.monotonic()``, say a run's start)."""
        offset = self._offset + origin
        calls = []
        for line in self.log.read_text().splitlines():
            start, end, code, *args = line.split("\t")
            calls.append(
                Call(
                    float(start) - offset,
                    float(end) - offset,
                    int(code),
                    () if args == [""] else tuple(args),
                )
            )
        return sorted(calls, key=lambda call: call.start)

    def reset(self) -> None:
        self.log.write_text("")
