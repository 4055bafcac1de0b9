"""The component processes: started in a session of their own, logged to files, stopped together.

Own sessions keep a Ctrl-C in the terminal away from them: the rig stops them itself, after the
command under test. All get SIGTERM at once and share one grace period before SIGKILL: the
cluster is thrown away, so nothing needs an orderly shutdown, and stopping one after another
cost up to five graces on a loaded machine. Each component also dies with the process that
started it (``PR_SET_PDEATHSIG``): a rig killed with SIGKILL, which can clean nothing up, leaves
no control plane running behind it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

# prctl(2) option: the signal the kernel sends this process when its parent dies.
PR_SET_PDEATHSIG = 1


class ComponentError(Exception):
    """A component exited or never became ready; the message ends with the tail of its log."""


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on now (the kernel picks it)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that has the kernel SIGKILL the child when the starting thread exits.

    Linux only, as the rig; libc's ``prctl`` is looked up here, in the parent, so the child runs
    no more Python than the call itself between fork and exec. A parent that died before the
    call leaves the child to init: then the child exits at once instead of serving nobody.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def set_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)

    return set_death_signal


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
                # Safe with threads here: the child runs one foreign call and one getppid, and
                # takes no lock another thread could hold (CPython remakes the GIL after fork).
                preexec_fn=_die_with_parent(),  # noqa: PLW1509
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
