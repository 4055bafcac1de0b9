"""A ``kubectl`` that logs each invocation and then becomes the real one.

kubesim's request log does not say which process sent a request, so the number of kubectl
processes a contender spawns is counted here instead.  ``exec`` keeps the process tree and exit
codes exactly as without the shim; the cost is one /bin/sh start (about a millisecond) per call,
which is why only the figures that report counts use it.
"""

from __future__ import annotations

import shlex
from pathlib import Path


class CountingKubectl:
    """Creates the shim in ``directory``; ``calls()`` reads how many times it ran since."""

    def __init__(self, real: Path, directory: Path) -> None:
        self.path = directory / "kubectl"
        self.log = directory / "kubectl-calls.log"
        self.log.write_text("")
        self.path.write_text(
            "#!/bin/sh\n"
            f'printf "%s\\n" "$1" >> {shlex.quote(str(self.log))}\n'
            f'exec {shlex.quote(str(real))} "$@"\n'
        )
        self.path.chmod(0o755)

    def calls(self) -> list[str]:
        """The first argument (the verb) of every invocation, in order."""
        return self.log.read_text().splitlines()

    def reset(self) -> None:
        self.log.write_text("")
