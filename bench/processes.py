"""Runs one contender as a child process and records what the figures need from it.

Each stdout line is stamped with ``time.monotonic()`` as it arrives (run.py and the peer scripts
flush per line), so stage timelines come from the same clock as kubesim's store recorder.  CPU
time comes from ``os.wait4`` on that one child, which includes every kubectl it reaped, so runs
in parallel threads do not pollute each other.  Memory is sampled from /proc because no rusage
field sums a process tree.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

RSS_SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class TimedRun:
    """One finished child: when it ran, what it printed (stamped) and what it cost."""

    started: float
    ended: float
    returncode: int
    timed_out: bool
    lines: tuple[tuple[float, str], ...]
    stderr: str
    cpu_seconds: float
    own_peak_rss_mb: float | None = None
    tree_peak_rss_mb: float | None = None

    @property
    def wall(self) -> float:
        return self.ended - self.started

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines) + "\n" + self.stderr


@dataclass
class _MemorySampler:
    """Polls the child's own high-water mark and the summed RSS of its process tree."""

    root: int
    own_peak_kb: int = 0
    tree_peak_kb: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(RSS_SAMPLE_SECONDS):
            own = _status_kb(self.root, "VmHWM")
            if own is None:
                return
            self.own_peak_kb = max(self.own_peak_kb, own)
            tree = sum(_status_kb(pid, "VmRSS") or 0 for pid in _tree(self.root))
            self.tree_peak_kb = max(self.tree_peak_kb, tree)


def _status_kb(pid: int, key: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def _tree(root: int) -> list[int]:
    """The root and its descendants (this kernel has no /proc/*/children, so scan parents)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(parents.get(pid, ()))
    return found


def run_timed(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path,
    timeout: float,
    sample_memory: bool = False,
) -> TimedRun:
    """Run to completion, killing the whole process group at ``timeout`` seconds."""
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    stdout, stderr = proc.stdout, proc.stderr
    lines: list[tuple[float, str]] = []
    errors: list[str] = []

    def read_stdout() -> None:
        for line in stdout:
            lines.append((time.monotonic(), line.rstrip("\n")))

    readers = [
        threading.Thread(target=read_stdout, daemon=True),
        threading.Thread(target=lambda: errors.append(stderr.read()), daemon=True),
    ]
    sampler = _MemorySampler(proc.pid)
    if sample_memory:
        readers.append(threading.Thread(target=sampler.run, daemon=True))
    for thread in readers:
        thread.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    ended = time.monotonic()
    timer.cancel()
    sampler.stop.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for thread in readers:
        thread.join(timeout=5)
    stdout.close()
    stderr.close()
    return TimedRun(
        started=started,
        ended=ended,
        returncode=proc.returncode,
        timed_out=timed_out.is_set(),
        lines=tuple(lines),
        stderr="".join(errors),
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        own_peak_rss_mb=sampler.own_peak_kb / 1024 if sample_memory else None,
        tree_peak_rss_mb=sampler.tree_peak_kb / 1024 if sample_memory else None,
    )
