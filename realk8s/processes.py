"""The component processes: started in a session of their own, logged to files, stopped together.

Own sessions keep a Ctrl-C in the terminal away from them: the rig stops them itself, after the
command under test. All get SIGTERM at once and share one grace period before SIGKILL: the
cluster is thrown away, so nothing needs an orderly shutdown, and stopping one after another
cost up to five graces on a loaded machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from contextlib import closing
from pathlib import Path


class ComponentError(Exception):
    """A component exited or never became ready; the message ends with the tail of its log."""


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the kernel picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class Component:
    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )

    def check(self) -> None:
        """Raise when the process has exited (a component never exits by itself)."""
        if self.process is not None and self.process.poll() is not None:
            raise ComponentError(
                f"{self.name} exited with code {self.process.returncode}; "
                f"last lines of {self.log}:\n{log_tail(self.log)}"
            )

    def signal(self, signum: int) -> bool:
        """Send ``signum`` to the component's process group; False when it has already exited."""
        process = self.process
        if process is None or process.poll() is not None:
            return False
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            return False
        return True


def stop_all(components: list[Component], grace: float = 5) -> None:
    """SIGTERM to every component, then SIGKILL to whatever still runs after ``grace``."""
    running = [c for c in components if c.signal(signal.SIGTERM)]
    deadline = time.monotonic() + grace
    for component in running:
        assert component.process is not None
        try:
            component.process.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            component.signal(signal.SIGKILL)
            component.process.wait()
