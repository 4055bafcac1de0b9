"""A Kubectl whose process is scripted, for unit tests of the tasks and the watcher.

Only the process is fake: argument building, retries and the classification of kubectl's
errors are the product's own.  Each rule answers the calls whose arguments (after the global
flags) start with its words; a rule with ``times`` answers that many calls and is then used
up, so a test can script a sequence (pending, then ready).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asky_scripts.cluster.kubectl import Kubectl


@dataclass
class Rule:
    words: tuple[str, ...]
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    times: int | None = None
    #: Computes the answer's stdout from the call (arguments, stdin) instead of ``stdout``.
    respond: Callable[[tuple[str, ...], str | None], str] | None = None


@dataclass
class FakeRunner:
    rules: list[Rule] = field(default_factory=list)
    #: Every call, without the global flags: (arguments, stdin).
    calls: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)

    def on(
        self,
        *words: str,
        stdout: str | dict[str, Any] = "",
        returncode: int = 0,
        stderr: str = "",
        times: int | None = None,
        respond: Callable[[tuple[str, ...], str | None], str] | None = None,
    ) -> FakeRunner:
        text = json.dumps(stdout) if isinstance(stdout, dict) else stdout
        self.rules.append(Rule(words, returncode, text, stderr, times, respond))
        return self

    def __call__(self, argv: tuple[str, ...], stdin: str | None) -> tuple[int, str, str]:
        args = tuple(a for a in argv if not a.startswith(("--request-timeout=", "--context=")))
        self.calls.append((args, stdin))
        for rule in self.rules:
            if args[: len(rule.words)] == rule.words and rule.times != 0:
                if rule.times is not None:
                    rule.times -= 1
                out = rule.respond(args, stdin) if rule.respond else rule.stdout
                return rule.returncode, out, rule.stderr
        return 1, "", f"error: the fake kubectl has no answer for: kubectl {' '.join(args)}"

    def commands(self) -> list[str]:
        """The calls as ``verb resource`` words, for asserting what was asked and in what order."""
        return [" ".join(args[:2]) for args, _ in self.calls]


def fake_kubectl(runner: FakeRunner) -> Kubectl:
    return Kubectl("kubectl", runner=runner, max_attempts=2)


def items(*objects: dict[str, Any]) -> dict[str, Any]:
    """A ``kubectl get -o json`` List answer."""
    return {"apiVersion": "v1", "kind": "List", "items": list(objects)}
